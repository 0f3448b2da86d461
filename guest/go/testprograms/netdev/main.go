// Command netdev is the seed failure: plain net/http without wasmgate's transport.
// Built with TinyGo (either wasm target) it fails with "Netdev not set"; built with
// mainline Go for wasip1 it fails with "connection refused". The doctor tests build it
// to check that `wasmgate doctor` diagnoses the real binaries, and the run tests
// check the failure a user sees.
//
//	netdev URL
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: netdev URL")
		os.Exit(2)
	}
	resp, err := http.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("status: %d\nbody: %s\n", resp.StatusCode, body)
}
