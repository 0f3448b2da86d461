//go:build wasip1

package wasmgate

import (
	"net/http"
	"strconv"
	"time"
)

// The wasip1 backend: wasmgate's host ABI (docs/abi.md).

// hostWaiter is the one waiter of the program (waiter.go).
var hostWaiter = &waiter{poll: abiPoll}

func (t *Transport) roundTrip(req *http.Request) (*http.Response, error) {
	o, err := prepare(req)
	if err != nil {
		return nil, err
	}
	closeBody := func() {
		if o.body != nil {
			o.body.Close()
		}
	}
	h := abiRequestNew(o.method, o.url)
	if h < 0 {
		err := hostError("request_new", h)
		closeBody()
		return nil, err
	}
	x := &exchange{h: h, ctx: o.ctx}
	fail := func(err error) (*http.Response, error) {
		x.close()
		closeBody()
		return nil, err
	}

	for _, k := range sortedHeaderNames(o.header) {
		for _, v := range o.header[k] {
			if r := abiRequestHeader(h, k, v); r < 0 {
				return fail(hostError("request_header", r))
			}
		}
	}
	for _, opt := range []struct {
		id int32
		d  time.Duration
	}{
		{optConnectTimeoutMs, t.ConnectTimeout},
		{optFirstByteTimeoutMs, t.FirstByteTimeout},
		{optBetweenBytesTimeoutMs, t.BetweenBytesTimeout},
	} {
		if opt.d <= 0 {
			continue
		}
		ms := int64((opt.d + time.Millisecond - 1) / time.Millisecond)
		if r := abiRequestOption(h, opt.id, ms); r < 0 {
			return fail(hostError("request_option", r))
		}
	}

	var flags int32
	if o.body != nil {
		flags = sendBodyStream
	}
	if r := abiRequestSend(h, flags); r < 0 {
		return fail(hostError("request_send", r))
	}
	if o.body != nil {
		// From here on the writer goroutine owns (and closes) the body.
		go x.writeBody(o.body, chunkSize(o.header))
	}

	status, err := x.awaitHead()
	if err != nil {
		x.close()
		return nil, err
	}
	respHeader, err := x.headers()
	if err != nil {
		x.close()
		return nil, err
	}
	resp, hasBody := newResponse(req, o.method, status, respHeader)
	// Hosts before wasmgate 0.1.1 lack response_version; the import would then fail
	// at instantiation, so a host that runs this module has it.
	setProto(resp, int(abiResponseVersion(h)))
	if !hasBody {
		x.close()
		return resp, nil
	}
	resp.Body = &responseBody{x: x}
	return resp, nil
}

// chunkSize is the buffer size for streaming a body: its Content-Length when smaller
// than maxChunk, so small uploads do not allocate 64 KiB each.
func chunkSize(h http.Header) int {
	if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil && n > 0 && n < maxChunk {
		return int(n)
	}
	return maxChunk
}

// awaitHead waits for the response head without blocking other goroutines.
func (x *exchange) awaitHead() (int, error) {
	for {
		st := abiResponseStatus(x.h, 0)
		if st >= 0 {
			return int(st), nil
		}
		if st != ErrNotReady {
			err := hostError("response_status", st)
			if be := x.getBodyErr(); be != nil {
				// The handle was closed because the request body could not be read.
				return 0, be
			}
			return 0, err
		}
		if err := hostWaiter.await(x.ctx, x.h, readyResponse); err != nil {
			return 0, err
		}
	}
}

// headers copies the response headers out of the host (snprintf-style).
func (x *exchange) headers() (http.Header, error) {
	// Most header lists fit; the host says the exact size of bigger ones. Small
	// allocations matter with TinyGo, whose collector runs often.
	buf := make([]byte, 1024)
	for {
		n := abiResponseHeaders(x.h, buf)
		if n < 0 {
			return nil, hostError("response_headers", n)
		}
		if int(n) <= len(buf) {
			return parseHeaders(buf[:n])
		}
		buf = make([]byte, n)
	}
}
