// Command cgihandler is an ordinary Go HTTP handler served through CGI with the
// standard library's net/http/cgi (mainline Go), or wasmgate.ServeCGI under TinyGo,
// whose standard library has no net/http/cgi (serve_*.go): the kind of core module `wasmgate serve` runs one
// instance of per request (meta-variables in the environment, the body on stdin, the
// response head and body on stdout). Its only wasmgate-specific line is
// wasmgate.Install(), so that /fetch goes out through the host.
//
// Routes:
//
//	/hello            200 "hello from cgihandler\n"
//	/echo             200, the request body back (Content-Type copied from the request)
//	/fetch?url=URL    one http.Get of URL; 200 "upstream-status: CODE\n---\n" and the
//	                  upstream body, or 502 with the error: the ABI code name
//	                  (ERR_DENIED, …) for a wasmgate error, else the error text
//	/slow?ms=N        sleeps N ms, then 200 "slept N ms\n"
//	/status?code=N    answers status N with "status N\n"
//	/env              200, the CGI request as Go saw it: method, URL, host, remote
//	                  address, TLS, then the headers, one per line, sorted
//	anything else     404 "not found: PATH\n"
//
// Every response has X-Handler: cgihandler.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"time"

	wasmgate "wasmgate.dev/guest/go"
)

func main() {
	wasmgate.Install()
	if err := serve(http.HandlerFunc(handle)); err != nil {
		fmt.Fprintln(os.Stderr, "cgihandler:", err)
		os.Exit(1)
	}
}

func handle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Handler", "cgihandler")
	switch r.URL.Path {
	case "/hello":
		text(w, http.StatusOK, "hello from cgihandler\n")
	case "/echo":
		if ct := r.Header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		} else {
			w.Header().Set("Content-Type", "application/octet-stream")
		}
		if _, err := io.Copy(w, r.Body); err != nil {
			fmt.Fprintln(os.Stderr, "cgihandler: echo:", err)
		}
	case "/fetch":
		fetch(w, r.URL.Query().Get("url"))
	case "/slow":
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 {
			text(w, http.StatusBadRequest, "bad or missing parameter: ms\n")
			return
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		text(w, http.StatusOK, fmt.Sprintf("slept %d ms\n", ms))
	case "/status":
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil || code < 200 || code > 599 {
			text(w, http.StatusBadRequest, "bad or missing parameter: code\n")
			return
		}
		text(w, code, fmt.Sprintf("status %d\n", code))
	case "/env":
		env(w, r)
	default:
		text(w, http.StatusNotFound, "not found: "+r.URL.Path+"\n")
	}
}

func text(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, body)
}

func fetch(w http.ResponseWriter, url string) {
	if url == "" {
		text(w, http.StatusBadRequest, "missing parameter: url\n")
		return
	}
	resp, err := http.Get(url)
	if err != nil {
		text(w, http.StatusBadGateway, errorName(err)+"\n")
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		text(w, http.StatusBadGateway, errorName(err)+"\n")
		return
	}
	text(w, http.StatusOK, fmt.Sprintf("upstream-status: %d\n---\n%s", resp.StatusCode, body))
}

// errorName is the ABI code name of a wasmgate error (ERR_DENIED), else the error.
func errorName(err error) string {
	if code := wasmgate.CodeOf(err); code != 0 {
		return wasmgate.CodeName(code)
	}
	return err.Error()
}

func env(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "method: %s\nurl: %s\nhost: %s\nremote: %s\ntls: %t\nproto: %s\ncontent-length: %d\n",
		r.Method, r.URL, r.Host, r.RemoteAddr, r.TLS != nil, r.Proto, r.ContentLength)
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range r.Header[name] {
			fmt.Fprintf(w, "header: %s: %s\n", name, v)
		}
	}
}
