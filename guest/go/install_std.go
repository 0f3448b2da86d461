//go:build (wasip1 || wasip2) && !tinygo

package wasmgate

import (
	"net/http"
	"sync"
)

var installOnce sync.Once

// Install makes net/http send through the WASI host by default. With mainline Go it
// registers wasmgate's Transport for http and https on http.DefaultTransport (see
// Use), so http.DefaultTransport stays a *http.Transport, and http.Get,
// http.DefaultClient and every client without a Transport of its own go through the
// host. It is idempotent. Call it at the start of main.
func Install() {
	installOnce.Do(func() {
		// A DefaultTransport that is no longer a *http.Transport was replaced (say,
		// wrapped for tracing) before Install: that is the caller's choice; its
		// inner transport is out of reach (call Install before wrapping it).
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			if rt := Use(t); rt != http.RoundTripper(t) {
				// http and https were taken on it: replace it outright rather than
				// let requests bypass the host.
				http.DefaultTransport = rt
			}
		}
		// A nil DefaultClient.Transport means http.DefaultTransport, done above.
		if c, ok := http.DefaultClient.Transport.(*http.Transport); ok && http.RoundTripper(c) != http.DefaultTransport {
			http.DefaultClient.Transport = Use(c)
		}
	})
}

// Use makes t send its http and https requests through the WASI host and returns the
// RoundTripper to put in an http.Client: with mainline Go, t itself, on which
// wasmgate's Transport is registered for both schemes (RegisterProtocol); t's dialing,
// TLS and proxy settings are then unused. If t already had RoundTrippers registered
// for them (HTTP/2 set up by earlier use, or an earlier Use), Use returns a new
// *Transport instead, which sends the same way. A nil t gets a new *Transport.
//
// Typical use, for a transport built from scratch or a clone:
//
//	client := &http.Client{Transport: wasmgate.Use(&http.Transport{MaxIdleConns: 10})}
//	client := &http.Client{Transport: wasmgate.Use(http.DefaultTransport.(*http.Transport).Clone())}
func Use(t *http.Transport) http.RoundTripper {
	if t == nil {
		return &Transport{}
	}
	if !register(t, &Transport{}) {
		return &Transport{}
	}
	return t
}
