// Command ordinary is an ordinary net/http + encoding/json program, the kind a user
// brings to wasmgate. The tests build this one source four ways — mainline Go wasip1,
// TinyGo wasip1, TinyGo wasip2 and a native build — and run each against the same
// local server. Its only wasmgate-specific lines are wasmgate.Install() and the error
// inspection in "denied".
//
//	ordinary MODE URL [ARG]
//
// Modes print "key: value" lines on stdout; a failure prints "error: …" on stderr and
// exits 1.
//
//	json URL            GET a JSON document and decode it
//	get URL             GET; print the status and the body
//	post URL SIZE       POST SIZE bytes streamed from a reader to an echo route; check the echo
//	download URL        stream the body, counting bytes without keeping them
//	put URL             PUT a small body with the header X-Ordinary; print the answer after ---
//	denied URL          expect the request to be refused; print the error's code
//	deadline URL MS     GET under a context deadline of MS ms; expect it to pass
//	client-timeout URL MS  GET through &http.Client{Timeout: MS ms}; expect it to pass
//	concurrent URL N    N GETs at once from N goroutines
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	wasmgate "wasmgate.dev/guest/go"
)

func main() {
	wasmgate.Install()

	if len(os.Args) < 3 {
		fail(errors.New("usage: ordinary MODE URL [ARG]"))
	}
	mode, url := os.Args[1], os.Args[2]
	arg := ""
	if len(os.Args) > 3 {
		arg = os.Args[3]
	}
	start := time.Now()
	var err error
	switch mode {
	case "json":
		err = getJSON(url)
	case "get":
		err = get(url)
	case "post":
		err = post(url, number(arg))
	case "download":
		err = download(url)
	case "put":
		err = put(url)
	case "denied":
		err = denied(url)
	case "deadline":
		err = deadline(url, time.Duration(number(arg))*time.Millisecond)
	case "client-timeout":
		err = clientTimeout(url, time.Duration(number(arg))*time.Millisecond)
	case "concurrent":
		err = concurrent(url, int(number(arg)))
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fail(err)
	}
	fmt.Printf("elapsed-ms: %d\n", time.Since(start).Milliseconds())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}

func number(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		fail(fmt.Errorf("not a number: %q", s))
	}
	return n
}

type release struct {
	Name    string   `json:"name"`
	Version int      `json:"version"`
	Tags    []string `json:"tags"`
}

func getJSON(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unexpected status %s", resp.Status)
	}
	var r release
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return err
	}
	fmt.Printf("content-type: %s\nname: %s\nversion: %d\ntags: %s\n",
		resp.Header.Get("Content-Type"), r.Name, r.Version, strings.Join(r.Tags, ","))
	return nil
}

func get(url string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	status, body, err := send(req)
	if err != nil {
		return err
	}
	fmt.Printf("status: %d\nbody: %s\n", status, body)
	return nil
}

// send sends req with the default client and reads the whole (small) answer.
func send(req *http.Request) (int, []byte, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// pattern is an endless reader of a repeating byte pattern, so large bodies are
// streamed rather than held in memory.
type pattern struct{ off, left int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	for i := range b {
		b[i] = byte('a' + (p.off+int64(i))%26)
	}
	p.off += int64(len(b))
	p.left -= int64(len(b))
	return len(b), nil
}

func post(url string, size int64) error {
	// Not an *bytes.Reader: net/http must stream it (no Content-Length known).
	resp, err := http.Post(url, "application/octet-stream", io.MultiReader(&pattern{left: size}))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Compare the echo with the pattern chunk by chunk, never holding the whole body.
	want := &pattern{left: size}
	got := make([]byte, 32<<10)
	exp := make([]byte, 32<<10)
	var n int64
	for {
		k, rerr := resp.Body.Read(got)
		if k > 0 {
			if _, err := io.ReadFull(want, exp[:k]); err != nil {
				return fmt.Errorf("echo longer than the %d bytes sent", size)
			}
			if string(got[:k]) != string(exp[:k]) {
				return fmt.Errorf("echo differs from the body sent near byte %d", n)
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	fmt.Printf("status: %d\necho-bytes: %d\n", resp.StatusCode, n)
	return nil
}

func download(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return err
	}
	fmt.Printf("status: %d\nbody-bytes: %d\n", resp.StatusCode, n)
	return nil
}

func put(url string) error {
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader("put body"))
	if err != nil {
		return err
	}
	req.Header.Set("X-Ordinary", "yes")
	status, body, err := send(req)
	if err != nil {
		return err
	}
	fmt.Printf("status: %d\n---\n%s\n", status, body)
	return nil
}

func denied(url string) error {
	resp, err := http.Get(url)
	if err == nil {
		resp.Body.Close()
		return fmt.Errorf("expected a refusal, got %s", resp.Status)
	}
	var wg *wasmgate.Error
	if !errors.As(err, &wg) {
		return fmt.Errorf("not a *wasmgate.Error: %T: %v", err, err)
	}
	fmt.Printf("denied: %v\ncode: %d %s\nwasi-error-code: %s\nmessage: %s\n",
		wasmgate.IsDenied(err), wg.Code, wasmgate.CodeName(wg.Code), wg.WASIErrorCode, err)
	return nil
}

func deadline(url string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		return fmt.Errorf("expected the deadline to pass, got %s", resp.Status)
	}
	fmt.Printf("deadline-exceeded: %v\nafter-ms: %d\nmessage: %v\n",
		errors.Is(err, context.DeadlineExceeded), time.Since(start).Milliseconds(), err)
	return nil
}

func clientTimeout(url string, d time.Duration) error {
	client := &http.Client{Timeout: d}
	start := time.Now()
	resp, err := client.Get(url)
	if err == nil {
		resp.Body.Close()
		return fmt.Errorf("expected the client timeout to pass, got %s", resp.Status)
	}
	var ne interface{ Timeout() bool }
	fmt.Printf("timeout: %v\nafter-ms: %d\nmessage: %v\n",
		errors.As(err, &ne) && ne.Timeout(), time.Since(start).Milliseconds(), err)
	return nil
}

func concurrent(url string, n int) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := http.Get(url)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				errs[i] = err
				return
			}
			if resp.StatusCode != http.StatusOK {
				errs[i] = fmt.Errorf("status %s", resp.Status)
			}
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("request %d: %w", i, err)
		}
	}
	fmt.Printf("ok: %d\n", n)
	return nil
}
