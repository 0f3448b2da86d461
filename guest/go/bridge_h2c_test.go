//go:build go1.24 && !tinygo

package wasmgate

import (
	"net/http"
	"testing"
)

// Transport.Protocols (Go 1.24) can ask for HTTP/2 without TLS; the bridge speaks
// HTTP/1.1 only, so the request fails and nothing is sent (net/http's HTTP/2 client
// reports its own error, not the bridge's).
func TestBridgeRefusesUnencryptedHTTP2(t *testing.T) {
	rt := &handlerRT{fn: echoRT}
	tr, _ := bridged(rt)
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetUnencryptedHTTP2(true)
	if _, err := (&http.Client{Transport: tr}).Get("http://example.com/"); err == nil {
		t.Error("h2c: no error")
	}
	if rt.count() != 0 {
		t.Errorf("rt saw %d requests, want none", rt.count())
	}
}
