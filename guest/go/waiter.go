package wasmgate

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Waiting for the host on a single thread. Goroutines of a wasip1 program share one
// thread and neither mainline Go's scheduler nor TinyGo's preempts: a host call that
// waits stops every goroutine, and the runtime fires timers (context deadlines) only
// when some goroutine yields. So a goroutine never waits in the host for its own
// handle. It registers what it waits for with the waiter and blocks on a channel; one
// goroutine, the waiter's loop, polls all registered handles with a single host call
// and wakes the goroutines whose handles are ready.
//
// The loop first yields (runtime.Gosched), so every runnable goroutine runs and due
// timers fire. If that came back at once, nothing else can run until a handle is
// ready or a timer is due, so it waits in the host: the host returns the moment a
// handle is ready, and the timeout (growing from 1 ms to idleMaxMs while nothing
// happens) only bounds how late a timer can fire and how often an idle program wakes
// up. If the yield took a while, other goroutines are busy computing, and the loop
// only peeks (timeout 0) so as not to stall them. When nobody waits the loop parks on
// a channel (costing nothing) rather than ending: starting a goroutine per wait costs
// TinyGo a stack allocation each time, which showed in sequential requests.
const (
	idleMaxMs = 5
	// busyYield is how long a yield takes before the loop assumes other goroutines
	// did real work (a yield with nothing to run takes a few microseconds).
	busyYield = 100 * time.Microsecond
	// maxPollHandles is the most handles poll takes at once (docs/abi.md).
	maxPollHandles = 1024
)

// pollFunc is the host's poll (docs/abi.md): it waits at most timeoutMs (0: not at
// all) until one of handles is ready for the bits ready[i] holds on input, writes the
// ready bits into ready, and returns how many handles are ready, or a negative code.
type pollFunc func(handles []int32, ready []byte, timeoutMs int64) int32

// waiter wakes goroutines when their handles are ready. Its zero value (with poll
// set) is ready to use.
type waiter struct {
	poll pollFunc

	mu      sync.Mutex
	waits   []*wait
	running bool          // the loop goroutine exists
	kick    chan struct{} // wakes the parked loop; buffered, sent to without blocking
}

// wait is one goroutine waiting for interest bits on a handle.
type wait struct {
	h        int32
	interest byte // non-zero
	done     chan struct{}
}

// await blocks the calling goroutine until handle h is ready for any of the
// (non-zero) interest bits, or is invalid, or ctx is done (then it returns a
// *ctxError). The caller retries its call afterwards: readiness is a hint.
func (w *waiter) await(ctx context.Context, h int32, interest byte) error {
	wt := &wait{h: h, interest: interest, done: make(chan struct{})}
	w.mu.Lock()
	w.waits = append(w.waits, wt)
	start := !w.running
	if start {
		w.running = true
		w.kick = make(chan struct{}, 1)
	} else if len(w.waits) == 1 {
		select {
		case w.kick <- struct{}{}:
		default: // already kicked
		}
	}
	w.mu.Unlock()
	if start {
		go w.loop()
	}
	select {
	case <-wt.done:
		return nil
	case <-ctx.Done():
		w.mu.Lock()
		w.removeLocked(wt)
		w.mu.Unlock()
		return &ctxError{err: ctx.Err()}
	}
}

// removeLocked drops wt from the list; it reports whether wt was there.
func (w *waiter) removeLocked(wt *wait) bool {
	for i, x := range w.waits {
		if x == wt {
			last := len(w.waits) - 1
			w.waits[i] = w.waits[last]
			w.waits[last] = nil
			w.waits = w.waits[:last]
			return true
		}
	}
	return false
}

func (w *waiter) loop() {
	var (
		handles []int32
		ready   []byte
		index   = map[int32]int{}
		idleMs  int64
	)
	for {
		start := time.Now()
		runtime.Gosched()
		busy := time.Since(start) > busyYield

		w.mu.Lock()
		for len(w.waits) == 0 {
			w.mu.Unlock()
			<-w.kick
			idleMs = 0
			w.mu.Lock()
		}
		// One entry per handle, asking for every bit someone waits for.
		handles, ready = handles[:0], ready[:0]
		clear(index)
		for _, wt := range w.waits {
			if i, ok := index[wt.h]; ok {
				ready[i] |= wt.interest
			} else if len(handles) < maxPollHandles {
				index[wt.h] = len(handles)
				handles = append(handles, wt.h)
				ready = append(ready, wt.interest)
			}
		}
		w.mu.Unlock()

		timeout := int64(0)
		if !busy {
			idleMs = min(max(idleMs*2, 1), idleMaxMs)
			timeout = idleMs
		}
		n := w.poll(handles, ready, timeout)
		if n == 0 {
			continue
		}
		idleMs = 0
		w.mu.Lock()
		for i := 0; i < len(w.waits); {
			wt := w.waits[i]
			j, polled := index[wt.h]
			// A failed poll wakes everyone: their own calls report the failure.
			if n < 0 || (polled && ready[j]&(wt.interest|readyInvalid) != 0) {
				w.removeLocked(wt) // moves the last wait to i
				close(wt.done)
				continue
			}
			i++
		}
		w.mu.Unlock()
	}
}
