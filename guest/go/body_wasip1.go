//go:build wasip1

package wasmgate

import (
	"context"
	"errors"
	"io"
	"sync"
)

// exchange is the state of one request handle, shared by RoundTrip, the goroutine
// that writes the request body and the response body.
type exchange struct {
	h      int32
	ctx    context.Context
	mu     sync.Mutex
	closed bool
	// bodyErr is set when reading the caller's request body failed.
	bodyErr error
}

// close frees the handle once (closing cancels the request if it is in flight).
func (x *exchange) close() {
	x.mu.Lock()
	done := x.closed
	x.closed = true
	x.mu.Unlock()
	if !done {
		abiClose(x.h)
	}
}

func (x *exchange) isClosed() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.closed
}

func (x *exchange) setBodyErr(err error) {
	x.mu.Lock()
	if x.bodyErr == nil {
		x.bodyErr = err
	}
	x.mu.Unlock()
}

func (x *exchange) getBodyErr() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.bodyErr
}

// ctxErr is non-nil once the request's context is done.
func (x *exchange) ctxErr() error {
	if err := x.ctx.Err(); err != nil {
		return &ctxError{err: err}
	}
	return nil
}

// writeBody streams the caller's request body into the handle in chunks of at most
// size (≤ maxChunk) bytes, without ever waiting inside the host, then ends it. It runs in its
// own goroutine (like net/http's transport), so a server that answers while still
// reading the body is read concurrently. It always closes body.
func (x *exchange) writeBody(body io.ReadCloser, size int) {
	defer body.Close()
	buf := make([]byte, size)
	for {
		n, rerr := body.Read(buf)
		for off := 0; off < n; {
			if x.isClosed() || x.ctx.Err() != nil {
				return
			}
			w := abiBodyWrite(x.h, buf[off:n], 0)
			if w < 0 {
				// The request failed (response_status reports why) or was closed.
				return
			}
			if w == 0 {
				if hostWaiter.await(x.ctx, x.h, readyWrite) != nil {
					return
				}
				continue
			}
			off += int(w)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			x.setBodyErr(rerr)
			x.close()
			return
		}
	}
	if !x.isClosed() {
		abiBodyFinish(x.h) // never waits (docs/abi.md)
	}
}

// maxChunk bounds each body_write (the host buffers a few chunks of 64 KiB).
const maxChunk = 64 << 10

// responseBody streams a response body through body_read. Close frees the handle.
type responseBody struct {
	x   *exchange
	eof bool
	err error
}

var errBodyClosed = errors.New("wasmgate: read on closed response body")

func (r *responseBody) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.eof {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) > 1<<20 {
		p = p[:1<<20]
	}
	for {
		if r.x.isClosed() {
			if err := r.x.getBodyErr(); err != nil {
				r.err = err
			} else {
				r.err = errBodyClosed
			}
			return 0, r.err
		}
		if err := r.x.ctxErr(); err != nil {
			r.x.close()
			r.err = err
			return 0, err
		}
		n := abiBodyRead(r.x.h, p, 0)
		switch {
		case n > 0:
			return int(n), nil
		case n == 0:
			// The whole body is here: free the handle now rather than at Close.
			r.eof = true
			r.x.close()
			return 0, io.EOF
		case n == ErrNotReady:
			if err := hostWaiter.await(r.x.ctx, r.x.h, readyBody); err != nil {
				r.x.close()
				r.err = err
				return 0, err
			}
		default:
			r.err = hostError("body_read", n)
			r.x.close()
			return 0, r.err
		}
	}
}

func (r *responseBody) Close() error {
	r.x.close()
	if r.err == nil && !r.eof {
		r.err = errBodyClosed
	}
	return nil
}

// hostError builds the *Error for a failed call. It must be called right after the
// call failed: the next failing call (of any goroutine) replaces last_error. The
// message is therefore copied into a buffer on this goroutine's stack before anything
// that could allocate, and so possibly let another goroutine run.
func hostError(op string, code int32) *Error {
	var small [1024]byte
	n := abiLastError(small[:])
	msg := ""
	switch {
	case n <= 0:
	case int(n) <= len(small):
		msg = string(small[:n])
	default:
		big := make([]byte, n)
		if m := abiLastError(big); m == n {
			msg = string(big)
		}
	}
	return &Error{Code: int(code), Op: op, Message: msg}
}
