//go:build wasip2

package wasmgate

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
	"unsafe"
)

// The TinyGo -target=wasip2 backend: standard wasi:http@0.2.0 (outgoing-handler),
// so the component runs under wasmgate and under any other wasi:http host. Build it
// with the WIT package in ./wit (world "client"), see README.md.

// Cases of the method and scheme variants.
var wasiMethods = map[string]uint32{
	http.MethodGet: 0, http.MethodHead: 1, http.MethodPost: 2, http.MethodPut: 3,
	http.MethodDelete: 4, http.MethodConnect: 5, http.MethodOptions: 6,
	http.MethodTrace: 7, http.MethodPatch: 8,
}

const (
	wasiMethodOther = 9
	wasiSchemeHTTP  = 0
	wasiSchemeHTTPS = 1
	wasiSchemeOther = 2
)

// wasiExchange is what the goroutines of one request share: RoundTrip (then the
// response body) and the goroutine writing the request body.
type wasiExchange struct {
	ctx    context.Context
	target string // scheme://authority, for messages
	abort  chan struct{}
	once   sync.Once

	mu sync.Mutex
	// bodyErr is why sending the request body failed: the caller's Read failing, or
	// the host refusing a write or the end of the body. It explains a failed request
	// better than the error-code of the response that follows.
	bodyErr error
}

// stop aborts the exchange: the body writer drops its stream and body.
func (x *wasiExchange) stop() { x.once.Do(func() { close(x.abort) }) }

func (x *wasiExchange) setBodyErr(err error) {
	x.mu.Lock()
	if x.bodyErr == nil {
		x.bodyErr = err
	}
	x.mu.Unlock()
}

func (x *wasiExchange) getBodyErr() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.bodyErr
}

// waitErr turns await's error into the one to report: the context's (wrapped), or
// errAborted.
func (x *wasiExchange) waitErr(err error) error {
	if err == errAborted {
		return err
	}
	return &ctxError{err: err}
}

// hostErr reports a failure of the host, unless the context's deadline has passed:
// then the host's timeout (set from that deadline) is the context's, and callers
// expect errors.Is(err, context.DeadlineExceeded).
func (x *wasiExchange) hostErr(err error) error {
	if ctxErr := x.ctx.Err(); ctxErr != nil {
		return &ctxError{err: ctxErr}
	}
	if d, ok := x.ctx.Deadline(); ok && !time.Now().Before(d) {
		return &ctxError{err: context.DeadlineExceeded}
	}
	return err
}

func (t *Transport) roundTrip(req *http.Request) (*http.Response, error) {
	releaseImportPins() // room in the arena for the results of this request's calls
	o, err := prepare(req)
	if err != nil {
		return nil, err
	}
	closeBody := func() {
		if o.body != nil {
			o.body.Close()
		}
	}
	u, err := url.Parse(o.url)
	if err != nil || u.Host == "" {
		closeBody()
		return nil, &Error{Code: ErrBadURL, Op: "outgoing-request", Message: fmt.Sprintf("not an absolute URL: %q", o.url)}
	}
	x := &wasiExchange{ctx: o.ctx, target: u.Scheme + "://" + u.Host, abort: make(chan struct{})}

	request, err := newOutgoingRequest(o, u)
	if err != nil {
		closeBody()
		return nil, err
	}
	var body uint32
	if o.body != nil {
		// Without a body the request is sent with an empty one (never calling
		// outgoing-request.body), so a GET carries no chunked framing.
		var r retArea
		wasiOutgoingRequestBody(request, r.ptr())
		if load8(r.ptr(), 0) != 0 {
			wasiOutgoingRequestDrop(request)
			closeBody()
			return nil, &Error{Code: ErrInternal, Op: "outgoing-request.body", Message: "the host gave no request body"}
		}
		body = load32(r.ptr(), 4)
	}

	options := t.requestOptions(o.ctx)
	var r retArea
	wasiHandle(request, boolU32(options != 0), options, r.ptr()) // takes request and options
	if load8(r.ptr(), 0) != 0 {
		tag, detail := liftErrorCode(unsafe.Add(r.ptr(), 8))
		if body != 0 {
			wasiOutgoingBodyDrop(body)
		}
		closeBody()
		return nil, x.hostErr(newWASIError("outgoing-handler.handle", tag, detail, x.target))
	}
	future := load32(r.ptr(), 8)
	if body != 0 {
		if req.GetBody != nil && req.ContentLength > 0 && req.ContentLength <= wasiChunk {
			// A small in-memory body (bytes.Reader, strings.Reader, bytes.Buffer:
			// http.NewRequest sets GetBody for them) goes out right here: reading it
			// cannot block, and it saves a goroutine (and its stack) per request.
			x.writeBody(body, o.body, int(req.ContentLength))
		} else {
			// Like net/http, send the body concurrently with waiting for the
			// response: a server may answer before it has read everything.
			go x.writeBody(body, o.body, wasiChunk)
		}
	}

	response, err := x.awaitResponse(future)
	if err != nil {
		x.stop()
		return nil, err
	}
	status := wasiIncomingResponseStatus(response)
	headers := wasiIncomingResponseHeaders(response)
	header := liftFields(headers)
	wasiFieldsDrop(headers)
	resp, hasBody := newResponse(req, o.method, int(status), header)
	if !hasBody {
		wasiIncomingResponseDrop(response)
		x.stop()
		return resp, nil
	}
	rb, err := newResponseBody(x, response)
	if err != nil {
		x.stop()
		return nil, err
	}
	resp.Body = rb
	return resp, nil
}

// newOutgoingRequest builds the outgoing-request: headers, method, scheme, authority
// and path with query.
func newOutgoingRequest(o *outgoing, u *url.URL) (uint32, error) {
	fields := wasiFieldsNew()
	for _, name := range sortedHeaderNames(o.header) {
		for _, value := range o.header[name] {
			var r retArea
			np, nl := stringData(name)
			vp, vl := stringData(value)
			wasiFieldsAppend(fields, np, nl, vp, vl, r.ptr())
			if load8(r.ptr(), 0) != 0 {
				wasiFieldsDrop(fields)
				return 0, headerError(load8(r.ptr(), 1), name)
			}
		}
	}
	request := wasiOutgoingRequestNew(fields) // takes fields
	fail := func(code int, op, msg string) (uint32, error) {
		wasiOutgoingRequestDrop(request)
		return 0, &Error{Code: code, Op: op, Message: msg}
	}

	tag, ok := wasiMethods[o.method]
	other := ""
	if !ok {
		tag, other = wasiMethodOther, o.method
	}
	p, n := stringData(other)
	if wasiOutgoingRequestSetMethod(request, tag, p, n) != 0 {
		return fail(ErrBadMethod, "outgoing-request.set-method", fmt.Sprintf("the host refused the method %q", o.method))
	}

	scheme, other := uint32(wasiSchemeOther), u.Scheme
	switch u.Scheme {
	case "http":
		scheme, other = wasiSchemeHTTP, ""
	case "https":
		scheme, other = wasiSchemeHTTPS, ""
	}
	p, n = stringData(other)
	if wasiOutgoingRequestSetScheme(request, 1, scheme, p, n) != 0 {
		return fail(ErrBadURL, "outgoing-request.set-scheme", fmt.Sprintf("the host refused the scheme %q", u.Scheme))
	}
	p, n = stringData(u.Host)
	if wasiOutgoingRequestSetAuthority(request, 1, p, n) != 0 {
		return fail(ErrBadURL, "outgoing-request.set-authority", fmt.Sprintf("the host refused the authority %q", u.Host))
	}
	pathQuery := u.RequestURI()
	p, n = stringData(pathQuery)
	if wasiOutgoingRequestSetPathWithQuery(request, 1, p, n) != 0 {
		return fail(ErrBadURL, "outgoing-request.set-path-with-query", fmt.Sprintf("the host refused the path %q", pathQuery))
	}
	return request, nil
}

// headerError maps a header-error case (invalid-syntax, forbidden, immutable).
func headerError(tag uint8, name string) error {
	switch tag {
	case 0:
		return &Error{Code: ErrBadHeader, Op: "fields.append", Message: fmt.Sprintf("invalid header %q", name)}
	case 1:
		return &Error{Code: ErrForbiddenHeader, Op: "fields.append", Message: fmt.Sprintf("the host forbids the header %q", name)}
	}
	return &Error{Code: ErrInternal, Op: "fields.append", Message: fmt.Sprintf("cannot set header %q (immutable fields)", name)}
}

// requestOptions makes the request-options handle (0 for none): each timeout is the
// smallest of the Transport's and the time left until the context's deadline.
func (t *Transport) requestOptions(ctx context.Context) uint32 {
	var left time.Duration
	if d, ok := ctx.Deadline(); ok {
		left = time.Until(d)
		if left <= 0 {
			left = time.Nanosecond
		}
	}
	pick := func(d time.Duration) time.Duration {
		if left > 0 && (d <= 0 || left < d) {
			return left
		}
		return d
	}
	timeouts := [...]time.Duration{pick(t.ConnectTimeout), pick(t.FirstByteTimeout), pick(t.BetweenBytesTimeout)}
	var options uint32
	for i, d := range timeouts {
		if d <= 0 {
			continue
		}
		if options == 0 {
			options = wasiRequestOptionsNew()
		}
		// An error means the host does not support this timeout: then there is
		// nothing to set, and the context still bounds the wait. (Imported functions
		// cannot be values in TinyGo, hence the switch.)
		switch i {
		case 0:
			wasiRequestOptionsSetConnectTimeout(options, 1, uint64(d))
		case 1:
			wasiRequestOptionsSetFirstByteTimeout(options, 1, uint64(d))
		case 2:
			wasiRequestOptionsSetBetweenBytesTimeout(options, 1, uint64(d))
		}
	}
	return options
}

// awaitResponse waits for the response head. It always drops future.
func (x *wasiExchange) awaitResponse(future uint32) (uint32, error) {
	defer wasiFutureResponseDrop(future)
	p := wasiFutureResponseSubscribe(future)
	err := await(p, x.ctx, x.abort)
	wasiPollableDrop(p)
	if err != nil {
		// Dropping the future cancels the request.
		return 0, x.waitErr(err)
	}
	var r retArea
	wasiFutureResponseGet(future, r.ptr())
	switch {
	case load8(r.ptr(), 0) == 0:
		return 0, &Error{Code: ErrInternal, Op: "future-incoming-response.get", Message: "no response although the future was ready"}
	case load8(r.ptr(), 8) != 0:
		return 0, &Error{Code: ErrInternal, Op: "future-incoming-response.get", Message: "the response was already taken"}
	case load8(r.ptr(), 16) != 0:
		tag, detail := liftErrorCode(unsafe.Add(r.ptr(), 24))
		if err := x.getBodyErr(); err != nil {
			return 0, err
		}
		return 0, x.hostErr(newWASIError("outgoing-handler.handle", tag, detail, x.target))
	}
	return load32(r.ptr(), 24), nil
}

func boolU32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
