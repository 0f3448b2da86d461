//go:build !tinygo

package wasmgate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The dial-level bridge, natively: a client *http.Transport dials through it and a
// fake RoundTripper stands for wasmgate's Transport.

// handlerRT answers with fn and records the requests it saw.
type handlerRT struct {
	mu   sync.Mutex
	seen []*http.Request
	fn   func(*http.Request) (*http.Response, error)
}

func (h *handlerRT) RoundTrip(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.seen = append(h.seen, req)
	h.mu.Unlock()
	return h.fn(req)
}

func (h *handlerRT) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.seen)
}

func (h *handlerRT) last() *http.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen[len(h.seen)-1]
}

func textResponse(req *http.Request, status int, body string) *http.Response {
	return &http.Response{
		StatusCode: status, Status: statusLine(status),
		Proto: "HTTP/2.0", ProtoMajor: 2,
		Header:        http.Header{"Content-Length": {strconv.Itoa(len(body))}, "Connection": {"close"}},
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(strings.NewReader(body)),
		Request:       req,
	}
}

// bridged is a client transport as a clone of an Install-ed default transport is,
// with its dials counted.
func bridged(rt http.RoundTripper) (*http.Transport, *int) {
	tr := &http.Transport{ExpectContinueTimeout: 10 * time.Second, ForceAttemptHTTP2: true}
	routeClones(tr, rt)
	dials := new(int)
	var mu sync.Mutex
	dial, dialTLS := tr.DialContext, tr.DialTLSContext
	tr.DialContext = func(ctx context.Context, n, a string) (net.Conn, error) {
		mu.Lock()
		*dials++
		mu.Unlock()
		return dial(ctx, n, a)
	}
	tr.DialTLSContext = func(ctx context.Context, n, a string) (net.Conn, error) {
		mu.Lock()
		*dials++
		mu.Unlock()
		return dialTLS(ctx, n, a)
	}
	return tr.Clone(), dials
}

func get(t *testing.T, tr http.RoundTripper, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return resp, string(body)
}

func TestBridgeSendsToTheDialledHostOnly(t *testing.T) {
	rt := &handlerRT{fn: func(r *http.Request) (*http.Response, error) { return textResponse(r, 200, "hello"), nil }}
	tr, _ := bridged(rt)
	for _, c := range []struct{ url, want string }{
		{"http://example.com/a%2Fb?q=1#frag", "http://example.com/a%2Fb?q=1"},
		{"http://example.com:8080//other.example/x", "http://example.com:8080//other.example/x"},
		{"https://example.com/x", "https://example.com/x"},
		{"https://[::1]:8443/", "https://[::1]:8443/"},
	} {
		req, _ := http.NewRequest("GET", c.url, nil)
		req.Host = "evil.example" // written as the Host header; must not choose the destination
		resp, body := get(t, tr, req)
		if resp.StatusCode != 200 || body != "hello" || resp.Proto != "HTTP/1.1" || resp.TLS != nil {
			t.Errorf("%s: %d %q %s", c.url, resp.StatusCode, body, resp.Proto)
		}
		seen := rt.last()
		if seen.URL.String() != c.want {
			t.Errorf("%s: rt saw %s, want %s", c.url, seen.URL, c.want)
		}
		if seen.Header.Get("Host") != "" || seen.Host == "evil.example" {
			t.Errorf("%s: the Host header reached rt: %q %q", c.url, seen.Header.Get("Host"), seen.Host)
		}
		if seen.Header.Get("User-Agent") != "Go-http-client/1.1" {
			t.Errorf("User-Agent = %q", seen.Header.Get("User-Agent"))
		}
	}
}

func TestBridgeKeepsConnectionsAlive(t *testing.T) {
	rt := &handlerRT{fn: func(r *http.Request) (*http.Response, error) { return textResponse(r, 200, "hello"), nil }}
	tr, dials := bridged(rt)
	reused := 0
	for i := 0; i < 20; i++ {
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				if info.Reused {
					reused++
				}
			},
		})
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://example.com/hello", nil)
		get(t, tr, req)
	}
	// HEAD, 204 and 304 have no body and keep the connection too.
	for _, c := range []struct {
		method string
		status int
	}{{"HEAD", 200}, {"GET", 204}, {"GET", 304}} {
		rt.fn = func(r *http.Request) (*http.Response, error) {
			resp, _ := newResponse(r, r.Method, c.status, http.Header{"Content-Length": {"26"}})
			return resp, nil
		}
		req, _ := http.NewRequest(c.method, "http://example.com/", nil)
		resp, body := get(t, tr, req)
		if resp.StatusCode != c.status || body != "" {
			t.Errorf("%s %d: got %d %q", c.method, c.status, resp.StatusCode, body)
		}
		if c.method == "HEAD" && resp.ContentLength != 26 {
			t.Errorf("HEAD: Content-Length %d, want 26", resp.ContentLength)
		}
	}
	if *dials != 1 || reused != 19 || rt.count() != 23 {
		t.Errorf("dials %d, reused %d, requests %d; want 1, 19, 23", *dials, reused, rt.count())
	}
	// Connection: close is honoured.
	req, _ := http.NewRequest("GET", "http://example.com/", nil)
	req.Close = true
	rt.fn = func(r *http.Request) (*http.Response, error) { return textResponse(r, 200, "x"), nil }
	get(t, tr, req)
	req, _ = http.NewRequest("GET", "http://example.com/", nil)
	get(t, tr, req)
	if *dials != 2 {
		t.Errorf("after Connection: close, dials = %d, want 2", *dials)
	}
}

// echoRT streams the request body back, as the test server's /echo does.
func echoRT(r *http.Request) (*http.Response, error) {
	resp, _ := newResponse(r, r.Method, 200, http.Header{})
	if r.Body == nil {
		r.Body = http.NoBody
	}
	resp.Body = r.Body
	return resp, nil
}

type patternReader struct{ off, size int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	if n := p.size - p.off; int64(len(b)) > n {
		b = b[:n]
	}
	for i := range b {
		b[i] = "0123456789abcdef"[(p.off+int64(i))%16]
	}
	p.off += int64(len(b))
	return len(b), nil
}

func TestBridgeStreamsBodiesBothWays(t *testing.T) {
	rt := &handlerRT{fn: echoRT}
	tr, dials := bridged(rt)
	const size = 3<<20 + 7
	want, _ := io.ReadAll(&patternReader{size: size})
	for _, expect := range []bool{false, true} {
		req, _ := http.NewRequest("POST", "http://example.com/echo", &patternReader{size: size})
		if expect {
			// The transport waits up to ExpectContinueTimeout (10 s) for 100 Continue.
			req.Header.Set("Expect", "100-continue")
		}
		start := time.Now()
		resp, body := get(t, tr, req)
		if resp.StatusCode != 200 || body != string(want) {
			t.Fatalf("expect %v: status %d, %d bytes back, want %d", expect, resp.StatusCode, len(body), size)
		}
		if expect && time.Since(start) > 5*time.Second {
			t.Errorf("100 Continue was not sent: took %v", time.Since(start))
		}
		if seen := rt.last(); seen.Header.Get("Expect") != "" || seen.ContentLength != -1 {
			t.Errorf("rt saw Expect %q, ContentLength %d", seen.Header.Get("Expect"), seen.ContentLength)
		}
	}
	// A known length is passed on.
	req, _ := http.NewRequest("POST", "http://example.com/echo", strings.NewReader("twelve bytes"))
	if _, body := get(t, tr, req); body != "twelve bytes" || rt.last().ContentLength != 12 {
		t.Errorf("body %q, ContentLength %d", body, rt.last().ContentLength)
	}
	// A response before the body was read: the rest is drained and the connection
	// reused.
	rt.fn = func(r *http.Request) (*http.Response, error) { return textResponse(r, 413, "too big"), nil }
	req, _ = http.NewRequest("POST", "http://example.com/sink", strings.NewReader(strings.Repeat("x", 1000)))
	if resp, body := get(t, tr, req); resp.StatusCode != 413 || body != "too big" {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	rt.fn = echoRT
	req, _ = http.NewRequest("POST", "http://example.com/echo", strings.NewReader("again"))
	if _, body := get(t, tr, req); body != "again" {
		t.Errorf("after an unread body: %q", body)
	}
	if *dials != 1 {
		t.Errorf("dials = %d, want 1", *dials)
	}
}

func TestBridgeFailuresKeepTheirType(t *testing.T) {
	denied := &Error{Code: ErrDenied, Op: "response_status", Message: "denied GET http://example.com/no (to allow it, add: --allow http://example.com)"}
	rt := &handlerRT{fn: func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/no" {
			if r.Body != nil {
				r.Body.Close()
			}
			return nil, denied
		}
		return echoRT(r)
	}}
	tr, dials := bridged(rt)
	client := &http.Client{Transport: tr}
	// On a fresh connection, then on a reused one (net/http must not retry it), with
	// and without a body.
	for i, c := range []struct {
		method string
		body   io.Reader
	}{{"GET", nil}, {"GET", nil}, {"POST", &patternReader{size: 1 << 20}}, {"DELETE", nil}} {
		if i > 0 {
			req, _ := http.NewRequest("GET", "http://example.com/ok", nil)
			get(t, tr, req)
		}
		before := rt.count()
		req, _ := http.NewRequest(c.method, "http://example.com/no", c.body)
		_, err := client.Do(req)
		var wgErr *Error
		if !errors.As(err, &wgErr) || !IsDenied(err) || wgErr.Message != denied.Message {
			t.Errorf("%d %s: err = %v, want the denial", i, c.method, err)
		}
		if !strings.Contains(fmt.Sprint(err), ": wasmgate: denied GET http://example.com/no") {
			t.Errorf("%d: the message does not say why: %v", i, err)
		}
		if n := rt.count() - before; n != 1 {
			t.Errorf("%d %s: sent %d times, want once", i, c.method, n)
		}
	}
	if *dials != 4 {
		t.Errorf("dials = %d, want 4 (a failure ends its connection)", *dials)
	}
	// A failure in the middle of a response body reaches the body's reader.
	timeout := &Error{Code: ErrReadTimeout, Op: "body_read", Message: "no data for 30 s"}
	rt.fn = func(r *http.Request) (*http.Response, error) {
		resp, _ := newResponse(r, r.Method, 200, http.Header{})
		resp.Body = io.NopCloser(io.MultiReader(strings.NewReader("partial"), errReader{timeout}))
		return resp, nil
	}
	resp, err := client.Get("http://example.com/stall")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "partial" || !IsTimeout(err) {
		t.Errorf("body %q, err %v; want partial and the timeout", got, err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestBridgeCancelsWhenTheCallerGivesUp(t *testing.T) {
	cancelled := make(chan error, 1)
	rt := &handlerRT{fn: func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		cancelled <- r.Context().Err()
		return nil, &ctxError{err: r.Context().Err()}
	}}
	tr, _ := bridged(rt)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://example.com/slow", nil)
	_, err := (&http.Client{Transport: tr}).Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the deadline", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Error("the request in flight was not cancelled")
	}
}

func TestBridgeRefusesProxiesAndClientTLS(t *testing.T) {
	rt := &handlerRT{fn: echoRT}
	tr, _ := bridged(rt)
	for _, p := range []string{"http://proxy.example:3128", "socks5://proxy.example:1080"} {
		proxy, _ := url.Parse(p)
		tr.Proxy = http.ProxyURL(proxy)
		for _, u := range []string{"http://example.com/", "https://example.com/"} {
			_, err := (&http.Client{Transport: tr}).Get(u)
			if CodeOf(err) != ErrInvalidArgument || !strings.Contains(err.Error(), "proxy") {
				t.Errorf("%s through %s: err = %v", u, p, err)
			}
		}
	}
	// Without DialTLSContext the transport would do TLS over the plain dialer.
	tr, _ = bridged(rt)
	tr.DialTLSContext = nil
	if _, err := (&http.Client{Transport: tr}).Get("https://example.com/"); CodeOf(err) != ErrInvalidArgument || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("TLS over the plain dialer: err = %v", err)
	}
	if rt.count() != 0 {
		t.Errorf("rt saw %d requests, want none", rt.count())
	}
}

func TestBridgeSendsNoUserAgentWhenAskedTo(t *testing.T) {
	rt := &handlerRT{fn: func(r *http.Request) (*http.Response, error) { return textResponse(r, 200, ""), nil }}
	tr, _ := bridged(rt)
	req, _ := http.NewRequest("GET", "http://example.com/", nil)
	req.Header.Set("User-Agent", "")
	get(t, tr, req)
	if ua, ok := rt.last().Header["User-Agent"]; !ok || len(ua) != 1 || ua[0] != "" {
		t.Errorf("User-Agent = %q, want the empty value meaning none", ua)
	}
}

func TestTargetURL(t *testing.T) {
	for _, c := range []struct{ scheme, addr, target, want string }{
		{"http", "example.com:80", "/", "http://example.com/"},
		{"http", "example.com:443", "/", "http://example.com:443/"},
		{"https", "example.com:443", "/a?b=c", "https://example.com/a?b=c"},
		{"https", "[::1]:443", "/", "https://[::1]/"},
		{"http", "127.0.0.1:8080", "/a%20b/%2F", "http://127.0.0.1:8080/a%20b/%2F"},
		{"http", "example.com:80", "//evil.example/x", "http://example.com//evil.example/x"},
		{"http", "example.com:80", "/@evil.example", "http://example.com/@evil.example"},
	} {
		u, err := targetURL(c.scheme, c.addr, c.target)
		if err != nil || u.String() != c.want {
			t.Errorf("targetURL(%s, %s, %s) = %v, %v; want %s", c.scheme, c.addr, c.target, u, err, c.want)
		}
	}
	for _, bad := range []string{"http://evil.example/", "evil.example:80", "*", ""} {
		if u, err := targetURL("http", "example.com:80", bad); CodeOf(err) != ErrBadURL {
			t.Errorf("targetURL(%q) = %v, %v; want ErrBadURL", bad, u, err)
		}
	}
}

func TestResponseFraming(t *testing.T) {
	for _, c := range []struct {
		method, body string
		status       int
		length       int64
		head         []string // lines the head must have
		wire         string   // what follows the head
	}{
		{"GET", "hello", 200, 5, []string{"HTTP/1.1 200 OK", "Content-Length: 5"}, "hello"},
		{"GET", "hello", 200, -1, []string{"Transfer-Encoding: chunked"}, "5\r\nhello\r\n0\r\n\r\n"},
		{"GET", "", 200, -1, []string{"Transfer-Encoding: chunked"}, "0\r\n\r\n"},
		{"HEAD", "", 200, 26, []string{"Content-Length: 26"}, ""},
		{"GET", "", 204, 0, []string{"HTTP/1.1 204 No Content"}, ""},
		{"GET", "", 304, 0, []string{"HTTP/1.1 304 Not Modified"}, ""},
		{"GET", "hello world", 599, 5, []string{"HTTP/1.1 599 ", "Content-Length: 5"}, "hello"},
	} {
		resp := &http.Response{
			StatusCode: c.status, Status: statusLine(c.status), ContentLength: c.length,
			Header: http.Header{"X-Kept": {"yes"}, "Connection": {"close, X-Hop"}, "X-Hop": {"1"}, "Keep-Alive": {"timeout=5"}, "Content-Length": {"999"}},
			Body:   io.NopCloser(strings.NewReader(c.body)),
		}
		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		f := responseFraming(c.method, resp)
		if err := writeResponseHead(w, resp, c.method, f, false); err != nil {
			t.Fatal(err)
		}
		if err := writeResponseBody(w, resp, f); err != nil {
			t.Fatal(err)
		}
		head, wire, _ := strings.Cut(buf.String(), "\r\n\r\n")
		lines := strings.Split(head, "\r\n")
		for _, want := range c.head {
			found := false
			for _, l := range lines {
				found = found || l == want || (strings.HasSuffix(want, " ") && strings.HasPrefix(l, want))
			}
			if !found {
				t.Errorf("%s %d: no %q in %q", c.method, c.status, want, lines)
			}
		}
		for _, l := range lines {
			if l == "Connection: close" || strings.HasPrefix(l, "X-Hop") || strings.HasPrefix(l, "Keep-Alive") || l == "Content-Length: 999" {
				t.Errorf("%s %d: hop-by-hop or stale header %q passed on", c.method, c.status, l)
			}
		}
		if wire != c.wire {
			t.Errorf("%s %d: body on the wire %q, want %q", c.method, c.status, wire, c.wire)
		}
		// And net/http reads it back.
		parsed, err := http.ReadResponse(bufio.NewReader(strings.NewReader(buf.String())), &http.Request{Method: c.method})
		if err != nil || parsed.Header.Get("X-Kept") != "yes" {
			t.Errorf("%s %d: ReadResponse: %v", c.method, c.status, err)
		}
	}
	// A body shorter than its Content-Length is an error, not a silent truncation.
	resp := &http.Response{StatusCode: 200, ContentLength: 10, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("short"))}
	w := bufio.NewWriter(io.Discard)
	if err := writeResponseBody(w, resp, lengthBody); err != io.ErrUnexpectedEOF {
		t.Errorf("short body: %v", err)
	}
	if f := responseFraming("GET", &http.Response{StatusCode: 101}); f != badResponse {
		t.Errorf("101: framing %v", f)
	}
}
