// Command jsonapp is an ordinary net/http + encoding/json program: it fetches a JSON
// document and prints one of its fields. Its only wasmgate-specific line is
// wasmgate.Install().
//
//	jsonapp URL
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"

	wasmgate "wasmgate.dev/guest/go"
)

type release struct {
	Name    string   `json:"name"`
	Version int      `json:"version"`
	Tags    []string `json:"tags"`
}

func main() {
	wasmgate.Install()

	if len(os.Args) < 2 {
		log.Fatal("usage: jsonapp URL")
	}
	resp, err := http.Get(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		log.Fatalf("unexpected status %s", resp.Status)
	}
	var r release
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("name: %s\nversion: %d\ntags: %d\n", r.Name, r.Version, len(r.Tags))
}
