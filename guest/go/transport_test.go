package wasmgate

import (
	"context"
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

func TestPrepare(t *testing.T) {
	body := &trackedBody{Reader: strings.NewReader("abc")}
	req, _ := http.NewRequest("POST", "http://u:p@127.0.0.1:1/x?q=1#frag", body)
	req.ContentLength = 3
	req.Header.Set("Connection", "close")
	req.Header.Set("X-Keep", "1")
	o, err := prepare(req)
	if err != nil {
		t.Fatal(err)
	}
	if o.method != "POST" || o.url != "http://127.0.0.1:1/x?q=1" {
		t.Errorf("method/url = %q %q", o.method, o.url)
	}
	if _, ok := o.header["Connection"]; ok {
		t.Errorf("host-managed header kept: %v", o.header)
	}
	if o.header.Get("Authorization") != "Basic dTpw" || o.header.Get("Content-Length") != "3" ||
		o.header.Get("User-Agent") != defaultUserAgent || o.header.Get("X-Keep") != "1" {
		t.Errorf("header = %v", o.header)
	}
	if o.body != io.ReadCloser(body) || body.closed {
		t.Errorf("body not handed over")
	}
	if got := sortedHeaderNames(o.header); strings.Join(got, ",") != "Authorization,Content-Length,User-Agent,X-Keep" {
		t.Errorf("sortedHeaderNames = %v", got)
	}

	req, _ = http.NewRequest("PUT", "http://127.0.0.1:1/", nil)
	req.Header.Set("User-Agent", "")
	o, _ = prepare(req)
	if o.body != nil || o.header.Get("Content-Length") != "0" {
		t.Errorf("empty PUT: %+v", o)
	}
	if _, ok := o.header["User-Agent"]; ok {
		t.Errorf("empty User-Agent means none: %v", o.header)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	body = &trackedBody{Reader: strings.NewReader("x")}
	req, _ = http.NewRequestWithContext(ctx, "POST", "http://127.0.0.1:1/", body)
	if _, err := prepare(req); !errors.Is(err, context.Canceled) || !body.closed {
		t.Errorf("cancelled: err %v, body closed %v", err, body.closed)
	}
}

func TestNewResponse(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://127.0.0.1:1/", nil)
	resp, hasBody := newResponse(req, "GET", 200, http.Header{"Content-Length": {"5"}, "Transfer-Encoding": {"chunked"}})
	if !hasBody || resp.Status != "200 OK" || resp.ContentLength != 5 || resp.Proto != "HTTP/1.1" ||
		len(resp.TransferEncoding) != 1 || resp.Header.Get("Transfer-Encoding") != "" || resp.Request != req {
		t.Errorf("200: %+v", resp)
	}
	for _, c := range []struct {
		method string
		status int
		length int64
	}{{"HEAD", 200, 7}, {"GET", 204, 0}, {"GET", 304, 0}, {"GET", 101, 0}} {
		resp, hasBody := newResponse(req, c.method, c.status, http.Header{"Content-Length": {"7"}})
		if hasBody || resp.Body != http.NoBody || resp.ContentLength != c.length {
			t.Errorf("%s %d: hasBody %v, length %d", c.method, c.status, hasBody, resp.ContentLength)
		}
	}
	setProto(resp, 20)
	if resp.Proto != "HTTP/2.0" || resp.ProtoMajor != 2 || resp.ProtoMinor != 0 {
		t.Errorf("h2: %s", resp.Proto)
	}
	setProto(resp, 10)
	if resp.Proto != "HTTP/1.0" || resp.ProtoMinor != 0 {
		t.Errorf("1.0: %s", resp.Proto)
	}
	setProto(resp, -9) // an error code leaves it
	if resp.Proto != "HTTP/1.0" {
		t.Errorf("error code changed Proto: %s", resp.Proto)
	}
	if statusLine(599) != "599" {
		t.Errorf("statusLine(599) = %q", statusLine(599))
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Code: ErrDenied, Op: "outgoing-handler.handle", Message: "denied", WASIErrorCode: "HTTP-request-denied"}
	if got := e.Error(); got != "wasmgate: denied (ERR_DENIED -20, wasi:http HTTP-request-denied)" {
		t.Errorf("Error() = %q", got)
	}
	if CodeName(ErrUnsupported) != "ERR_UNSUPPORTED" || ErrUnsupported != -1000 {
		t.Errorf("ErrUnsupported")
	}
}

type trackedBody struct {
	io.Reader
	closed bool
}

func (b *trackedBody) Close() error { b.closed = true; return nil }
