//go:build !tinygo

package wasmgate

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The dial-level bridge (mainline Go). Go's (*http.Transport).Clone copies exported
// fields only, so a clone of the default transport loses the RoundTrippers Install
// registered for http and https; it keeps DialContext and DialTLSContext, though.
// Install sets those to the dialers below: a "connection" is an in-memory pipe whose
// other end reads the HTTP/1.1 requests the transport writes, sends each through
// wasmgate's Transport (policy, limits and events apply as to any request) and writes
// the response back. For https the transport takes the pipe for a finished TLS
// connection (DialTLSContext) and writes plain HTTP/1.1; the host does the real TLS.
//
// The destination is always the dialled address: the request's Host header and
// request target cannot name another host. A request that fails in wasmgate breaks
// its connection with that error, so the caller gets it (wrapped by net/http) and
// errors.As still finds the *Error.

// routeClones makes clones of t send through rt: it sets t's dialers to the bridge
// (clones copy them), drops t's proxy (the host makes every connection) and keeps
// HTTP/2 off (TLSNextProto empty, which clones also copy), since the bridge speaks
// HTTP/1.1 only. t's own requests are unaffected when rt is registered on it.
func routeClones(t *http.Transport, rt http.RoundTripper) {
	t.DialContext = bridgeDialer("http", rt)
	t.DialTLSContext = bridgeDialer("https", rt)
	t.Proxy = nil
	t.ForceAttemptHTTP2 = false
	if t.TLSNextProto == nil {
		t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
}

// bridgeDialer returns a dial function whose connections are served by rt; scheme is
// the scheme of the URLs rebuilt from what is written on them.
func bridgeDialer(scheme string, rt http.RoundTripper) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		switch network {
		case "tcp", "tcp4", "tcp6":
		default:
			return nil, &Error{Code: ErrInvalidArgument, Op: "dial", Message: "wasmgate's dialer makes HTTP connections only, not " + network}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, &Error{Code: ErrBadURL, Op: "dial", Message: err.Error()}
		}
		client, server := net.Pipe()
		bctx, cancel := context.WithCancel(context.Background())
		b := &bridge{
			scheme: scheme, addr: addr, rt: rt,
			ctx: bctx, cancel: cancel,
			server: server,
			br:     bufio.NewReader(server),
			bw:     bufio.NewWriter(server),
		}
		go b.serve()
		return &bridgeConn{Conn: client, b: b}, nil
	}
}

// bridgeConn is the transport's end of a bridge connection.
type bridgeConn struct {
	net.Conn
	b *bridge
}

// Read and Write report the request's failure, if any, instead of the pipe's EOF.
func (c *bridgeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	return n, c.b.mapErr(err)
}

func (c *bridgeConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	return n, c.b.mapErr(err)
}

// Close also cancels the request in flight: net/http closes the connection when the
// caller gives up (context done, body closed early).
func (c *bridgeConn) Close() error {
	c.b.cancel()
	return c.Conn.Close()
}

func (c *bridgeConn) LocalAddr() net.Addr  { return bridgeAddr("wasmgate") }
func (c *bridgeConn) RemoteAddr() net.Addr { return bridgeAddr(c.b.addr) }

type bridgeAddr string

func (a bridgeAddr) Network() string { return "wasmgate" }
func (a bridgeAddr) String() string  { return string(a) }

// bridge serves one connection, one request after another (HTTP/1.1 keep-alive).
type bridge struct {
	scheme, addr string
	rt           http.RoundTripper
	ctx          context.Context
	cancel       context.CancelFunc
	server       net.Conn
	br           *bufio.Reader

	wmu sync.Mutex // bw and awaitingHead: a 100 Continue may be written from another goroutine
	bw  *bufio.Writer
	// awaitingHead: a request was read and its response head not yet written.
	awaitingHead bool

	mu  sync.Mutex
	err error // why the connection broke; reported to the transport
}

func (b *bridge) mapErr(err error) error {
	if err == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	return err
}

// fail breaks the connection with err, which the transport's next read or write
// returns.
func (b *bridge) fail(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
	b.wmu.Lock()
	if b.awaitingHead {
		// net/http retries a replayable request on a reused connection when the first
		// response byte cannot be read (a keep-alive race, it assumes), which would send
		// it through wasmgate a second time. After a status line the failure is one of
		// reading the response's headers, which it reports as is.
		_ = b.server.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = b.bw.WriteString("HTTP/1.1 502 Bad Gateway\r\n")
		_ = b.bw.Flush()
		b.awaitingHead = false
	}
	b.wmu.Unlock()
	b.shutdown()
}

func (b *bridge) shutdown() {
	b.server.Close()
	b.cancel()
}

func (b *bridge) serve() {
	for {
		if c, err := b.br.Peek(1); err == nil && (c[0] < '!' || c[0] > '~') {
			// Not a request line, which would never end.
			b.fail(errNotHTTP)
			return
		}
		req, err := http.ReadRequest(b.br)
		if err != nil {
			if err != io.EOF && b.ctx.Err() == nil {
				b.fail(&Error{Code: ErrProtocol, Op: "bridge", Message: "reading the request from net/http: " + err.Error()})
			}
			b.shutdown()
			return
		}
		b.wmu.Lock()
		b.awaitingHead = true
		b.wmu.Unlock()
		if !b.exchange(req) {
			b.shutdown()
			return
		}
	}
}

// exchange sends one request through rt and writes the response back. It reports
// whether the connection can carry another request.
func (b *bridge) exchange(req *http.Request) bool {
	out, err := b.outgoing(req)
	if err != nil {
		if req.ProtoMajor != 1 {
			// Not an HTTP/1.1 client: a status line would only garble the error.
			b.wmu.Lock()
			b.awaitingHead = false
			b.wmu.Unlock()
		}
		b.fail(err)
		return false
	}
	var body *bridgeBody
	if req.Body != nil && req.Body != http.NoBody {
		body = &bridgeBody{b: b, r: req.Body, expect: strings.EqualFold(req.Header.Get("Expect"), "100-continue")}
		out.Body = body
	} else {
		out.Body = http.NoBody
	}
	resp, err := b.rt.RoundTrip(out)
	if err != nil {
		b.fail(err)
		return false
	}
	keep := !req.Close
	f := responseFraming(req.Method, resp)
	if f == badResponse {
		resp.Body.Close()
		b.fail(&Error{Code: ErrProtocol, Op: "bridge", Message: "an informational (1xx) final response cannot be passed on"})
		return false
	}
	b.wmu.Lock()
	b.awaitingHead = false
	err = writeResponseHead(b.bw, resp, req.Method, f, !keep)
	b.wmu.Unlock()
	if err == nil {
		err = writeResponseBody(b.bw, resp, f)
	}
	resp.Body.Close()
	if err != nil {
		b.fail(err)
		return false
	}
	if !keep {
		return false // closing the connection also ends rt's reading of the body
	}
	return body == nil || body.finish()
}

// outgoing builds the request for rt: the URL from the dialled address and the
// origin-form target, the headers without those that concern this connection only.
func (b *bridge) outgoing(req *http.Request) (*http.Request, error) {
	if req.ProtoMajor != 1 {
		return nil, &Error{Code: ErrProtocol, Op: "bridge", Message: "only HTTP/1.1 is spoken over wasmgate's dialer (the host negotiates HTTP/2 itself): leave Transport.Protocols unset"}
	}
	if req.Method == http.MethodConnect || !strings.HasPrefix(req.RequestURI, "/") {
		if req.RequestURI == "*" {
			return nil, &Error{Code: ErrBadURL, Op: "bridge", Message: "the request target * cannot be sent through wasmgate"}
		}
		return nil, errNoProxy
	}
	u, err := targetURL(b.scheme, b.addr, req.RequestURI)
	if err != nil {
		return nil, err
	}
	h := req.Header.Clone()
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	h.Del("Expect") // answered here (bridgeBody)
	if _, ok := h["User-Agent"]; !ok {
		// net/http wrote none, so the caller asked for none: Transport's convention.
		h["User-Agent"] = []string{""}
	}
	out := &http.Request{
		Method:        req.Method,
		URL:           u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		ContentLength: req.ContentLength,
		Host:          u.Host,
	}
	return out.WithContext(b.ctx), nil
}

var errNoProxy = &Error{Code: ErrInvalidArgument, Op: "bridge", Message: "a proxy (Transport.Proxy) cannot be used under wasmgate: the host makes every connection, under its policy"}

var errNotHTTP = &Error{Code: ErrInvalidArgument, Op: "bridge", Message: "net/http wrote no HTTP/1.1 on wasmgate's connection: a SOCKS proxy (Transport.Proxy), or a TLS handshake (DialTLSContext cleared)? The host makes every connection, and does TLS, under its policy"}

// sendContinue answers Expect: 100-continue when rt starts reading the body, unless
// the final response went first (net/http then sends the body anyway when the
// connection stays open, and not at all when it closes).
func (b *bridge) sendContinue() {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if b.awaitingHead {
		_, _ = b.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		_ = b.bw.Flush()
	}
}

// maxBridgeDrain bounds what is read of a request body rt left unread before the
// connection is reused (net/http's server uses the same figure); beyond it the
// connection is closed instead.
const maxBridgeDrain = 256 << 10

var errBridgeBodyDone = errors.New("wasmgate: request body read after its response was sent")

// bridgeBody is a request body read from the connection, handed to rt. rt's body
// writer runs in its own goroutine, so reads are serialized with finish, which takes
// the body back before the next request is read from the same connection.
type bridgeBody struct {
	b        *bridge
	mu       sync.Mutex
	r        io.ReadCloser
	expect   bool // the transport waits for 100 Continue before it sends the body
	eof      bool
	detached bool
}

func (rb *bridgeBody) Read(p []byte) (int, error) {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if rb.detached {
		return 0, errBridgeBodyDone
	}
	if rb.expect {
		rb.expect = false
		rb.b.sendContinue()
	}
	n, err := rb.r.Read(p)
	if err == io.EOF {
		rb.eof = true
	}
	return n, err
}

// Close does nothing: closing a server-side body would drain it without bound;
// finish drains it (bounded) instead.
func (rb *bridgeBody) Close() error { return nil }

// finish takes the body back from rt once the response is written and reports
// whether the connection can carry another request (the body was read to its end).
func (rb *bridgeBody) finish() bool {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	rb.detached = true
	if rb.eof {
		return true
	}
	n, err := io.CopyN(io.Discard, rb.r, maxBridgeDrain+1)
	return err == io.EOF && n <= maxBridgeDrain
}
