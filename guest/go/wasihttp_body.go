//go:build wasip2

package wasmgate

import (
	"errors"
	"io"
	"runtime"
	"sync"
	"unsafe"
)

// Streaming bodies over wasi:io streams, in both directions, with bounded memory.

// wasiChunk bounds one read of the caller's request body and one input-stream.read
// (whose result the host allocates on the garbage-collected heap).
const wasiChunk = 64 << 10

// writeBody streams src into the outgoing body in writes no larger than check-write
// permits, waiting on the stream's pollable when it permits none, then flushes and
// finishes the body. It owns body and src (and closes src), reads src in chunks of
// bufSize bytes, and drops every handle it made. If anything fails it drops the body
// unfinished, so the host fails the request rather than sending a truncated body.
func (x *wasiExchange) writeBody(body uint32, src io.ReadCloser, bufSize int) {
	defer src.Close()
	var r retArea
	wasiOutgoingBodyWrite(body, r.ptr())
	if load8(r.ptr(), 0) != 0 {
		x.setBodyErr(&Error{Code: ErrInternal, Op: "outgoing-body.write", Message: "the host gave no body stream"})
		wasiOutgoingBodyDrop(body)
		return
	}
	w := &streamWriter{x: x, stream: load32(r.ptr(), 4)}
	ok := w.copyFrom(src, bufSize) && w.flush()
	w.close() // the stream (and its pollable) before its parent body
	if !ok {
		wasiOutgoingBodyDrop(body)
		return
	}
	var f retArea
	wasiOutgoingBodyFinish(body, 0, 0, f.ptr())
	if load8(f.ptr(), 0) != 0 {
		tag, detail := liftErrorCode(unsafe.Add(f.ptr(), 8))
		x.setBodyErr(newWASIError("outgoing-body.finish", tag, detail, x.target))
	}
}

// streamWriter writes to an output-stream.
type streamWriter struct {
	x        *wasiExchange
	stream   uint32
	pollable uint32 // subscribed on first need
}

func (w *streamWriter) close() {
	if w.pollable != 0 {
		wasiPollableDrop(w.pollable)
	}
	wasiOutputStreamDrop(w.stream)
}

// wait waits until the stream can take more (or has failed).
func (w *streamWriter) wait() bool {
	if w.pollable == 0 {
		w.pollable = wasiOutputStreamSubscribe(w.stream)
	}
	// An aborted or cancelled exchange is reported by RoundTrip or the response body.
	return await(w.pollable, w.x.ctx, w.x.abort) == nil
}

// permit is check-write's answer: how many bytes the next write may carry (0: wait).
func (w *streamWriter) permit() (uint64, bool) {
	var r retArea
	wasiOutputStreamCheckWrite(w.stream, r.ptr())
	if load8(r.ptr(), 0) == 0 {
		return load64(r.ptr(), 8), true
	}
	w.streamFailed(unsafe.Add(r.ptr(), 8), "output-stream.check-write")
	return 0, false
}

// streamFailed records why the stream failed. "closed" means the host stopped
// taking the body because the request failed: the response reports why.
func (w *streamWriter) streamFailed(p unsafe.Pointer, op string) {
	if _, err := liftStreamError(p, op, w.x.target); err != nil {
		w.x.setBodyErr(err)
	}
}

func (w *streamWriter) copyFrom(src io.Reader, bufSize int) bool {
	buf := make([]byte, bufSize)
	for {
		n, rerr := src.Read(buf)
		for data := buf[:n]; len(data) > 0; {
			allowed, ok := w.permit()
			if !ok {
				return false
			}
			if allowed == 0 {
				if !w.wait() {
					return false
				}
				continue
			}
			k := len(data)
			if uint64(k) > allowed {
				k = int(allowed)
			}
			var r retArea
			wasiOutputStreamWrite(w.stream, unsafe.Pointer(&data[0]), uint32(k), r.ptr())
			if load8(r.ptr(), 0) != 0 {
				w.streamFailed(unsafe.Add(r.ptr(), 4), "output-stream.write")
				return false
			}
			data = data[k:]
		}
		if rerr == io.EOF {
			return true
		}
		if rerr != nil {
			w.x.setBodyErr(rerr)
			return false
		}
		if n == 0 {
			// A reader returning (0, nil) over and over would spin: give others a
			// turn, as the io.Reader contract asks callers to tolerate this.
			if err := w.x.ctx.Err(); err != nil {
				return false
			}
			runtime.Gosched()
		}
	}
}

// flush pushes out what was written and waits until the host has taken it.
func (w *streamWriter) flush() bool {
	var r retArea
	wasiOutputStreamFlush(w.stream, r.ptr())
	if load8(r.ptr(), 0) != 0 {
		w.streamFailed(unsafe.Add(r.ptr(), 4), "output-stream.flush")
		return false
	}
	for {
		allowed, ok := w.permit()
		if !ok {
			return false
		}
		if allowed > 0 {
			return true
		}
		if !w.wait() {
			return false
		}
	}
}

// wasiBody is a response body read from the incoming-body's input-stream.
type wasiBody struct {
	x *wasiExchange

	mu       sync.Mutex
	response uint32
	body     uint32
	stream   uint32
	pollable uint32
	reads    uint32
	reading  bool // a Read is waiting: Close leaves the handles to it
	closed   bool
	err      error // sticky: io.EOF, errReadAfterClose or the failure
}

var errReadAfterClose = errors.New("wasmgate: read on closed response body")

func newResponseBody(x *wasiExchange, response uint32) (*wasiBody, error) {
	var r retArea
	wasiIncomingResponseConsume(response, r.ptr())
	if load8(r.ptr(), 0) != 0 {
		wasiIncomingResponseDrop(response)
		return nil, &Error{Code: ErrInternal, Op: "incoming-response.consume", Message: "the host gave no response body"}
	}
	body := load32(r.ptr(), 4)
	wasiIncomingBodyStream(body, r.ptr())
	if load8(r.ptr(), 0) != 0 {
		wasiIncomingBodyDrop(body)
		wasiIncomingResponseDrop(response)
		return nil, &Error{Code: ErrInternal, Op: "incoming-body.stream", Message: "the host gave no body stream"}
	}
	return &wasiBody{x: x, response: response, body: body, stream: load32(r.ptr(), 4)}, nil
}

// Read reads at most 64 KiB per call, straight from the host into p.
func (b *wasiBody) Read(p []byte) (int, error) {
	// Nothing preempts a goroutine: one that always finds data waiting would never
	// let the others (or the poller) run. (Reads of one body are not concurrent.)
	if b.reads++; b.reads%16 == 0 {
		runtime.Gosched()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) > wasiChunk {
		p = p[:wasiChunk]
	}
	for {
		var r retArea
		readTarget = p
		wasiInputStreamRead(b.stream, uint64(len(p)), r.ptr())
		readTarget = nil
		if load8(r.ptr(), 0) != 0 {
			closed, err := liftStreamError(unsafe.Add(r.ptr(), 4), "input-stream.read", b.x.target)
			if closed {
				b.release(true)
				b.err = io.EOF
				return 0, io.EOF
			}
			return 0, b.fail(b.x.hostErr(err))
		}
		if data := loadBytes(r.ptr(), 4); len(data) > 0 {
			if &data[0] != &p[0] {
				copy(p, data) // the host did not use readTarget
				releaseImportPins()
			}
			return len(data), nil
		}
		if b.pollable == 0 {
			b.pollable = wasiInputStreamSubscribe(b.stream)
		}
		b.reading = true
		b.mu.Unlock()
		err := await(b.pollable, b.x.ctx, b.x.abort)
		b.mu.Lock()
		b.reading = false
		if b.closed {
			return 0, b.fail(errReadAfterClose)
		}
		if err != nil {
			return 0, b.fail(b.x.waitErr(err))
		}
	}
}

// Close frees the body's handles; an unread rest of the body is discarded.
func (b *wasiBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if b.reading {
		// The Read waiting on our pollable wakes up (abort), sees closed and frees
		// the handles itself: dropping them under its feet would trap.
		b.x.stop()
		return nil
	}
	if b.err == nil {
		b.err = errReadAfterClose
	}
	b.release(false)
	return nil
}

func (b *wasiBody) fail(err error) error {
	b.release(false)
	if b.err == nil {
		b.err = err
	}
	return b.err
}

// release drops the handles once, children first: pollable, stream, body (finished
// when the stream ended, so the host knows it was read through), response. It also
// ends the exchange (a body writer still running stops).
func (b *wasiBody) release(finished bool) {
	if b.stream == 0 {
		return
	}
	if b.pollable != 0 {
		wasiPollableDrop(b.pollable)
		b.pollable = 0
	}
	wasiInputStreamDrop(b.stream)
	b.stream = 0
	if finished {
		wasiFutureTrailersDrop(wasiIncomingBodyFinish(b.body))
	} else {
		wasiIncomingBodyDrop(b.body)
	}
	wasiIncomingResponseDrop(b.response)
	b.body, b.response = 0, 0
	b.x.stop()
}
