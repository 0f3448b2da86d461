//go:build (wasip1 || wasip2) && tinygo

package wasmgate

import "net/http"

// TinyGo's http.Transport is an empty struct that cannot be told to use anything
// else, and its http.Client ignores http.DefaultTransport unless the client's own
// Transport is set; so here wasmgate's Transport replaces both.

// Install makes net/http send through the WASI host by default. With TinyGo it sets
// http.DefaultTransport and http.DefaultClient.Transport to a *Transport. It is
// idempotent. Call it at the start of main.
func Install() {
	t := &Transport{}
	http.DefaultTransport = t
	http.DefaultClient.Transport = t
}

// Use returns the RoundTripper to put in an http.Client instead of t: with TinyGo a
// new *Transport (TinyGo's http.Transport has no settings to keep).
//
//	client := &http.Client{Transport: wasmgate.Use(&http.Transport{})}
func Use(t *http.Transport) http.RoundTripper {
	return &Transport{}
}
