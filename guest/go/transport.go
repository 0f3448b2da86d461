package wasmgate

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Flags, options and readiness bits of docs/abi.md.
const (
	sendBodyStream = 1

	optConnectTimeoutMs      = 1
	optFirstByteTimeoutMs    = 2
	optBetweenBytesTimeoutMs = 3

	readyResponse = 1
	readyBody     = 2
	readyWrite    = 4
	readyInvalid  = 128
)

// Transport is an http.RoundTripper that sends every request through wasmgate's host
// ABI (module wasmgate_http_v1), and so through wasmgate's egress policy. The zero
// value is ready to use and safe for concurrent use by many goroutines.
//
// Request and response bodies stream in chunks of at most 64 KiB, so memory stays
// bounded however large they are. The request's context is honoured: when it is done
// the request is cancelled and RoundTrip (or a Read of the response body) returns an
// error wrapping ctx.Err(). Failures of the host come back as *Error. Redirects are
// not followed by the host: http.Client follows them itself, and wasmgate checks
// each hop against the policy.
//
// Headers the host manages (Connection, Keep-Alive, Transfer-Encoding, Upgrade,
// Host, Proxy-*, HTTP2-Settings) are not sent; the Host header always comes from the
// URL. Responses report Proto "HTTP/1.1" whatever version was used on the wire, and
// carry no trailers.
type Transport struct {
	// ConnectTimeout, FirstByteTimeout and BetweenBytesTimeout, when positive, ask for
	// shorter timeouts than the policy's (they are capped by the policy).
	ConnectTimeout      time.Duration
	FirstByteTimeout    time.Duration
	BetweenBytesTimeout time.Duration
}

// Install makes wasmgate's transport the one net/http uses by default: it sets both
// http.DefaultTransport and http.DefaultClient.Transport (TinyGo's http.Client
// ignores http.DefaultTransport unless its own Transport field is set). Call it once
// at the start of main; afterwards http.Get, http.Post and http.DefaultClient go
// through wasmgate.
func Install() {
	t := &Transport{}
	http.DefaultTransport = t
	http.DefaultClient.Transport = t
}

// hostManaged lists request headers the transport never forwards: the host manages
// them (docs/abi.md, request_header) and would refuse them with ERR_FORBIDDEN_HEADER.
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

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	hasBody := req.Body != nil && req.Body != http.NoBody
	closeBody := func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}
	if req.URL == nil {
		closeBody()
		return nil, errors.New("wasmgate: request has no URL")
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
	header := req.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if u.User != nil {
		// The host takes no user info in URLs; send it the way net/http does.
		if header.Get("Authorization") == "" {
			password, _ := u.User.Password()
			header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+password)))
		}
		u.User = nil
	}
	u.Fragment, u.RawFragment = "", ""
	if _, ok := header["User-Agent"]; !ok {
		header.Set("User-Agent", defaultUserAgent)
	}
	if header.Get("Content-Length") == "" {
		if hasBody && req.ContentLength > 0 {
			header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
		} else if !hasBody && (method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch) {
			header.Set("Content-Length", "0")
		}
	}

	h := abiRequestNew(method, u.String())
	if h < 0 {
		err := hostError("request_new", h)
		closeBody()
		return nil, err
	}
	x := &exchange{h: h, ctx: ctx}
	fail := func(err error) (*http.Response, error) {
		x.close()
		closeBody()
		return nil, err
	}

	names := make([]string, 0, len(header))
	for k := range header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if hostManaged[strings.ToLower(k)] {
			continue
		}
		for _, v := range header[k] {
			if k == "User-Agent" && v == "" {
				continue
			}
			if r := abiRequestHeader(h, k, v); r < 0 {
				return fail(hostError("request_header", r))
			}
		}
	}
	for _, o := range []struct {
		id int32
		d  time.Duration
	}{
		{optConnectTimeoutMs, t.ConnectTimeout},
		{optFirstByteTimeoutMs, t.FirstByteTimeout},
		{optBetweenBytesTimeoutMs, t.BetweenBytesTimeout},
	} {
		if o.d <= 0 {
			continue
		}
		ms := int64((o.d + time.Millisecond - 1) / time.Millisecond)
		if r := abiRequestOption(h, o.id, ms); r < 0 {
			return fail(hostError("request_option", r))
		}
	}

	var flags int32
	if hasBody {
		flags = sendBodyStream
	}
	if r := abiRequestSend(h, flags); r < 0 {
		return fail(hostError("request_send", r))
	}
	if hasBody {
		// From here on the writer goroutine owns (and closes) req.Body.
		go x.writeBody(req.Body)
	} else {
		closeBody()
	}

	status, err := x.awaitHead()
	if err != nil {
		x.close()
		return nil, err
	}
	respHeader, err := x.headers()
	if err != nil {
		x.close()
		return nil, err
	}
	resp := &http.Response{
		Status:        statusLine(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        respHeader,
		ContentLength: -1,
		Request:       req,
	}
	if te := respHeader.Values("Transfer-Encoding"); len(te) > 0 {
		resp.TransferEncoding = te
		respHeader.Del("Transfer-Encoding")
	}
	if cl := respHeader.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			resp.ContentLength = n
		}
	}
	if method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified || (status >= 100 && status < 200) {
		resp.Body = http.NoBody
		x.close()
		if method != http.MethodHead {
			resp.ContentLength = 0
		}
		return resp, nil
	}
	resp.Body = &responseBody{x: x}
	return resp, nil
}

// awaitHead waits for the response head without blocking other goroutines.
func (x *exchange) awaitHead() (int, error) {
	var b backoff
	for {
		st := abiResponseStatus(x.h, 0)
		if st >= 0 {
			return int(st), nil
		}
		if st != ErrNotReady {
			err := hostError("response_status", st)
			if be := x.getBodyErr(); be != nil {
				// The handle was closed because the request body could not be read.
				return 0, be
			}
			return 0, err
		}
		if err := x.ctxErr(); err != nil {
			return 0, err
		}
		b.wait(x.h, readyResponse)
	}
}

// headers copies the response headers out of the host (snprintf-style).
func (x *exchange) headers() (http.Header, error) {
	buf := make([]byte, 4096)
	for {
		n := abiResponseHeaders(x.h, buf)
		if n < 0 {
			return nil, hostError("response_headers", n)
		}
		if int(n) <= len(buf) {
			return parseHeaders(buf[:n])
		}
		buf = make([]byte, n)
	}
}

// parseHeaders decodes the serialized header list of docs/abi.md: entries of
// name_len (u32 LE), name, value_len (u32 LE), value.
func parseHeaders(b []byte) (http.Header, error) {
	h := http.Header{}
	for len(b) > 0 {
		name, rest, ok := lengthPrefixed(b)
		if !ok {
			return nil, errMalformedHeaders
		}
		value, rest, ok := lengthPrefixed(rest)
		if !ok {
			return nil, errMalformedHeaders
		}
		h.Add(string(name), string(value))
		b = rest
	}
	return h, nil
}

var errMalformedHeaders = &Error{Code: ErrInternal, Op: "response_headers", Message: "malformed header list from the host"}

func lengthPrefixed(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	if uint64(n) > uint64(len(b)) {
		return nil, nil, false
	}
	return b[:n], b[n:], true
}

func statusLine(code int) string {
	if text := http.StatusText(code); text != "" {
		return fmt.Sprintf("%d %s", code, text)
	}
	return strconv.Itoa(code)
}
