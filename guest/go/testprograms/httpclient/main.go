// Command httpclient is the Go test guest of wasmgate's integration tests
// (crates/wasmgate/tests/abi_go.rs). Its output is a contract with those tests, in
// the style of test-programs/README.md:
//
//	httpclient get URL [-H NAME:VALUE]...   status:, proto:, header: lines, body-bytes:, ---, body
//	httpclient headers URL                  like get, sending x-from-guest: 42
//	httpclient post URL SIZE [CHUNK] [--content-length]
//	                                        like get; POSTs SIZE bytes of 0123456789abcdef…,
//	                                        streamed from an io.Reader (with --content-length
//	                                        the request says its length, else it is chunked)
//	httpclient download URL                 status:, body-bytes: (body counted, not kept)
//	httpclient seq URL N                    N sequential GETs; ok: N
//	httpclient concurrent URL N             N GETs from N goroutines; result i: status S
//	                                        (or result i: error CODE MESSAGE), ok:, elapsed-ms:
//	httpclient timeout URL MS               GET with a context deadline of MS ms
//	httpclient transports URL               default-is-http-transport: BOOL, then GETs
//	                                        through http.DefaultTransport, Use(&http.Transport{}),
//	                                        Use(nil), and (mainline Go) Use(clone of the
//	                                        default) and the bare clone: "NAME: status S"
//	                                        or "NAME: error CODE MESSAGE"
//	httpclient clones BASE SIZE             (mainline Go) through a bare and a tuned clone of
//	                                        the default transport, without Use: "NAME get:",
//	                                        "NAME post:" (SIZE bytes to BASE/echo), "NAME seq:
//	                                        ok N reused R" (20 GETs), "NAME denied: error CODE
//	                                        MESSAGE" (BASE/headers), "NAME denied-is-denied:"
//	httpclient bench URL N                  for wasmgate-bench: N sequential GETs, bodies
//	                                        drained; ok:, body-bytes:, elapsed-ms: (3
//	                                        decimals, the loop only, timed in the guest)
//
// get, headers, post, download and timeout take a last argument --clone (mainline
// Go): they then send through a clone of the default transport instead of
// http.DefaultClient.
//
// A failure prints one line "error: CODE MESSAGE" on stderr (CODE is the wasmgate ABI
// code, from errors.As on *wasmgate.Error; "ctx" for a context error, "other"
// otherwise) and exits 1. Bad usage exits 2.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	wasmgate "wasmgate.dev/guest/go"
)

func main() {
	wasmgate.Install()
	args := os.Args[1:]
	if n := len(args); n > 0 && args[n-1] == "--clone" {
		clone, ok := cloneDefault()
		if !ok {
			usage("--clone needs mainline Go")
		}
		client, args = &http.Client{Transport: clone}, args[:n-1]
	}
	if len(args) < 2 {
		usage("need a command and a URL")
	}
	cmd, url, rest := args[0], args[1], args[2:]
	switch cmd {
	case "get":
		req := newRequest(context.Background(), "GET", url, nil)
		for len(rest) >= 2 && rest[0] == "-H" {
			name, value, ok := strings.Cut(rest[1], ":")
			if !ok {
				usage("-H wants NAME:VALUE")
			}
			req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
			rest = rest[2:]
		}
		if len(rest) > 0 {
			usage("unexpected " + rest[0])
		}
		show(do(req))
	case "headers":
		req := newRequest(context.Background(), "GET", url, nil)
		req.Header.Set("x-from-guest", "42")
		show(do(req))
	case "post":
		knownLength := false
		if n := len(rest); n > 0 && rest[n-1] == "--content-length" {
			knownLength, rest = true, rest[:n-1]
		}
		if len(rest) < 1 {
			usage("post URL SIZE [CHUNK] [--content-length]")
		}
		size := number(rest[0])
		chunk := 65536
		if len(rest) > 1 {
			chunk = int(number(rest[1]))
		}
		req := newRequest(context.Background(), "POST", url, &pattern{size: size, chunk: chunk})
		if knownLength {
			req.ContentLength = size
		}
		show(do(req))
	case "download":
		resp := do(newRequest(context.Background(), "GET", url, nil))
		fmt.Printf("status: %d\n", resp.StatusCode)
		n, err := drain(resp.Body)
		if err != nil {
			fail(err)
		}
		fmt.Printf("body-bytes: %d\n", n)
	case "seq":
		n := int(number(need(rest, "seq URL N")))
		for i := 0; i < n; i++ {
			resp, err := http.Get(url)
			if err == nil {
				_, err = drain(resp.Body)
			}
			if err != nil {
				fmt.Printf("ok: %d\n", i)
				fail(err)
			}
		}
		fmt.Printf("ok: %d\n", n)
	case "bench":
		n := int(number(need(rest, "bench URL N")))
		start := time.Now()
		var total int64
		for i := 0; i < n; i++ {
			resp, err := http.Get(url)
			if err == nil {
				var got int64
				got, err = drain(resp.Body)
				total += got
			}
			if err != nil {
				fail(err)
			}
		}
		elapsed := time.Since(start)
		fmt.Printf("ok: %d\nbody-bytes: %d\nelapsed-ms: %.3f\n", n, total, float64(elapsed.Nanoseconds())/1e6)
	case "concurrent":
		concurrent(url, int(number(need(rest, "concurrent URL N"))))
	case "timeout":
		ms := number(need(rest, "timeout URL MS"))
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(ms)*time.Millisecond)
		defer cancel()
		start := time.Now()
		resp, err := client.Do(newRequest(ctx, "GET", url, nil))
		if err == nil {
			_, err = drain(resp.Body)
		}
		fmt.Printf("elapsed-ms: %d\n", time.Since(start).Milliseconds())
		if err != nil {
			fail(err)
		}
		fmt.Printf("status: %d\n", resp.StatusCode)
	case "transports":
		transports(url)
	case "clones":
		clones(url, number(need(rest, "clones BASE SIZE")))
	default:
		usage("unknown command " + cmd)
	}
}

// client sends the requests of get, headers, post, download and timeout:
// http.DefaultClient, or with a trailing --clone argument a client over a clone of
// the default transport (taken after Install, without wasmgate.Use).
var client = http.DefaultClient

func concurrent(url string, n int) {
	type result struct {
		status int
		err    error
	}
	results := make([]result, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := http.Get(url)
			if err == nil {
				_, err = drain(resp.Body)
				results[i].status = resp.StatusCode
			}
			results[i].err = err
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	ok := 0
	for i, r := range results {
		if r.err != nil {
			code, msg := describe(r.err)
			fmt.Printf("result %d: error %s %s\n", i, code, msg)
		} else {
			ok++
			fmt.Printf("result %d: status %d\n", i, r.status)
		}
	}
	fmt.Printf("ok: %d\n", ok)
	fmt.Printf("elapsed-ms: %d\n", elapsed.Milliseconds())
	if ok != n {
		os.Exit(1)
	}
}

// transports shows which ways of getting a transport go through wasmgate.
func transports(url string) {
	_, std := http.DefaultTransport.(*http.Transport)
	fmt.Printf("default-is-http-transport: %v\n", std)
	try := func(name string, rt http.RoundTripper) {
		resp, err := (&http.Client{Transport: rt}).Get(url)
		if err == nil {
			_, err = drain(resp.Body)
		}
		if err != nil {
			code, msg := describe(err)
			fmt.Printf("%s: error %s %s\n", name, code, msg)
			return
		}
		fmt.Printf("%s: status %d\n", name, resp.StatusCode)
	}
	try("default", http.DefaultTransport)
	try("use-new", wasmgate.Use(&http.Transport{}))
	try("use-nil", wasmgate.Use(nil))
	if clone, ok := cloneDefault(); ok {
		bare, _ := cloneDefault()
		try("use-clone", wasmgate.Use(clone))
		try("bare-clone", bare)
	}
}

func newRequest(ctx context.Context, method, url string, body io.Reader) *http.Request {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		usage(err.Error())
	}
	return req
}

func do(req *http.Request) *http.Response {
	resp, err := client.Do(req)
	if err != nil {
		fail(err)
	}
	return resp
}

// show prints a response the way `get` does and reads its body.
func show(resp *http.Response) {
	fmt.Printf("status: %d\nproto: %s\n", resp.StatusCode, resp.Proto)
	names := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range resp.Header[k] {
			fmt.Printf("header: %s: %s\n", strings.ToLower(k), v)
		}
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		fail(err)
	}
	fmt.Printf("body-bytes: %d\n---\n%s\n", len(body), body)
}

// drain counts a body's bytes with a fixed 64 KiB buffer (constant memory).
func drain(body io.ReadCloser) (int64, error) {
	defer body.Close()
	buf := make([]byte, 64<<10)
	var total int64
	for {
		n, err := body.Read(buf)
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// pattern yields size bytes of the repeating 0123456789abcdef, at most chunk per Read.
type pattern struct {
	off, size int64
	chunk     int
}

const alphabet = "0123456789abcdef"

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	n := len(b)
	if n > p.chunk {
		n = p.chunk
	}
	if left := p.size - p.off; int64(n) > left {
		n = int(left)
	}
	for i := 0; i < n; i++ {
		b[i] = alphabet[(p.off+int64(i))%16]
	}
	p.off += int64(n)
	return n, nil
}

func describe(err error) (code, message string) {
	var wgErr *wasmgate.Error
	if errors.As(err, &wgErr) {
		return strconv.Itoa(wgErr.Code), wgErr.Message
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return "ctx", err.Error()
	}
	return "other", err.Error()
}

func fail(err error) {
	code, msg := describe(err)
	fmt.Fprintf(os.Stderr, "error: %s %s\n", code, msg)
	os.Exit(1)
}

func need(rest []string, form string) string {
	if len(rest) < 1 {
		usage(form)
	}
	return rest[0]
}

func number(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		usage("not a number: " + s)
	}
	return n
}

func usage(reason string) {
	fmt.Fprintln(os.Stderr, "usage: httpclient get|headers|post|download|seq|concurrent|timeout|bench|transports|clones URL [ARGS]")
	fmt.Fprintln(os.Stderr, reason)
	os.Exit(2)
}
