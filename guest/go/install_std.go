//go:build (wasip1 || wasip2) && !tinygo

package wasmgate

import (
	"net/http"
	"sync"
)

var (
	installOnce sync.Once
	// stdDefault is net/http's own default transport, taken before main runs, so
	// Install reaches it even after http.DefaultTransport was wrapped.
	stdDefault, _ = http.DefaultTransport.(*http.Transport)
)

// Install makes net/http send through the WASI host by default. With mainline Go it
// registers wasmgate's Transport for http and https on net/http's default
// *http.Transport (see Use), also when http.DefaultTransport was wrapped before, so
// http.DefaultTransport stays a *http.Transport, and http.Get, http.DefaultClient and
// every client without a Transport of its own go through the host.
//
// Clones of it taken after Install (http.DefaultTransport.(*http.Transport).Clone())
// go through the host too: Clone drops registered protocols but copies DialContext
// and DialTLSContext, which Install points at in-memory connections whose HTTP/1.1
// requests a *Transport sends (bridge.go; README.md says what differs: the
// destination is the dialled host:port, failures arrive as the *Error wrapped by
// net/http, Response.Proto is HTTP/1.1). For them Install also sets the default
// transport's Proxy to nil and ForceAttemptHTTP2 to false. Transports built from
// scratch, and clones whose dialers are replaced, need Use. It is idempotent. Call it
// at the start of main.
func Install() {
	installOnce.Do(func() {
		if stdDefault != nil {
			rt := Use(stdDefault)
			routeClones(stdDefault, &Transport{})
			if rt != http.RoundTripper(stdDefault) && http.DefaultTransport == http.RoundTripper(stdDefault) {
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
// Typical use, for a transport built from scratch or one an SDK made (a clone of
// http.DefaultTransport taken after Install needs no Use, but takes it):
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
