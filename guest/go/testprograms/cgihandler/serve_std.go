//go:build !tinygo

package main

import (
	"net/http"
	"net/http/cgi"
)

// serve runs h as a CGI program with the standard library.
func serve(h http.Handler) error { return cgi.Serve(h) }
