//go:build !wasip1

package wasmgate

// Outside wasip1 there is no wasmgate host: every call fails with errUnsupported, so
// the package builds (and its pure-Go parts can be unit-tested) on any platform, and
// RoundTrip returns an *Error instead of panicking.

const unsupportedMessage = "wasmgate: the host ABI is only available in wasip1 modules run by wasmgate (build with GOOS=wasip1 GOARCH=wasm)"

func abiVersion() int32                                      { return errUnsupported }
func abiRequestNew(method, url string) int32                 { return errUnsupported }
func abiRequestHeader(h int32, name, value string) int32     { return errUnsupported }
func abiRequestOption(h int32, option int32, v int64) int32  { return errUnsupported }
func abiRequestSend(h int32, flags int32) int32              { return errUnsupported }
func abiBodyWrite(h int32, b []byte, timeoutMs int64) int32  { return errUnsupported }
func abiBodyFinish(h int32) int32                            { return errUnsupported }
func abiPoll1(h int32, interest byte, timeoutMs int64) int32 { return errUnsupported }
func abiResponseStatus(h int32, timeoutMs int64) int32       { return errUnsupported }
func abiResponseHeaders(h int32, buf []byte) int32           { return errUnsupported }
func abiBodyRead(h int32, buf []byte, timeoutMs int64) int32 { return errUnsupported }
func abiClose(h int32) int32                                 { return errUnsupported }

func abiLastError(buf []byte) int32 {
	if len(buf) >= len(unsupportedMessage) {
		copy(buf, unsupportedMessage)
	}
	return int32(len(unsupportedMessage))
}
