//go:build !tinygo

package wasmgate

import (
	"crypto/tls"
	"net/http"
)

// Mainline Go: a *http.Transport hands requests for a scheme to the RoundTripper
// registered with RegisterProtocol before it dials anything. Registering wasmgate's
// Transport for "http" and "https" therefore routes a transport's requests through the
// host while http.DefaultTransport stays a *http.Transport, so code that type-asserts
// it keeps working. (Clone does not copy registered protocols; clones of the default
// transport reach the host over its dialers instead, see bridge.go.)

// register makes t hand http and https requests to rt. It reports false if t already
// has a RoundTripper for one of them (RegisterProtocol would panic; wasmgate's own
// earlier registration on the same transport counts too).
func register(t *http.Transport, rt http.RoundTripper) bool {
	if t.TLSNextProto == nil {
		// The documented way to turn off the bundled HTTP/2, which would otherwise
		// try to register itself for "https" on first use (and log that it could not).
		t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return tryRegister(t, "http", rt) && tryRegister(t, "https", rt)
}

func tryRegister(t *http.Transport, scheme string, rt http.RoundTripper) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	t.RegisterProtocol(scheme, rt)
	return true
}
