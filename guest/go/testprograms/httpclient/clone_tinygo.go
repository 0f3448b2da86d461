//go:build tinygo

package main

import "net/http"

// cloneDefault: TinyGo's http.Transport has no Clone.
func cloneDefault() (*http.Transport, bool) { return nil, false }
