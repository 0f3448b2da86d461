//go:build tinygo

package main

import (
	"net/http"

	wasmgate "wasmgate.dev/guest/go"
)

// serve runs h as a CGI program with the guest library's CGI child: TinyGo's standard
// library has no net/http/cgi.
func serve(h http.Handler) error { return wasmgate.ServeCGI(h) }
