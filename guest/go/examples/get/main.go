// Command get fetches a URL through wasmgate and prints its status and size: the
// quick start of the README.
//
//	GOOS=wasip1 GOARCH=wasm go build -o get.wasm ./examples/get
//	wasmgate run --allow https://example.com get.wasm https://example.com/
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"

	wasmgate "wasmgate.dev/guest/go"
)

func main() {
	wasmgate.Install() // http.Get & co. now go through wasmgate
	url := "https://api.example.com/"
	if len(os.Args) > 1 {
		url = os.Args[1]
	}
	resp, err := http.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(resp.Status, len(body), "bytes")
}
