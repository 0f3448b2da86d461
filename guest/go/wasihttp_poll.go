//go:build wasip2

package wasmgate

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Waiting for pollables without stopping the program.
//
// TinyGo runs every goroutine on one thread and never preempts: a goroutine that
// calls wasi:io/poll.poll (or pollable.block) stops all of them until the host
// returns. So no goroutine of the transport waits in the host by itself. It
// registers its pollable and sleeps on a channel; one goroutine, the poller, polls
// the pollables of every waiting goroutine at once and wakes the ones that are
// ready. The poller blocks the program only when everything else has had its turn
// (runtime.Gosched first; if that took a while, others are computing and it only
// peeks), and never for longer than the nearest context deadline of a waiter or the
// idle block, with a monotonic-clock pollable in the same poll as the timeout. The
// idle block starts at minPollBlock and doubles up to maxPollBlock while nothing
// happens: timers the transport does not know about (time.Sleep, time.After, other
// contexts) fire at most that late, and a long wait costs one wake-up per
// maxPollBlock, not a busy loop.

// minPollBlock and maxPollBlock bound how long the poller blocks the program inside
// the host when no waiter's deadline is nearer.
const (
	minPollBlock = 2 * time.Millisecond
	maxPollBlock = 20 * time.Millisecond
)

// maxYieldRounds bounds the Gosched rounds before polling: the poller yields at
// least twice, and again while the waiter set keeps changing (a woken goroutine may
// start another that registers a pollable of its own a little later).
const maxYieldRounds = 16

// busyYieldTime: a yield that took longer means other goroutines are computing, so
// the poller only peeks (timeout 0) instead of stalling them. A yield with nothing
// else to run takes microseconds.
const busyYieldTime = 100 * time.Microsecond

type pollWaiter struct {
	p        uint32        // borrowed: its owner drops it only after unregistering
	deadline time.Time     // the owner's context deadline (zero: none)
	ready    chan struct{} // buffered: the poller never blocks on a send
}

var poller struct {
	mu      sync.Mutex
	waiters []*pollWaiter
	gen     uint64        // changes whenever waiters does
	kick    chan struct{} // wakes the idle poller; buffered
	started bool
}

var errAborted = errors.New("wasmgate: request aborted")

// await returns once pollable p is ready (nil), ctx is done (ctx.Err()) or abort is
// closed (errAborted). The caller still owns p.
func await(p uint32, ctx context.Context, abort <-chan struct{}) error {
	if wasiPollableReady(p) != 0 {
		return nil
	}
	w := &pollWaiter{p: p, ready: make(chan struct{}, 1)}
	if d, ok := ctx.Deadline(); ok {
		w.deadline = d
	}
	poller.mu.Lock()
	poller.waiters = append(poller.waiters, w)
	poller.gen++
	if !poller.started {
		poller.started = true
		poller.kick = make(chan struct{}, 1)
		go pollLoop()
	}
	poller.mu.Unlock()
	select {
	case poller.kick <- struct{}{}:
	default:
	}

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		unregister(w)
		return ctx.Err()
	case <-abort:
		unregister(w)
		return errAborted
	}
}

func unregister(w *pollWaiter) {
	poller.mu.Lock()
	defer poller.mu.Unlock()
	for i, o := range poller.waiters {
		if o == w {
			last := len(poller.waiters) - 1
			poller.waiters[i] = poller.waiters[last]
			poller.waiters[last] = nil
			poller.waiters = poller.waiters[:last]
			poller.gen++
			return
		}
	}
}

// pollLoop is the poller. It lives as long as the program and sleeps on
// poller.kick while nobody waits.
func pollLoop() {
	var batch []*pollWaiter
	var handles []uint32
	idle := minPollBlock
	for {
		yieldStart := time.Now()
		for i := 0; i < maxYieldRounds; i++ {
			poller.mu.Lock()
			gen := poller.gen
			poller.mu.Unlock()
			runtime.Gosched()
			poller.mu.Lock()
			same := poller.gen == gen
			poller.mu.Unlock()
			// At least two rounds: timers fire in the scheduler during a yield, and the
			// goroutines they wake are queued behind the poller, to run in the next.
			if same && i >= 1 {
				break
			}
		}

		poller.mu.Lock()
		batch = append(batch[:0], poller.waiters...)
		poller.mu.Unlock()
		if len(batch) == 0 {
			<-poller.kick
			continue
		}

		timeout := idle
		now := time.Now()
		if now.Sub(yieldStart) > busyYieldTime {
			timeout = 0
		}
		handles = handles[:0]
		for _, w := range batch {
			handles = append(handles, w.p)
			if !w.deadline.IsZero() {
				if d := w.deadline.Sub(now); d < timeout {
					timeout = d
				}
			}
		}
		if timeout < 0 {
			timeout = 0
		}
		clock := wasiSubscribeDuration(uint64(timeout))
		handles = append(handles, clock)
		var r retArea
		wasiPoll(unsafe.Pointer(&handles[0]), uint32(len(handles)), r.ptr())
		wasiPollableDrop(clock)

		// The result is a list<u32> of indices into handles.
		list := loadPtr(r.ptr(), 0)
		n := uintptr(load32(r.ptr(), 4))
		poller.mu.Lock()
		for i := uintptr(0); i < n; i++ {
			idx := *(*uint32)(unsafe.Add(list, 4*i))
			if int(idx) >= len(batch) {
				continue // the clock
			}
			w := batch[idx]
			for j, o := range poller.waiters {
				if o == w {
					last := len(poller.waiters) - 1
					poller.waiters[j] = poller.waiters[last]
					poller.waiters[last] = nil
					poller.waiters = poller.waiters[:last]
					poller.gen++
					w.ready <- struct{}{}
					break
				}
			}
		}
		poller.mu.Unlock()
		if n == 1 && int(*(*uint32)(list)) == len(batch) {
			// Only the clock: nothing happened, wait longer next time.
			if idle *= 2; idle > maxPollBlock {
				idle = maxPollBlock
			}
		} else {
			idle = minPollBlock
		}
		releaseImportPins()
		for i := range batch {
			batch[i] = nil
		}
	}
}
