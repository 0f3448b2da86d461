package wasmgate

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Transport is an http.RoundTripper that sends every request through the WebAssembly
// host, and so through wasmgate's egress policy. The zero value is ready to use and
// safe for concurrent use by many goroutines.
//
// The backend depends on the build target:
//   - wasip1 (mainline Go GOOS=wasip1, TinyGo -target=wasip1): wasmgate's host ABI
//     (import module wasmgate_http_v1, docs/abi.md);
//   - TinyGo -target=wasip2: standard wasi:http@0.2.0, so the module also runs under
//     other wasi:http hosts (wasmtime run -S http);
//   - anything else (a native build): RoundTrip fails with an *Error whose Code is
//     ErrUnsupported. Install and Use leave net/http's own transport in place there,
//     so a program that only uses them needs no build tags.
//
// Request and response bodies stream in chunks of at most 64 KiB, so memory stays
// bounded however large they are. The request's context is honoured: when it is done
// the request is cancelled and RoundTrip (or a Read of the response body) returns an
// error wrapping ctx.Err(). Failures of the host come back as *Error. Redirects are
// not followed by the host: http.Client follows them itself, and the policy checks
// each hop.
//
// Headers the host manages (Connection, Keep-Alive, Transfer-Encoding, Upgrade,
// Host, Proxy-*, HTTP2-Settings) are not sent; the Host header always comes from the
// URL. Response.Proto is the HTTP version used on the wire where the host reports it
// (wasmgate ≥ 0.1.1 on wasip1), "HTTP/1.1" otherwise. Responses carry no trailers.
type Transport struct {
	// ConnectTimeout, FirstByteTimeout and BetweenBytesTimeout, when positive, ask for
	// shorter timeouts than the host's (wasmgate caps them by its policy).
	ConnectTimeout      time.Duration
	FirstByteTimeout    time.Duration
	BetweenBytesTimeout time.Duration
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.roundTrip(req)
}

// outgoing is a validated request ready for a backend.
type outgoing struct {
	method string        // as the caller wrote it ("" → GET)
	url    string        // absolute URL without user info or fragment
	header http.Header   // host-managed headers removed; User-Agent, Content-Length, Basic auth from URL user info set
	body   io.ReadCloser // nil when there is no body; from here on the backend owns and closes it
	ctx    context.Context
}

// hostManaged lists request headers no backend forwards: the host manages them
// (docs/abi.md, request_header; wasi:http calls them forbidden) and refuses them.
var hostManaged = map[string]bool{
	"connection":          true,
	"keep-alive":          true,
	"proxy-authenticate":  true,
	"proxy-authorization": true,
	"proxy-connection":    true,
	"transfer-encoding":   true,
	"upgrade":             true,
	"host":                true,
	"http2-settings":      true,
}

const defaultUserAgent = "Go-http-client/1.1"

var errNoURL = errors.New("wasmgate: request has no URL")

// prepare validates req and turns it into what every backend sends. On error it
// closes req.Body, as http.RoundTripper requires.
func prepare(req *http.Request) (*outgoing, error) {
	hasBody := req.Body != nil && req.Body != http.NoBody
	closeBody := func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}
	if req.URL == nil {
		closeBody()
		return nil, errNoURL
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		closeBody()
		return nil, &ctxError{err: err}
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	u := *req.URL
	header := http.Header{}
	for k, vv := range req.Header {
		if hostManaged[strings.ToLower(k)] {
			continue
		}
		header[k] = append([]string(nil), vv...)
	}
	if u.User != nil {
		// Hosts take no user info in URLs; send it the way net/http does.
		if header.Get("Authorization") == "" {
			password, _ := u.User.Password()
			header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+password)))
		}
		u.User = nil
	}
	u.Fragment, u.RawFragment = "", ""
	if vv, ok := header["User-Agent"]; !ok {
		header.Set("User-Agent", defaultUserAgent)
	} else if len(vv) == 1 && vv[0] == "" {
		// net/http's convention: an empty User-Agent means "send none".
		delete(header, "User-Agent")
	}
	if header.Get("Content-Length") == "" {
		if hasBody && req.ContentLength > 0 {
			header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
		} else if !hasBody && (method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch) {
			header.Set("Content-Length", "0")
		}
	}
	o := &outgoing{method: method, url: u.String(), header: header, ctx: ctx}
	if hasBody {
		o.body = req.Body
	} else {
		closeBody()
	}
	return o, nil
}

// sortedHeaderNames gives the names of h in a stable order, so requests are
// reproducible (tests, audit logs).
func sortedHeaderNames(h http.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// newResponse builds the response for a head the host reported. hasBody is false for
// HEAD, 204, 304 and 1xx: resp.Body is then http.NoBody and the backend frees its
// handle. Proto is "HTTP/1.1"; a backend that knows the wire version overrides it.
func newResponse(req *http.Request, method string, status int, header http.Header) (resp *http.Response, hasBody bool) {
	if header == nil {
		header = http.Header{}
	}
	resp = &http.Response{
		Status:        statusLine(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		ContentLength: -1,
		Request:       req,
	}
	if te := header.Values("Transfer-Encoding"); len(te) > 0 {
		resp.TransferEncoding = te
		header.Del("Transfer-Encoding")
	}
	if cl := header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			resp.ContentLength = n
		}
	}
	if method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified || (status >= 100 && status < 200) {
		resp.Body = http.NoBody
		if method != http.MethodHead {
			resp.ContentLength = 0
		}
		return resp, false
	}
	return resp, true
}

// setProto sets resp's protocol fields from an HTTP version as major*10+minor (the
// encoding of docs/abi.md, response_version); other values leave them unchanged.
func setProto(resp *http.Response, version int) {
	switch version {
	case 10, 11:
		resp.Proto, resp.ProtoMajor, resp.ProtoMinor = fmt.Sprintf("HTTP/1.%d", version-10), 1, version-10
	case 20:
		resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/2.0", 2, 0
	case 30:
		resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/3.0", 3, 0
	}
}

func statusLine(code int) string {
	if text := http.StatusText(code); text != "" {
		return fmt.Sprintf("%d %s", code, text)
	}
	return strconv.Itoa(code)
}
