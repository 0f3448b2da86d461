package wasmgate

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeHost stands in for the host's poll: handles become ready when a test says so.
type fakeHost struct {
	mu     sync.Mutex
	ready  map[int32]byte
	polls  int
	maxLen int
	seen   map[int32]byte // interest asked for per handle in the last poll
}

func (f *fakeHost) set(h int32, bits byte) {
	f.mu.Lock()
	f.ready[h] |= bits
	f.mu.Unlock()
}

func (f *fakeHost) poll(handles []int32, ready []byte, timeoutMs int64) int32 {
	if timeoutMs < 0 || timeoutMs > idleMaxMs {
		panic("timeout out of range")
	}
	deadline := time.Now().Add(time.Duration(timeoutMs) * time.Millisecond)
	for {
		f.mu.Lock()
		f.polls++
		f.maxLen = max(f.maxLen, len(handles))
		f.seen = map[int32]byte{}
		n := int32(0)
		out := make([]byte, len(ready))
		for i, h := range handles {
			f.seen[h] = ready[i]
			if b := f.ready[h] & (ready[i] | readyInvalid); b != 0 {
				out[i] = b
				n++
			}
		}
		f.mu.Unlock()
		if n > 0 || !time.Now().Before(deadline) {
			copy(ready, out)
			return n
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func newFake() (*fakeHost, *waiter) {
	f := &fakeHost{ready: map[int32]byte{}}
	return f, &waiter{poll: f.poll}
}

func TestWaiterWakesOnlyReadyWaiters(t *testing.T) {
	f, w := newFake()
	done := make(chan int32, 10)
	for h := int32(1); h <= 10; h++ {
		go func(h int32) {
			if err := w.await(context.Background(), h, readyResponse); err != nil {
				t.Error(err)
			}
			done <- h
		}(h)
	}
	waitFor(t, func() bool { w.mu.Lock(); defer w.mu.Unlock(); return len(w.waits) == 10 })
	f.set(3, readyBody) // not what anyone waits for
	f.set(4, readyResponse)
	if h := <-done; h != 4 {
		t.Fatalf("woke %d, want 4", h)
	}
	f.set(5, readyInvalid) // a closed handle wakes its waiters
	if h := <-done; h != 5 {
		t.Fatalf("woke %d, want 5", h)
	}
	for h := int32(1); h <= 10; h++ {
		f.set(h, readyResponse)
	}
	for i := 0; i < 8; i++ {
		<-done
	}
	// With nobody waiting the loop parks; a new wait wakes it.
	polls := func() int { f.mu.Lock(); defer f.mu.Unlock(); return f.polls }
	time.Sleep(20 * time.Millisecond) // let it finish its last poll
	before := polls()
	time.Sleep(20 * time.Millisecond)
	if after := polls(); after != before {
		t.Errorf("the loop polled %d times with nobody waiting", after-before)
	}
	f.set(11, readyBody)
	if err := w.await(context.Background(), 11, readyBody); err != nil {
		t.Fatal(err)
	}
	if f.maxLen > 10 {
		t.Errorf("polled %d handles at once, want at most 10", f.maxLen)
	}
}

// Two goroutines waiting on one handle for different bits share one poll entry.
func TestWaiterMergesInterestPerHandle(t *testing.T) {
	f, w := newFake()
	var wg sync.WaitGroup
	for _, bits := range []byte{readyResponse, readyWrite} {
		wg.Add(1)
		go func(bits byte) {
			defer wg.Done()
			w.await(context.Background(), 7, bits)
		}(bits)
	}
	waitFor(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.seen[7] == readyResponse|readyWrite && f.maxLen == 1
	})
	f.set(7, readyResponse|readyWrite)
	wg.Wait()
}

func TestWaiterHonoursContext(t *testing.T) {
	_, w := newFake()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := w.await(ctx, 1, readyBody)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.waits) != 0 {
		t.Errorf("cancelled wait still registered")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached in 5 s")
}
