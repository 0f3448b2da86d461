//go:build !tinygo

package wasmgate

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The HTTP/1.1 of the dial-level bridge (bridge.go) that needs no connection: the
// URL of a request, and the framing of a response.

// targetURL is the absolute URL of a request read from a connection dialled to addr
// (host:port): scheme://addr followed by the origin-form target, the scheme's default
// port left out. The host is the dialled one whatever the target or a Host header
// says.
func targetURL(scheme, addr, target string) (*url.URL, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &Error{Code: ErrBadURL, Op: "bridge", Message: err.Error()}
	}
	if !strings.HasPrefix(target, "/") {
		return nil, &Error{Code: ErrBadURL, Op: "bridge", Message: "not an origin-form request target: " + target}
	}
	authority := addr
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		authority = host
		if strings.Contains(host, ":") {
			authority = "[" + host + "]"
		}
	}
	u, err := url.Parse(scheme + "://" + authority + target)
	if err != nil {
		return nil, &Error{Code: ErrBadURL, Op: "bridge", Message: err.Error()}
	}
	if u.Host != authority || u.User != nil || u.Scheme != scheme {
		// Cannot happen with a target starting with "/"; checked because the host
		// must be the dialled one.
		return nil, &Error{Code: ErrBadURL, Op: "bridge", Message: "request target names another host: " + target}
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// framing is how a response body is delimited on the connection.
type framing int

const (
	noBody      framing = iota // HEAD, 204, 304
	lengthBody                 // Content-Length
	chunkedBody                // length unknown: Transfer-Encoding: chunked
	badResponse                // a 1xx final response, which HTTP/1.1 cannot frame
)

func responseFraming(method string, resp *http.Response) framing {
	switch {
	case resp.StatusCode < 200:
		return badResponse
	case method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified:
		return noBody
	case resp.ContentLength >= 0:
		return lengthBody
	}
	return chunkedBody
}

// hopHeaders describe a connection, not a response, so they are not passed on;
// Content-Length and Transfer-Encoding are written from the framing.
var hopHeaders = map[string]bool{
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Connection":    true,
	"Proxy-Authenticate":  true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
	"Trailer":             true,
	"Content-Length":      true,
	"Proxy-Authorization": true,
}

// writeResponseHead writes the status line and headers of resp as HTTP/1.1 and
// flushes them.
func writeResponseHead(w *bufio.Writer, resp *http.Response, method string, f framing, closeAfter bool) error {
	code := resp.StatusCode
	reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(code)))
	if reason == "" {
		reason = http.StatusText(code)
	}
	w.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + reason + "\r\n")
	exclude := map[string]bool{}
	for k := range hopHeaders {
		exclude[k] = true
	}
	for _, v := range resp.Header.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				exclude[http.CanonicalHeaderKey(name)] = true
			}
		}
	}
	if err := resp.Header.WriteSubset(w, exclude); err != nil {
		return err
	}
	switch {
	case f == lengthBody, f == noBody && method == http.MethodHead && resp.ContentLength >= 0:
		w.WriteString("Content-Length: " + strconv.FormatInt(resp.ContentLength, 10) + "\r\n")
	case f == chunkedBody:
		w.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if closeAfter {
		w.WriteString("Connection: close\r\n")
	}
	w.WriteString("\r\n")
	return w.Flush()
}

// writeResponseBody copies resp's body with the framing f, flushing after every
// read so a streamed response reaches the caller as it arrives. Memory stays
// bounded: one 32 KiB buffer. A failure to read the body is returned as is (the
// caller gets it); a body shorter than its Content-Length is io.ErrUnexpectedEOF.
func writeResponseBody(w *bufio.Writer, resp *http.Response, f framing) error {
	if f == noBody {
		return nil
	}
	remaining := resp.ContentLength
	if f == lengthBody && remaining == 0 {
		return nil
	}
	buf := make([]byte, 32<<10)
	for {
		p := buf
		if f == lengthBody && int64(len(p)) > remaining {
			p = p[:remaining]
		}
		n, rerr := resp.Body.Read(p)
		if n > 0 {
			if f == chunkedBody {
				w.WriteString(strconv.FormatInt(int64(n), 16) + "\r\n")
			}
			w.Write(p[:n])
			if f == chunkedBody {
				w.WriteString("\r\n")
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if f == lengthBody {
				if remaining -= int64(n); remaining == 0 {
					return nil
				}
			}
		}
		if rerr == io.EOF {
			if f == lengthBody {
				return io.ErrUnexpectedEOF
			}
			w.WriteString("0\r\n\r\n")
			return w.Flush()
		}
		if rerr != nil {
			return rerr
		}
	}
}
