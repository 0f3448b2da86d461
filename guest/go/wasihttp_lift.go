//go:build wasip2

package wasmgate

import (
	"fmt"
	"net/http"
	"strings"
	"unsafe"
)

// Lifting results the host wrote into memory (allocated through
// cabi_import_realloc, see wasihttp_realloc.go).

// liftErrorCode decodes the error-code at p (32 bytes, 8-aligned): a u8 case @0 and
// the payload @8. It returns the case and a description of the payload.
//
// Payload layouts (offsets from p):
//   - option<string> (internal-error, HTTP-response-*-coding): is-some @8, (ptr, len) @12
//   - DNS-error-payload: rcode option<string> @8 (string @12), info-code option<u16> @20 (u16 @22)
//   - TLS-alert-received-payload: alert-id option<u8> @8 (u8 @9),
//     alert-message option<string> @12 (string @16)
//   - option<u64> (HTTP-request/response-body-size): is-some @8, u64 @16
//   - option<u32> (…-section-size): is-some @8, u32 @12
//   - field-size-payload (…-trailer-size, HTTP-response-header-size): field-name
//     option<string> @8 (string @12), field-size option<u32> @20 (u32 @24)
//   - option<field-size-payload> (HTTP-request-header-size): is-some @8, the record @12
func liftErrorCode(p unsafe.Pointer) (tag int, detail string) {
	tag = int(load8(p, 0))
	optString := func(off uintptr) (string, bool) {
		if load8(p, off) == 0 {
			return "", false
		}
		return loadString(p, off+4), true
	}
	fieldSize := func(off uintptr) string {
		var parts []string
		if name, ok := optString(off); ok {
			parts = append(parts, "field "+name)
		}
		if load8(p, off+12) != 0 {
			parts = append(parts, fmt.Sprintf("size %d", load32(p, off+16)))
		}
		return strings.Join(parts, ", ")
	}
	switch tag {
	case wasiDNSError:
		var parts []string
		if rcode, ok := optString(8); ok {
			parts = append(parts, rcode)
		}
		if load8(p, 20) != 0 {
			parts = append(parts, fmt.Sprintf("info-code %d", load16(p, 22)))
		}
		if len(parts) > 0 {
			detail = "DNS error: " + strings.Join(parts, ", ")
		}
	case wasiTLSAlertReceived:
		var parts []string
		if load8(p, 8) != 0 {
			parts = append(parts, fmt.Sprintf("alert %d", load8(p, 9)))
		}
		if msg, ok := optString(12); ok {
			parts = append(parts, msg)
		}
		detail = "TLS alert received"
		if len(parts) > 0 {
			detail += ": " + strings.Join(parts, ", ")
		}
	case wasiRequestBodySize, wasiResponseBodySize:
		if load8(p, 8) != 0 {
			what := "request"
			if tag == wasiResponseBodySize {
				what = "response"
			}
			detail = fmt.Sprintf("the %s body exceeded the host's limit (%d bytes)", what, load64(p, 16))
		}
	case 21, 23, 26, 29: // option<u32>: header/trailer section sizes
		if load8(p, 8) != 0 {
			detail = fmt.Sprintf("%s (%d bytes)", wasiErrorCodes[tag].name, load32(p, 12))
		}
	case wasiRequestHeaderSize:
		if load8(p, 8) != 0 {
			detail = fieldSize(12)
		}
	case 24, 27, 30: // field-size-payload
		detail = fieldSize(8)
	case 31, 32, wasiInternalError: // option<string>
		detail, _ = optString(8)
	}
	return tag, detail
}

// liftStreamError turns the stream-error at p (u8 case @0, error handle @4) into a Go
// error, taking ownership of (and dropping) the wasi:io error resource. closed is
// true for the "closed" case, which is the end of a stream rather than a failure.
func liftStreamError(p unsafe.Pointer, op, target string) (closed bool, err error) {
	if load8(p, 0) == 1 {
		return true, nil
	}
	h := load32(p, 4)
	defer wasiErrorDrop(h)
	var r retArea
	wasiHTTPErrorCode(h, r.ptr())
	if load8(r.ptr(), 0) != 0 {
		tag, detail := liftErrorCode(unsafe.Add(r.ptr(), 8))
		return false, newWASIError(op, tag, detail, target)
	}
	var s retArea
	wasiErrorToDebugString(h, s.ptr())
	msg := loadString(s.ptr(), 0)
	if msg == "" {
		msg = "stream failed"
	}
	return false, &Error{Code: ErrProtocol, Op: op, Message: msg + " (" + target + ")"}
}

// liftFields copies the entries of fields h into an http.Header.
func liftFields(h uint32) http.Header {
	var r retArea
	wasiFieldsEntries(h, r.ptr())
	list := loadPtr(r.ptr(), 0)
	n := uintptr(load32(r.ptr(), 4))
	header := make(http.Header, n)
	for i := uintptr(0); i < n; i++ {
		e := unsafe.Add(list, 16*i)
		header.Add(loadString(e, 0), loadString(e, 8))
	}
	releaseImportPins()
	return header
}
