package wasmgate

import (
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func entry(name, value string) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, uint32(len(name)))
	b = append(b, name...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(value)))
	return append(b, value...)
}

func TestParseHeaders(t *testing.T) {
	var b []byte
	b = append(b, entry("content-type", "text/plain")...)
	b = append(b, entry("set-cookie", "a=1")...)
	b = append(b, entry("set-cookie", "b=2")...)
	b = append(b, entry("x-empty", "")...)
	h, err := parseHeaders(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("Content-Type"); got != "text/plain" {
		t.Errorf("content-type = %q", got)
	}
	if got := h.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
		t.Errorf("set-cookie = %q", got)
	}
	if _, ok := h["X-Empty"]; !ok {
		t.Errorf("empty header lost: %v", h)
	}
	for _, bad := range [][]byte{{1, 0, 0}, entry("a", "b")[:6], append(entry("a", "b"), 9, 0, 0, 0, 'x')} {
		if _, err := parseHeaders(bad); err == nil {
			t.Errorf("parseHeaders(%v) accepted a truncated list", bad)
		}
	}
}

func TestErrorsThroughURLError(t *testing.T) {
	var err error = &url.Error{Op: "Get", URL: "http://x/", Err: &Error{Code: ErrDenied, Op: "response_status", Message: "denied GET http://x/: to allow it, add: --allow http://x"}}
	var wgErr *Error
	if !errors.As(err, &wgErr) || wgErr.Code != ErrDenied {
		t.Fatalf("errors.As failed: %v", err)
	}
	if !IsDenied(err) || IsTimeout(err) || CodeOf(err) != -20 {
		t.Errorf("predicates wrong for %v", err)
	}
	if !errors.Is(err, &Error{Code: ErrDenied}) {
		t.Errorf("errors.Is by code failed")
	}
	if !strings.Contains(err.Error(), "--allow http://x") || !strings.Contains(err.Error(), "ERR_DENIED") {
		t.Errorf("message: %v", err)
	}
	timeout := &url.Error{Op: "Get", URL: "http://x/", Err: &Error{Code: ErrResponseTimeout}}
	if !IsTimeout(timeout) || !timeout.Timeout() {
		t.Errorf("timeout not reported")
	}
	if CodeName(ErrTooManyRedirects) != "ERR_TOO_MANY_REDIRECTS" || CodeName(-99) != "ERR_-99" {
		t.Errorf("CodeName")
	}
}

func TestInstallSetsBothTransports(t *testing.T) {
	oldDefault, oldClient := http.DefaultTransport, http.DefaultClient.Transport
	defer func() { http.DefaultTransport, http.DefaultClient.Transport = oldDefault, oldClient }()
	Install()
	if _, ok := http.DefaultTransport.(*Transport); !ok {
		t.Errorf("http.DefaultTransport is %T", http.DefaultTransport)
	}
	if _, ok := http.DefaultClient.Transport.(*Transport); !ok {
		t.Errorf("http.DefaultClient.Transport is %T", http.DefaultClient.Transport)
	}
}

type trackedBody struct {
	io.Reader
	closed bool
}

func (b *trackedBody) Close() error { b.closed = true; return nil }

// Outside wasmgate the transport fails with an error (never a panic) and still
// closes the request body, as http.RoundTripper requires.
func TestRoundTripOutsideWasmgateIsAnError(t *testing.T) {
	body := &trackedBody{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest("POST", "http://127.0.0.1:1/", body)
	_, err := (&Transport{}).RoundTrip(req)
	var wgErr *Error
	if !errors.As(err, &wgErr) || wgErr.Code != errUnsupported || !strings.Contains(wgErr.Message, "wasip1") {
		t.Fatalf("err = %v", err)
	}
	if !body.closed {
		t.Errorf("request body not closed")
	}
}

func TestBackoffYieldsBeforeWaitingInTheHost(t *testing.T) {
	var b backoff
	for i := 0; i < spinYields; i++ {
		b.wait(1, readyBody)
	}
	if b.n != spinYields {
		t.Errorf("yields counted %d, want %d", b.n, spinYields)
	}
	b.wait(1, readyBody) // waits in the host (unsupported natively: returns at once)
	if b.n != spinYields {
		t.Errorf("host waits must not count as yields: %d", b.n)
	}
	b.reset()
	if b.n != 0 {
		t.Errorf("reset left %d", b.n)
	}
}
