package wasmgate

import "fmt"

// The wasi:http@0.2.0 error-code variant, case by case in its WIT order (the
// discriminant the host writes is the index), with the Err* constant each maps to
// (docs/abi.md, "Status codes", has the same table from the other side). No build
// tag: the table is plain data, unit-tested natively.
var wasiErrorCodes = [...]struct {
	name string
	code int
}{
	{"DNS-timeout", ErrDNS},
	{"DNS-error", ErrDNS},
	{"destination-not-found", ErrDNS},
	{"destination-unavailable", ErrConnectionRefused},
	{"destination-IP-prohibited", ErrDestinationIPProhibited},
	{"destination-IP-unroutable", ErrConnectionRefused},
	{"connection-refused", ErrConnectionRefused},
	{"connection-terminated", ErrProtocol},
	{"connection-timeout", ErrConnectionTimeout},
	{"connection-read-timeout", ErrReadTimeout},
	{"connection-write-timeout", ErrReadTimeout},
	{"connection-limit-reached", ErrLimitReached},
	{"TLS-protocol-error", ErrTLSProtocol},
	{"TLS-certificate-error", ErrTLSCertificate},
	{"TLS-alert-received", ErrTLSProtocol},
	{"HTTP-request-denied", ErrDenied},
	{"HTTP-request-length-required", ErrProtocol},
	{"HTTP-request-body-size", ErrRequestBodySize},
	{"HTTP-request-method-invalid", ErrBadMethod},
	{"HTTP-request-URI-invalid", ErrBadURL},
	{"HTTP-request-URI-too-long", ErrBadURL},
	{"HTTP-request-header-section-size", ErrBadHeader},
	{"HTTP-request-header-size", ErrBadHeader},
	{"HTTP-request-trailer-section-size", ErrProtocol},
	{"HTTP-request-trailer-size", ErrProtocol},
	{"HTTP-response-incomplete", ErrProtocol},
	{"HTTP-response-header-section-size", ErrProtocol},
	{"HTTP-response-header-size", ErrProtocol},
	{"HTTP-response-body-size", ErrResponseBodySize},
	{"HTTP-response-trailer-section-size", ErrProtocol},
	{"HTTP-response-trailer-size", ErrProtocol},
	{"HTTP-response-transfer-coding", ErrProtocol},
	{"HTTP-response-content-coding", ErrProtocol},
	{"HTTP-response-timeout", ErrResponseTimeout},
	{"HTTP-upgrade-failed", ErrProtocol},
	{"HTTP-protocol-error", ErrProtocol},
	{"loop-detected", ErrTooManyRedirects},
	{"configuration-error", ErrInternal},
	{"internal-error", ErrInternal},
}

// Discriminants of error-code cases the transport looks at.
const (
	wasiDNSError           = 1
	wasiTLSAlertReceived   = 14
	wasiRequestDenied      = 15
	wasiRequestBodySize    = 17
	wasiRequestHeaderSize  = 22
	wasiResponseBodySize   = 28
	wasiInternalError      = 38
	wasiErrorCodeCaseCount = len(wasiErrorCodes)
)

// wasiDefaultMessages explain the cases whose payload (if any) says little.
var wasiDefaultMessages = map[int]string{
	ErrDenied:                  "the host's egress policy refused the request",
	ErrDestinationIPProhibited: "the host refused the address the name resolved to",
	ErrConnectionRefused:       "could not connect",
	ErrConnectionTimeout:       "connecting timed out",
	ErrResponseTimeout:         "no response head within the first-byte timeout",
	ErrReadTimeout:             "the connection stalled longer than the between-bytes timeout",
	ErrLimitReached:            "the host's request limit was reached",
	ErrTLSCertificate:          "the server's certificate is not trusted",
	ErrRequestBodySize:         "the request body is larger than the host allows (or than its Content-Length)",
	ErrResponseBodySize:        "the response body is larger than the host allows",
	ErrTooManyRedirects:        "the host detected a request loop",
	ErrDNS:                     "name resolution failed",
	ErrTLSProtocol:             "the TLS handshake failed",
	ErrBadURL:                  "the host refused the URL",
	ErrBadMethod:               "the host refused the method",
	ErrBadHeader:               "the host refused the request's headers",
	ErrProtocol:                "the connection failed or the server's HTTP was invalid",
	ErrInternal:                "the host failed",
}

// newWASIError builds the *Error for error-code case tag. detail is what the case's
// payload says ("" if nothing); target ("scheme://authority") names the destination
// in the message.
func newWASIError(op string, tag int, detail, target string) *Error {
	if tag < 0 || tag >= wasiErrorCodeCaseCount {
		return &Error{Code: ErrInternal, Op: op, Message: fmt.Sprintf("unknown wasi:http error-code case %d", tag)}
	}
	c := wasiErrorCodes[tag]
	msg := detail
	if msg == "" {
		msg = wasiDefaultMessages[c.code]
	}
	if msg == "" {
		msg = "request failed"
	}
	if tag == wasiRequestDenied && target != "" {
		// wasi:http carries no explanation: say what was refused and how to allow it.
		msg = fmt.Sprintf("%s to %s (under wasmgate, `--allow %s` permits it)", msg, target, target)
	} else if target != "" {
		msg += " (" + target + ")"
	}
	return &Error{Code: c.code, Op: op, Message: msg, WASIErrorCode: c.name}
}
