// Package wasmgate lets Go programs compiled to WebAssembly (wasip1) make outbound
// HTTP requests through wasmgate, which runs them under a deny-by-default egress
// policy.
//
// Neither mainline Go nor TinyGo can reach the network from a wasip1 module on their
// own: mainline Go's net/http fails with "dial tcp …: connect: Connection refused"
// (its in-process fake network answers), TinyGo's with "Netdev not set". This package
// provides an http.RoundTripper that talks to wasmgate's host ABI
// (module wasmgate_http_v1, see docs/abi.md), so ordinary net/http code works.
//
// # Use
//
// Two lines in an existing program:
//
//	import wasmgate "wasmgate.dev/guest/go"
//
//	func main() {
//		wasmgate.Install() // http.Get, http.DefaultClient, … now go through wasmgate
//		resp, err := http.Get("https://api.example.com/v1/items")
//		…
//	}
//
// Or use a client of your own: &http.Client{Transport: &wasmgate.Transport{}}.
//
// # Build and run
//
// Mainline Go:
//
//	GOOS=wasip1 GOARCH=wasm go build -o app.wasm .
//
// TinyGo:
//
//	tinygo build -target=wasip1 -o app.wasm .
//
// Run, allowing the hosts the program needs:
//
//	wasmgate run --allow https://api.example.com app.wasm
//
// # Errors
//
// A request wasmgate refuses or cannot complete fails with an *Error carrying the ABI
// status code (ErrDenied, ErrConnectionRefused, …) and wasmgate's message; for a
// denial the message names the --allow flag that would permit the request.
// http.Client wraps it in a *url.Error, so use errors.As or the predicates:
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
// Goroutines of a wasip1 program share one thread. The transport never waits inside
// the host: it asks with a zero timeout and sleeps briefly between attempts, so many
// goroutines can have requests in flight at once.
package wasmgate
