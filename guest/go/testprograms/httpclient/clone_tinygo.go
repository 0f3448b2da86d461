//go:build tinygo

package main

import (
	"fmt"
	"net/http"
	"os"
)

// cloneDefault: TinyGo's http.Transport has no Clone.
func cloneDefault() (*http.Transport, bool) { return nil, false }

func clones(base string, size int64) {
	fmt.Println("TinyGo's http.Transport has no Clone")
	os.Exit(2)
}
