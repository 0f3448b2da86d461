//go:build wasip1

package wasmgate

import "unsafe"

// The host functions of docs/abi.md. Pointers travel as uint32 offsets into linear
// memory (all parameters are i32/i64), which both mainline Go and TinyGo accept.
//
// No runtime.KeepAlive is needed around the calls: a wasip1 program has one thread,
// so the garbage collector cannot run (or move anything) while a host call is in
// progress, and Go's heap does not move objects.

//go:wasmimport wasmgate_http_v1 version
func hostVersion() int32

//go:wasmimport wasmgate_http_v1 request_new
func hostRequestNew(methodPtr, methodLen, urlPtr, urlLen uint32) int32

//go:wasmimport wasmgate_http_v1 request_header
func hostRequestHeader(h int32, namePtr, nameLen, valuePtr, valueLen uint32) int32

//go:wasmimport wasmgate_http_v1 request_option
func hostRequestOption(h int32, option int32, value int64) int32

//go:wasmimport wasmgate_http_v1 request_send
func hostRequestSend(h int32, flags int32) int32

//go:wasmimport wasmgate_http_v1 body_write
func hostBodyWrite(h int32, ptr, length uint32, timeoutMs int64) int32

//go:wasmimport wasmgate_http_v1 body_finish
func hostBodyFinish(h int32) int32

//go:wasmimport wasmgate_http_v1 poll
func hostPoll(handlesPtr uint32, count int32, readyPtr uint32, timeoutMs int64) int32

//go:wasmimport wasmgate_http_v1 response_status
func hostResponseStatus(h int32, timeoutMs int64) int32

//go:wasmimport wasmgate_http_v1 response_version
func hostResponseVersion(h int32) int32

//go:wasmimport wasmgate_http_v1 response_headers
func hostResponseHeaders(h int32, bufPtr, bufCap uint32) int32

//go:wasmimport wasmgate_http_v1 body_read
func hostBodyRead(h int32, bufPtr, bufCap uint32, timeoutMs int64) int32

//go:wasmimport wasmgate_http_v1 close
func hostClose(h int32) int32

//go:wasmimport wasmgate_http_v1 last_error
func hostLastError(bufPtr, bufCap uint32) int32

// bytesPtr is the linear-memory offset of b's first byte (0 for an empty slice; the
// host does not check pointers of zero-length ranges).
func bytesPtr(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

func stringPtr(s string) uint32 {
	if len(s) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.StringData(s))))
}

func abiVersion() int32 { return hostVersion() }

func abiRequestNew(method, url string) int32 {
	r := hostRequestNew(stringPtr(method), uint32(len(method)), stringPtr(url), uint32(len(url)))
	return r
}

func abiRequestHeader(h int32, name, value string) int32 {
	r := hostRequestHeader(h, stringPtr(name), uint32(len(name)), stringPtr(value), uint32(len(value)))
	return r
}

func abiRequestOption(h int32, option int32, value int64) int32 {
	return hostRequestOption(h, option, value)
}

func abiRequestSend(h int32, flags int32) int32 { return hostRequestSend(h, flags) }

func abiBodyWrite(h int32, b []byte, timeoutMs int64) int32 {
	r := hostBodyWrite(h, bytesPtr(b), uint32(len(b)), timeoutMs)
	return r
}

func abiBodyFinish(h int32) int32 { return hostBodyFinish(h) }

// abiPoll is a pollFunc (waiter.go): len(ready) == len(handles).
func abiPoll(handles []int32, ready []byte, timeoutMs int64) int32 {
	var hp uint32
	if len(handles) > 0 {
		hp = uint32(uintptr(unsafe.Pointer(&handles[0])))
	}
	return hostPoll(hp, int32(len(handles)), bytesPtr(ready), timeoutMs)
}

func abiResponseStatus(h int32, timeoutMs int64) int32 { return hostResponseStatus(h, timeoutMs) }

func abiResponseVersion(h int32) int32 { return hostResponseVersion(h) }

func abiResponseHeaders(h int32, buf []byte) int32 {
	r := hostResponseHeaders(h, bytesPtr(buf), uint32(len(buf)))
	return r
}

func abiBodyRead(h int32, buf []byte, timeoutMs int64) int32 {
	r := hostBodyRead(h, bytesPtr(buf), uint32(len(buf)), timeoutMs)
	return r
}

func abiClose(h int32) int32 { return hostClose(h) }

func abiLastError(buf []byte) int32 {
	r := hostLastError(bytesPtr(buf), uint32(len(buf)))
	return r
}
