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

// Go's Clone copies exported fields only, not registered protocols, so Install also
// points the dialers, which Clone copies, at the bridge (bridge.go): a clone of the
// Install-ed default transport reaches wasmgate over them, while the transport itself
// keeps using its registered RoundTripper. If a Go release makes Clone copy registered
// protocols, clones no longer need the bridge (README.md says why it is there).
func TestClonesReachWasmgateOverTheDialers(t *testing.T) {
	tr := &http.Transport{}
	registered := &fakeRT{}
	register(tr, registered)
	bridgedRT := &handlerRT{fn: func(r *http.Request) (*http.Response, error) { return textResponse(r, 200, "ok"), nil }}
	routeClones(tr, bridgedRT)

	if !register(tr.Clone(), &fakeRT{}) {
		t.Fatal("the clone already had http/https registered: Go's Clone now copies them; update README.md")
	}
	clone := tr.Clone()
	if clone.TLSNextProto == nil || len(clone.TLSNextProto) != 0 || clone.ForceAttemptHTTP2 || clone.Proxy != nil {
		t.Error("the clone may negotiate HTTP/2 or use a proxy")
	}
	clone.MaxIdleConns = 7 // an SDK's tuning changes nothing
	for _, u := range []string{"http://example.com/a", "https://example.com/b"} {
		resp, err := (&http.Client{Transport: clone}).Get(u)
		if err != nil {
			t.Fatalf("%s through the clone: %v", u, err)
		}
		resp.Body.Close()
		if got := bridgedRT.last().URL.String(); got != u {
			t.Errorf("the bridge sent %s, want %s", got, u)
		}
	}
	req, _ := http.NewRequest("GET", "http://example.com/", nil)
	if _, err := tr.RoundTrip(req); !errors.Is(err, errFake) {
		t.Errorf("the transport itself: err = %v, want its registered RoundTripper's", err)
	}
	if bridgedRT.count() != 2 || registered.n != 1 {
		t.Errorf("bridge saw %d, registered RoundTripper %d; want 2 and 1", bridgedRT.count(), registered.n)
	}
}
