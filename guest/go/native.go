//go:build !wasip1 && !wasip2

package wasmgate

import "net/http"

// A native build (or any target without a WASI HTTP host): Install and Use leave
// net/http's own transport in place, so the same program runs natively and under
// wasmgate without build tags; only a Transport used directly reports an error.

const unsupportedMessage = "wasmgate.Transport needs a WebAssembly build run by a WASI HTTP host (GOOS=wasip1 or TinyGo -target=wasip1 under wasmgate, TinyGo -target=wasip2); this build is native: use net/http's transport (wasmgate.Install and wasmgate.Use leave it in place)"

func (t *Transport) roundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, &Error{Code: ErrUnsupported, Op: "RoundTrip", Message: unsupportedMessage}
}

// Install makes net/http send through the WASI host by default. In this native build
// it does nothing: net/http's own transport stays in place.
func Install() {}

// Use makes t send through the WASI host and returns the RoundTripper to put in an
// http.Client. In this native build it returns t unchanged (http.DefaultTransport for
// a nil t).
func Use(t *http.Transport) http.RoundTripper {
	if t == nil {
		return http.DefaultTransport
	}
	return t
}
