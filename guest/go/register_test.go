//go:build !tinygo

package wasmgate

import (
	"errors"
	"net/http"
	"testing"
)

// fakeRT answers every request with errFake, counting them.
type fakeRT struct{ n int }

var errFake = errors.New("fake round trip")

func (f *fakeRT) RoundTrip(req *http.Request) (*http.Response, error) {
	f.n++
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, errFake
}

// What Install and Use do with mainline Go, checked natively on a fresh transport.
func TestRegisterRoutesBothSchemes(t *testing.T) {
	tr := &http.Transport{}
	rt := &fakeRT{}
	if !register(tr, rt) {
		t.Fatal("register failed on a fresh transport")
	}
	for _, u := range []string{"http://127.0.0.1:1/", "https://127.0.0.1:1/"} {
		req, _ := http.NewRequest("GET", u, nil)
		if _, err := tr.RoundTrip(req); !errors.Is(err, errFake) {
			t.Errorf("%s: err = %v, want the registered RoundTripper's", u, err)
		}
	}
	if rt.n != 2 {
		t.Errorf("registered RoundTripper saw %d requests, want 2", rt.n)
	}
	// A second registration on the same transport reports failure instead of panicking.
	if register(tr, &fakeRT{}) {
		t.Error("second register succeeded")
	}
}

// Go's Clone copies exported fields only, not registered protocols: a clone of an
// Install-ed http.DefaultTransport needs Use (documented in README.md). If a Go
// release changes this, the README can say clones are covered.
func TestCloneDoesNotCarryRegisteredProtocols(t *testing.T) {
	tr := &http.Transport{}
	rt := &fakeRT{}
	register(tr, rt)
	clone := tr.Clone()
	if !register(clone, rt) {
		t.Fatal("the clone already had http/https registered: Go's Clone now copies them; update README.md")
	}
	if clone.TLSNextProto == nil {
		t.Error("the clone lost the empty TLSNextProto that keeps HTTP/2 from registering")
	}
}
