//go:build !tinygo

package main

import "net/http"

// cloneDefault is the common SDK idiom; TinyGo's http.Transport has no Clone.
func cloneDefault() (*http.Transport, bool) {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, false
	}
	return t.Clone(), true
}
