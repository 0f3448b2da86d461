//go:build !tinygo

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"time"

	wasmgate "wasmgate.dev/guest/go"
)

// cloneDefault is the common SDK idiom; TinyGo's http.Transport has no Clone.
func cloneDefault() (*http.Transport, bool) {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, false
	}
	return t.Clone(), true
}

// clones runs requests through clones of the default transport taken after Install,
// one bare and one tuned the way SDKs do, without wasmgate.Use: a GET of base/hello,
// a streamed POST of size bytes to base/echo (checked as it comes back), 20 GETs of
// base/hello on kept-alive connections, and a GET of base/headers, which the test's
// policy denies.
func clones(base string, size int64) {
	bare, ok := cloneDefault()
	if !ok {
		fmt.Println("default transport is not a *http.Transport")
		os.Exit(1)
	}
	tuned, _ := cloneDefault()
	tuned.MaxIdleConns = 3
	tuned.IdleConnTimeout = 30 * time.Second
	tuned.ResponseHeaderTimeout = 60 * time.Second
	failed := false
	for _, c := range []struct {
		name string
		tr   *http.Transport
	}{{"bare-clone", bare}, {"tuned-clone", tuned}} {
		client := &http.Client{Transport: c.tr}
		say := func(what string, format string, args ...any) {
			fmt.Printf("%s %s: %s\n", c.name, what, fmt.Sprintf(format, args...))
		}
		sayErr := func(what string, err error) {
			code, msg := describe(err)
			say(what, "error %s %s", code, msg)
			failed = true
		}

		if resp, err := client.Get(base + "/hello"); err != nil {
			sayErr("get", err)
		} else {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				sayErr("get", err)
			} else {
				say("get", "status %d body %s", resp.StatusCode, body)
			}
		}

		if resp, err := client.Post(base+"/echo", "application/octet-stream", &pattern{size: size, chunk: 10000}); err != nil {
			sayErr("post", err)
		} else {
			n, same, err := compare(resp.Body, &pattern{size: size, chunk: 65536})
			resp.Body.Close()
			if err != nil {
				sayErr("post", err)
			} else {
				say("post", "status %d echoed %d same %v", resp.StatusCode, n, same)
			}
		}

		reused := 0
		trace := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				if info.Reused {
					reused++
				}
			},
		})
		ok := 0
		for i := 0; i < 20; i++ {
			resp, err := client.Do(newRequest(trace, "GET", base+"/hello", nil))
			if err == nil {
				_, err = drain(resp.Body)
			}
			if err != nil {
				sayErr("seq", err)
				break
			}
			ok++
		}
		say("seq", "ok %d reused %d", ok, reused)

		_, err := client.Get(base + "/headers")
		code, msg := describe(err)
		say("denied", "error %s %s", code, msg)
		say("denied-is-denied", "%v", wasmgate.IsDenied(err))
	}
	if failed {
		os.Exit(1)
	}
}

// compare reads a and b to their ends in 64 KiB steps and reports a's length and
// whether the two were the same bytes.
func compare(a io.Reader, b io.Reader) (int64, bool, error) {
	bufA, bufB := make([]byte, 64<<10), make([]byte, 64<<10)
	var total int64
	same := true
	for {
		n, err := io.ReadFull(a, bufA)
		if n > 0 {
			m, _ := io.ReadFull(b, bufB[:n])
			same = same && m == n && string(bufA[:n]) == string(bufB[:n])
			total += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			extra, _ := b.Read(bufB[:1])
			return total, same && extra == 0, nil
		}
		if err != nil {
			return total, false, err
		}
	}
}
