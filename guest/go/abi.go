package wasmgate

import (
	"encoding/binary"
	"net/http"
)

// The parts of wasmgate's host ABI (docs/abi.md) that are pure Go: constants and the
// serialized header list. No build tag, so they are unit-tested natively.

// Flags, options and readiness bits of docs/abi.md.
const (
	sendBodyStream = 1

	optConnectTimeoutMs      = 1
	optFirstByteTimeoutMs    = 2
	optBetweenBytesTimeoutMs = 3

	readyResponse = 1
	readyBody     = 2
	readyWrite    = 4
	readyInvalid  = 128
)

// parseHeaders decodes entries of name_len (u32 LE), name, value_len (u32 LE), value.
func parseHeaders(b []byte) (http.Header, error) {
	h := http.Header{}
	for len(b) > 0 {
		name, rest, ok := lengthPrefixed(b)
		if !ok {
			return nil, errMalformedHeaders
		}
		value, rest, ok := lengthPrefixed(rest)
		if !ok {
			return nil, errMalformedHeaders
		}
		h.Add(string(name), string(value))
		b = rest
	}
	return h, nil
}

var errMalformedHeaders = &Error{Code: ErrInternal, Op: "response_headers", Message: "malformed header list from the host"}

func lengthPrefixed(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	if uint64(n) > uint64(len(b)) {
		return nil, nil, false
	}
	return b[:n], b[n:], true
}
