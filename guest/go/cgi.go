package wasmgate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
)

// ServeCGI serves the one request of a CGI/1.1 program (RFC 3875) with h: the request
// comes from the environment's meta-variables and standard input, the response goes to
// standard output as CGI header lines and the body. It is how a handler runs under
// `wasmgate serve` as a wasip1 core module (one instance per request).
//
// Mainline Go programs can use the standard library's net/http/cgi.Serve instead;
// ServeCGI exists for TinyGo, whose standard library has no net/http/cgi, and works the
// same in both. Responses are streamed through a 32 KiB buffer; a handler that asserts
// http.Flusher gets one that pushes what it wrote so far to the server.
func ServeCGI(h http.Handler) error {
	req, err := cgiRequest(os.Getenv, os.Environ(), os.Stdin)
	if err != nil {
		return err
	}
	w := &cgiResponse{out: bufio.NewWriterSize(os.Stdout, 32<<10), header: http.Header{}}
	h.ServeHTTP(w, req)
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.out.Flush(); err != nil && w.err == nil {
		w.err = err
	}
	return w.err
}

// cgiRequest builds the request from the meta-variables (getenv, environ) and body.
func cgiRequest(getenv func(string) string, environ []string, body io.Reader) (*http.Request, error) {
	method := getenv("REQUEST_METHOD")
	if method == "" {
		return nil, errors.New("wasmgate: ServeCGI: REQUEST_METHOD is not set: not run as a CGI program")
	}
	uri := getenv("REQUEST_URI")
	if uri == "" {
		uri = getenv("SCRIPT_NAME") + getenv("PATH_INFO")
		if q := getenv("QUERY_STRING"); q != "" {
			uri += "?" + q
		}
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, fmt.Errorf("wasmgate: ServeCGI: request URI %q: %v", uri, err)
	}
	proto := getenv("SERVER_PROTOCOL")
	if proto == "" {
		proto = "HTTP/1.0"
	}
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		return nil, fmt.Errorf("wasmgate: ServeCGI: SERVER_PROTOCOL %q is not HTTP/X.Y", proto)
	}
	header := http.Header{}
	for _, kv := range environ {
		k, v, found := strings.Cut(kv, "=")
		// HTTP_PROXY is never a request header (httpoxy): net/http/cgi skips it too.
		if !found || !strings.HasPrefix(k, "HTTP_") || k == "HTTP_PROXY" {
			continue
		}
		name := http.CanonicalHeaderKey(strings.ReplaceAll(k[len("HTTP_"):], "_", "-"))
		header.Add(name, v)
	}
	if ct := getenv("CONTENT_TYPE"); ct != "" {
		header.Set("Content-Type", ct)
	}
	length := int64(0)
	if cl := getenv("CONTENT_LENGTH"); cl != "" {
		length, err = strconv.ParseInt(cl, 10, 64)
		if err != nil || length < 0 {
			return nil, fmt.Errorf("wasmgate: ServeCGI: CONTENT_LENGTH %q is not a length", cl)
		}
	}
	host := header.Get("Host")
	if host == "" {
		host = getenv("SERVER_NAME")
		if port := getenv("SERVER_PORT"); port != "" {
			host += ":" + port
		}
	}
	u.Host = host
	u.Scheme = "http"
	if getenv("HTTPS") == "on" {
		u.Scheme = "https"
	}
	req := &http.Request{
		Method:        method,
		URL:           u,
		Proto:         proto,
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        header,
		Host:          host,
		ContentLength: length,
		Body:          http.NoBody,
		RequestURI:    uri,
	}
	if length > 0 {
		req.Body = io.NopCloser(io.LimitReader(body, length))
	}
	if addr := getenv("REMOTE_ADDR"); addr != "" {
		req.RemoteAddr = addr
		if port := getenv("REMOTE_PORT"); port != "" {
			req.RemoteAddr = joinHostPort(addr, port)
		}
	}
	return req, nil
}

// joinHostPort is net.JoinHostPort (brackets for IPv6) without importing net.
func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// cgiResponse writes the response as CGI output: `Status:` and the header lines, a
// blank line, then the body.
type cgiResponse struct {
	out         *bufio.Writer
	header      http.Header
	wroteHeader bool
	err         error
}

func (w *cgiResponse) Header() http.Header { return w.header }

// lineBreaks would let a header value start a header of its own: they become spaces,
// as net/http does when it writes headers.
var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

func (w *cgiResponse) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if code < 200 || code > 599 {
		// A CGI answer is final: 1xx cannot be one, and anything else is a handler bug.
		code = http.StatusInternalServerError
	}
	if w.header.Get("Content-Type") == "" {
		w.header.Set("Content-Type", "text/plain; charset=utf-8")
	}
	fmt.Fprintf(w.out, "Status: %d %s\r\n", code, http.StatusText(code))
	names := make([]string, 0, len(w.header))
	for name := range w.header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range w.header[name] {
			fmt.Fprintf(w.out, "%s: %s\r\n", lineBreaks.Replace(name), lineBreaks.Replace(v))
		}
	}
	if _, err := w.out.WriteString("\r\n"); err != nil && w.err == nil {
		w.err = err
	}
}

func (w *cgiResponse) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.out.Write(b)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// Flush sends what the handler wrote so far (http.Flusher).
func (w *cgiResponse) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.out.Flush(); err != nil && w.err == nil {
		w.err = err
	}
}
