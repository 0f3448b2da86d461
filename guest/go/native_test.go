//go:build !wasip1 && !wasip2

package wasmgate

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// Natively Install changes nothing: the same program runs natively and under wasmgate.
func TestInstallIsANoOpNatively(t *testing.T) {
	oldDefault, oldClient := http.DefaultTransport, http.DefaultClient.Transport
	Install()
	Install()
	if http.DefaultTransport != oldDefault || http.DefaultClient.Transport != oldClient {
		t.Fatalf("Install changed the transports: %T, %T", http.DefaultTransport, http.DefaultClient.Transport)
	}
	// The common idiom keeps working.
	_ = http.DefaultTransport.(*http.Transport).Clone()
}

func TestUseReturnsTheTransportNatively(t *testing.T) {
	tr := &http.Transport{MaxIdleConns: 3}
	if rt := Use(tr); rt != http.RoundTripper(tr) {
		t.Errorf("Use(t) = %T, want t", rt)
	}
	if rt := Use(nil); rt != http.DefaultTransport {
		t.Errorf("Use(nil) = %T, want http.DefaultTransport", rt)
	}
}

// Outside a WASI host the transport fails with an error (never a panic) and still
// closes the request body, as http.RoundTripper requires.
func TestRoundTripOutsideWasmgateIsAnError(t *testing.T) {
	body := &trackedBody{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest("POST", "http://127.0.0.1:1/", body)
	_, err := (&Transport{}).RoundTrip(req)
	var wgErr *Error
	if !errors.As(err, &wgErr) || wgErr.Code != ErrUnsupported || !strings.Contains(wgErr.Message, "wasip1") {
		t.Fatalf("err = %v", err)
	}
	if strings.Count(err.Error(), "wasmgate:") != 1 || !strings.HasPrefix(err.Error(), "wasmgate: ") {
		t.Errorf("prefix not exactly once: %q", err)
	}
	if !body.closed {
		t.Errorf("request body not closed")
	}
}
