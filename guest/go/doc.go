// Package wasmgate lets Go programs compiled to WebAssembly make outbound HTTP
// requests through the host, which for wasmgate means under a deny-by-default egress
// policy.
//
// Neither mainline Go nor TinyGo can reach the network from a WASI module on their
// own: mainline Go's net/http fails with "dial tcp …: connect: Connection refused"
// (its in-process fake network answers), TinyGo's with "Netdev not set". This package
// provides an http.RoundTripper over what the host offers, chosen by build target:
// wasmgate's host ABI (module wasmgate_http_v1, docs/abi.md) for wasip1 (mainline Go
// and TinyGo), standard wasi:http for TinyGo -target=wasip2. Built natively it does
// nothing, so one program runs natively and as WebAssembly without build tags.
//
// # Use
//
// Two lines in an existing program:
//
//	import wasmgate "wasmgate.dev/guest/go"
//
//	func main() {
//		wasmgate.Install() // http.Get, http.DefaultClient, … now go through the host
//		resp, err := http.Get("https://api.example.com/v1/items")
//		…
//	}
//
// For a client of your own: &http.Client{Transport: &wasmgate.Transport{}}. For a
// transport built elsewhere (SDKs often make their own &http.Transport{…}):
// &http.Client{Transport: wasmgate.Use(t)}.
//
// # What is intercepted
//
// Install covers http.Get & co., http.DefaultClient and http.DefaultTransport. With
// mainline Go it registers wasmgate for http and https on net/http's default
// *http.Transport (RegisterProtocol), so http.DefaultTransport stays a
// *http.Transport; clients without a Transport of their own use it. Clones of it taken
// after Install go through the host too: Go's Clone drops registered protocols but
// copies DialContext and DialTLSContext, which Install points at in-memory
// connections whose HTTP/1.1 requests are read back and sent through a Transport (the
// destination is the dialled host:port, never a Host header; failures keep their
// *Error; see README.md). Transports built from scratch, and clones whose dialers are
// replaced, are not covered until passed through Use. With TinyGo, whose http.Transport is an empty
// struct, Install sets http.DefaultTransport and http.DefaultClient.Transport to a
// *Transport, and a client needs its Transport field set: TinyGo's http.Client
// ignores http.DefaultTransport. TinyGo's client also hands requests straight to the
// Transport, so it follows no redirects and ignores Client.Timeout there: use a
// context deadline (it cancels the request on every backend).
//
// # Build and run
//
//	GOOS=wasip1 GOARCH=wasm go build -o app.wasm .    # mainline Go
//	tinygo build -target=wasip1 -o app.wasm .         # TinyGo, core module
//	tinygo build -target=wasip2 -wit-package DIR/wit -wit-world client -o app.wasm .
//	                                                  # TinyGo, wasi:http component (DIR: this module)
//	wasmgate run --allow https://api.example.com app.wasm
//
// # Errors
//
// A request the host refuses or cannot complete fails with an *Error carrying the ABI
// status code (ErrDenied, ErrConnectionRefused, …) and the host's message; for a
// wasmgate denial the message names the --allow flag that would permit the request.
// On wasip2 the error also carries the wasi:http error code (WASIErrorCode). A native
// build's Transport fails with ErrUnsupported. http.Client wraps errors in a
// *url.Error (mainline Go), so use errors.As or the predicates:
//
//	var wgErr *wasmgate.Error
//	if errors.As(err, &wgErr) { fmt.Println(wgErr.Code, wgErr.Message) }
//	if wasmgate.IsDenied(err) { … }
//
// HTTP error statuses (4xx, 5xx) are not errors: they come back as responses with
// their bodies, as with any net/http transport.
//
// # Concurrency
//
// Goroutines of a WebAssembly program share one thread and are not preempted, so no
// goroutine waits inside the host: on wasip1 those waiting for a response register
// with one waiter goroutine, which polls every in-flight request with a single host
// call and wakes them through channels (see waiter.go). Many goroutines can have
// requests in flight at once, and waiting costs almost no CPU.
package wasmgate
