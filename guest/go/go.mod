module wasmgate.dev/guest/go

go 1.21
