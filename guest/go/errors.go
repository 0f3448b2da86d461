package wasmgate

import (
	"context"
	"errors"
	"fmt"
)

// Status codes of the host ABI (docs/abi.md, "Status codes"). A failed call returns
// one of them; RoundTrip reports them as an *Error whose Code is the value. The
// wasip2 (wasi:http) backend maps wasi:http error codes onto the same constants (the
// table in docs/abi.md), so the predicates below work on every target.
const (
	ErrBadHandle               = -1
	ErrBadPointer              = -2
	ErrBadUTF8                 = -3
	ErrBadMethod               = -4
	ErrBadURL                  = -5
	ErrBadHeader               = -6
	ErrForbiddenHeader         = -7
	ErrTooManyHandles          = -8
	ErrWrongState              = -9
	ErrNotReady                = -10
	ErrInvalidArgument         = -11
	ErrNotFound                = -12
	ErrNoAllocator             = -13
	ErrBadAllocator            = -14
	ErrReentrant               = -15
	ErrDenied                  = -20
	ErrDestinationIPProhibited = -21
	ErrDNS                     = -22
	ErrConnectionRefused       = -23
	ErrConnectionTimeout       = -24
	ErrTLSProtocol             = -25
	ErrTLSCertificate          = -26
	ErrRequestBodySize         = -27
	ErrResponseBodySize        = -28
	ErrResponseTimeout         = -29
	ErrReadTimeout             = -30
	ErrLimitReached            = -31
	ErrProtocol                = -32
	ErrInternal                = -33
	ErrTooManyRedirects        = -34
	ErrNotRecorded             = -35

	// ErrUnsupported is not a host code: the program was built for a target without
	// a WASI HTTP host (a native build), where a Transport cannot send anything.
	ErrUnsupported = -1000
)

var codeNames = map[int]string{
	ErrBadHandle:               "ERR_BAD_HANDLE",
	ErrBadPointer:              "ERR_BAD_POINTER",
	ErrBadUTF8:                 "ERR_BAD_UTF8",
	ErrBadMethod:               "ERR_BAD_METHOD",
	ErrBadURL:                  "ERR_BAD_URL",
	ErrBadHeader:               "ERR_BAD_HEADER",
	ErrForbiddenHeader:         "ERR_FORBIDDEN_HEADER",
	ErrTooManyHandles:          "ERR_TOO_MANY_HANDLES",
	ErrWrongState:              "ERR_WRONG_STATE",
	ErrNotReady:                "ERR_NOT_READY",
	ErrInvalidArgument:         "ERR_INVALID_ARGUMENT",
	ErrNotFound:                "ERR_NOT_FOUND",
	ErrNoAllocator:             "ERR_NO_ALLOCATOR",
	ErrBadAllocator:            "ERR_BAD_ALLOCATOR",
	ErrReentrant:               "ERR_REENTRANT",
	ErrDenied:                  "ERR_DENIED",
	ErrDestinationIPProhibited: "ERR_DESTINATION_IP_PROHIBITED",
	ErrDNS:                     "ERR_DNS",
	ErrConnectionRefused:       "ERR_CONNECTION_REFUSED",
	ErrConnectionTimeout:       "ERR_CONNECTION_TIMEOUT",
	ErrTLSProtocol:             "ERR_TLS_PROTOCOL",
	ErrTLSCertificate:          "ERR_TLS_CERTIFICATE",
	ErrRequestBodySize:         "ERR_REQUEST_BODY_SIZE",
	ErrResponseBodySize:        "ERR_RESPONSE_BODY_SIZE",
	ErrResponseTimeout:         "ERR_RESPONSE_TIMEOUT",
	ErrReadTimeout:             "ERR_READ_TIMEOUT",
	ErrLimitReached:            "ERR_LIMIT_REACHED",
	ErrProtocol:                "ERR_PROTOCOL",
	ErrInternal:                "ERR_INTERNAL",
	ErrTooManyRedirects:        "ERR_TOO_MANY_REDIRECTS",
	ErrNotRecorded:             "ERR_NOT_RECORDED",
	ErrUnsupported:             "ERR_UNSUPPORTED",
}

// CodeName is the name of an ABI status code as docs/abi.md spells it, e.g.
// CodeName(ErrDenied) == "ERR_DENIED".
func CodeName(code int) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	return fmt.Sprintf("ERR_%d", code)
}

// Error is a failed host call. RoundTrip returns it (http.Client wraps it in a
// *url.Error), so errors.As(err, &wgErr) finds it.
type Error struct {
	// Code is the (negative) ABI status code, one of the Err* constants.
	Code int
	// Op is the host function that failed, e.g. "response_status" (wasip1) or
	// "outgoing-handler.handle" (wasip2).
	Op string
	// Message is the host's explanation (last_error on wasip1). For a wasmgate policy
	// denial it is the line wasmgate prints, including the --allow flag that would
	// permit the request. It never starts with "wasmgate: " (Error adds that).
	Message string
	// WASIErrorCode is the case name of the wasi:http error-code the host returned,
	// e.g. "HTTP-request-denied" or "connection-refused". Only the wasip2 (wasi:http)
	// backend sets it; Code then holds the matching Err* constant (ErrInternal when
	// there is none).
	WASIErrorCode string
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "failed"
	}
	if e.WASIErrorCode != "" {
		return fmt.Sprintf("wasmgate: %s (%s %d, wasi:http %s)", msg, CodeName(e.Code), e.Code, e.WASIErrorCode)
	}
	return fmt.Sprintf("wasmgate: %s (%s %d)", msg, CodeName(e.Code), e.Code)
}

// Timeout reports whether the request failed because a timeout passed (connect,
// first byte or between bytes), so url.Error.Timeout and net.Error users see it.
func (e *Error) Timeout() bool {
	switch e.Code {
	case ErrConnectionTimeout, ErrResponseTimeout, ErrReadTimeout:
		return true
	}
	return false
}

// Temporary is part of the net.Error interface; no wasmgate failure is temporary.
func (e *Error) Temporary() bool { return false }

// Is makes errors.Is(err, &wasmgate.Error{Code: wasmgate.ErrDenied}) match by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Op == "" && t.Message == ""
}

// CodeOf returns the ABI status code carried by err (through any wrapping), or 0 if
// err is not a wasmgate error.
func CodeOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// IsDenied reports whether err is (or wraps) a request refused by wasmgate's egress
// policy. The error's message names the --allow flag that would permit it.
func IsDenied(err error) bool {
	c := CodeOf(err)
	return c == ErrDenied || c == ErrDestinationIPProhibited
}

// IsTimeout reports whether err is (or wraps) a wasmgate timeout.
func IsTimeout(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Timeout()
}

// ctxError wraps the context's error, so errors.Is(err, context.Canceled) and
// errors.Is(err, context.DeadlineExceeded) hold.
type ctxError struct{ err error }

func (e *ctxError) Error() string   { return "wasmgate: request cancelled: " + e.err.Error() }
func (e *ctxError) Unwrap() error   { return e.err }
func (e *ctxError) Timeout() bool   { return errors.Is(e.err, context.DeadlineExceeded) }
func (e *ctxError) Temporary() bool { return false }
