//go:build wasip2

package wasmgate

import "unsafe"

// Hand-written imports of the standard WASI 0.2.0 interfaces the wasip2 transport
// uses, lowered by the component model's canonical ABI the way TinyGo's own
// generated bindings (internal/wasi) do it:
//
//   - Resources (fields, outgoing-request, streams, pollables, …) are i32 handles,
//     uint32 here. Handle 0 is never allocated (the canonical ABI reserves table
//     index 0), so 0 means "none" in the transport's state.
//   - Strings and lists are (pointer, length) pairs in linear memory.
//   - A variant or option flattens to its discriminant followed by the joined
//     payload slots (zero for cases without payload).
//   - A result that flattens to more than one core value is written by the host to
//     a return area whose address is the last parameter. Every return area here is
//     a retArea: 8-byte aligned (the strictest alignment of these types, from the
//     u64 in option<u64> inside error-code) and big enough for the largest one.
//   - Memory the host allocates for results (lists, strings) comes from this
//     package's cabi_import_realloc (wasihttp_realloc.go), i.e. from the
//     garbage-collected heap; nobody frees it explicitly. The transport copies what
//     it needs and lets it become garbage (body reads land in the caller's buffer).
//
// Offsets within a return area follow the canonical ABI's layout rules: a variant's
// discriminant is a u8 (up to 256 cases) and its payload starts at the discriminant
// size rounded up to the payload's maximum alignment.

// retArea is the return area of the calls below (56 bytes are the most any needs:
// future-incoming-response.get). It is made of pointer words, aligned to 8 bytes:
// the host writes addresses of its allocations into it, and with -gc=precise a
// collector scans only words typed as pointers.
type retArea struct {
	_ [0]uint64
	w [16]unsafe.Pointer
}

func (r *retArea) ptr() unsafe.Pointer { return unsafe.Pointer(r) }

// Little-endian loads at byte offsets (wasm memory is little-endian, and so is the
// only platform this file builds for).
func load8(p unsafe.Pointer, off uintptr) uint8   { return *(*uint8)(unsafe.Add(p, off)) }
func load16(p unsafe.Pointer, off uintptr) uint16 { return *(*uint16)(unsafe.Add(p, off)) }
func load32(p unsafe.Pointer, off uintptr) uint32 { return *(*uint32)(unsafe.Add(p, off)) }
func load64(p unsafe.Pointer, off uintptr) uint64 { return *(*uint64)(unsafe.Add(p, off)) }

// loadPtr loads a 32-bit linear-memory address (wasm32 pointers are 4 bytes).
func loadPtr(p unsafe.Pointer, off uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Add(p, off))
}

// loadBytes is the list<u8> whose (pointer, length) pair is at p+off, in place: the
// slice points into the host's allocation (and, being a pointer on the Go side,
// keeps it alive).
func loadBytes(p unsafe.Pointer, off uintptr) []byte {
	n := load32(p, off+4)
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(loadPtr(p, off)), n)
}

// loadString copies the string whose (pointer, length) pair is at p+off.
func loadString(p unsafe.Pointer, off uintptr) string { return string(loadBytes(p, off)) }

// stringData is the (pointer, length) pair of s for a call's parameters.
func stringData(s string) (unsafe.Pointer, uint32) {
	return unsafe.Pointer(unsafe.StringData(s)), uint32(len(s))
}

// ---- wasi:http/types@0.2.0 ----

//go:wasmimport wasi:http/types@0.2.0 [constructor]fields
func wasiFieldsNew() uint32

// append: func(name: field-key, value: field-value) -> result<_, header-error>
// The result is {u8 discriminant @0, u8 header-error @1}: two flat values, so it
// goes through a return area.
//
//go:wasmimport wasi:http/types@0.2.0 [method]fields.append
func wasiFieldsAppend(self uint32, name unsafe.Pointer, nameLen uint32, value unsafe.Pointer, valueLen uint32, ret unsafe.Pointer)

// entries: func() -> list<tuple<field-key, field-value>>
// The list is (pointer @0, length @4); each element is 16 bytes: name (ptr, len)
// @0, value (ptr, len) @8.
//
//go:wasmimport wasi:http/types@0.2.0 [method]fields.entries
func wasiFieldsEntries(self uint32, ret unsafe.Pointer)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]fields
func wasiFieldsDrop(self uint32)

// constructor(headers: headers): takes ownership of the fields.
//
//go:wasmimport wasi:http/types@0.2.0 [constructor]outgoing-request
func wasiOutgoingRequestNew(headers uint32) uint32

// body: func() -> result<outgoing-body>: {u8 @0, handle @4}.
//
//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-request.body
func wasiOutgoingRequestBody(self uint32, ret unsafe.Pointer)

// set-method: func(method: method) -> result. method flattens to (case, string
// pointer, string length); the payload-less result is one i32 (0 = ok).
//
//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-request.set-method
func wasiOutgoingRequestSetMethod(self uint32, tag uint32, other unsafe.Pointer, otherLen uint32) uint32

// set-scheme: func(scheme: option<scheme>) -> result; option<scheme> flattens to
// (is-some, case, string pointer, string length).
//
//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-request.set-scheme
func wasiOutgoingRequestSetScheme(self uint32, some uint32, tag uint32, other unsafe.Pointer, otherLen uint32) uint32

// set-authority and set-path-with-query take option<string>: (is-some, ptr, len).
//
//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-request.set-authority
func wasiOutgoingRequestSetAuthority(self uint32, some uint32, s unsafe.Pointer, n uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-request.set-path-with-query
func wasiOutgoingRequestSetPathWithQuery(self uint32, some uint32, s unsafe.Pointer, n uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]outgoing-request
func wasiOutgoingRequestDrop(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [constructor]request-options
func wasiRequestOptionsNew() uint32

// The timeout setters take option<duration> (is-some, u64 nanoseconds) and return a
// payload-less result (0 = ok; 1 = the host does not support that timeout).
//
//go:wasmimport wasi:http/types@0.2.0 [method]request-options.set-connect-timeout
func wasiRequestOptionsSetConnectTimeout(self uint32, some uint32, ns uint64) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]request-options.set-first-byte-timeout
func wasiRequestOptionsSetFirstByteTimeout(self uint32, some uint32, ns uint64) uint32

//go:wasmimport wasi:http/types@0.2.0 [method]request-options.set-between-bytes-timeout
func wasiRequestOptionsSetBetweenBytesTimeout(self uint32, some uint32, ns uint64) uint32

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]request-options
func wasiRequestOptionsDrop(self uint32)

// write: func() -> result<output-stream>: {u8 @0, handle @4}. The stream is a child
// of the body: it must be dropped before the body is finished or dropped.
//
//go:wasmimport wasi:http/types@0.2.0 [method]outgoing-body.write
func wasiOutgoingBodyWrite(self uint32, ret unsafe.Pointer)

// finish: static func(this: outgoing-body, trailers: option<trailers>) ->
// result<_, error-code>: {u8 @0, error-code @8} (error-code is 8-aligned).
//
//go:wasmimport wasi:http/types@0.2.0 [static]outgoing-body.finish
func wasiOutgoingBodyFinish(this uint32, someTrailers uint32, trailers uint32, ret unsafe.Pointer)

// Dropping an unfinished outgoing body tells the host the body is incomplete: the
// request fails instead of ending early.
//
//go:wasmimport wasi:http/types@0.2.0 [resource-drop]outgoing-body
func wasiOutgoingBodyDrop(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]future-incoming-response.subscribe
func wasiFutureResponseSubscribe(self uint32) uint32

// get: func() -> option<result<result<incoming-response, error-code>>>:
// option discriminant @0, outer result discriminant @8 (1 = already taken), inner
// result discriminant @16, then the incoming-response handle or the error-code @24.
// Each level's payload is 8-aligned because error-code is.
//
//go:wasmimport wasi:http/types@0.2.0 [method]future-incoming-response.get
func wasiFutureResponseGet(self uint32, ret unsafe.Pointer)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]future-incoming-response
func wasiFutureResponseDrop(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [method]incoming-response.status
func wasiIncomingResponseStatus(self uint32) uint32

// headers: a child of the response (immutable fields); drop it before the response.
//
//go:wasmimport wasi:http/types@0.2.0 [method]incoming-response.headers
func wasiIncomingResponseHeaders(self uint32) uint32

// consume: func() -> result<incoming-body>: {u8 @0, handle @4}.
//
//go:wasmimport wasi:http/types@0.2.0 [method]incoming-response.consume
func wasiIncomingResponseConsume(self uint32, ret unsafe.Pointer)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]incoming-response
func wasiIncomingResponseDrop(self uint32)

// stream: func() -> result<input-stream>: {u8 @0, handle @4}. The stream is a child
// of the body.
//
//go:wasmimport wasi:http/types@0.2.0 [method]incoming-body.stream
func wasiIncomingBodyStream(self uint32, ret unsafe.Pointer)

// finish: static func(this: incoming-body) -> future-trailers.
//
//go:wasmimport wasi:http/types@0.2.0 [static]incoming-body.finish
func wasiIncomingBodyFinish(this uint32) uint32

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]incoming-body
func wasiIncomingBodyDrop(self uint32)

//go:wasmimport wasi:http/types@0.2.0 [resource-drop]future-trailers
func wasiFutureTrailersDrop(self uint32)

// http-error-code: func(err: borrow<io-error>) -> option<error-code>:
// {u8 @0, error-code @8}.
//
//go:wasmimport wasi:http/types@0.2.0 http-error-code
func wasiHTTPErrorCode(err uint32, ret unsafe.Pointer)

// ---- wasi:http/outgoing-handler@0.2.0 ----

// handle: func(request: outgoing-request, options: option<request-options>) ->
// result<future-incoming-response, error-code>: {u8 @0, handle or error-code @8}.
// It takes ownership of the request and of the options.
//
//go:wasmimport wasi:http/outgoing-handler@0.2.0 handle
func wasiHandle(request uint32, someOptions uint32, options uint32, ret unsafe.Pointer)

// ---- wasi:io/streams@0.2.0, wasi:io/error@0.2.0 ----

// read: func(len: u64) -> result<list<u8>, stream-error>: {u8 @0, payload @4}: the
// list (ptr @4, len @8), or stream-error {u8 case @4 (0 last-operation-failed,
// 1 closed), error handle @8}.
//
//go:wasmimport wasi:io/streams@0.2.0 [method]input-stream.read
func wasiInputStreamRead(self uint32, n uint64, ret unsafe.Pointer)

//go:wasmimport wasi:io/streams@0.2.0 [method]input-stream.subscribe
func wasiInputStreamSubscribe(self uint32) uint32

//go:wasmimport wasi:io/streams@0.2.0 [resource-drop]input-stream
func wasiInputStreamDrop(self uint32)

// check-write: func() -> result<u64, stream-error>: {u8 @0, u64 @8 or stream-error
// {u8 case @8, error handle @12}}.
//
//go:wasmimport wasi:io/streams@0.2.0 [method]output-stream.check-write
func wasiOutputStreamCheckWrite(self uint32, ret unsafe.Pointer)

// write and flush: -> result<_, stream-error>: {u8 @0, stream-error {u8 @4, error
// handle @8}}. write must not be given more bytes than check-write allowed (the host
// traps).
//
//go:wasmimport wasi:io/streams@0.2.0 [method]output-stream.write
func wasiOutputStreamWrite(self uint32, data unsafe.Pointer, n uint32, ret unsafe.Pointer)

//go:wasmimport wasi:io/streams@0.2.0 [method]output-stream.flush
func wasiOutputStreamFlush(self uint32, ret unsafe.Pointer)

//go:wasmimport wasi:io/streams@0.2.0 [method]output-stream.subscribe
func wasiOutputStreamSubscribe(self uint32) uint32

//go:wasmimport wasi:io/streams@0.2.0 [resource-drop]output-stream
func wasiOutputStreamDrop(self uint32)

// to-debug-string: func() -> string: (ptr @0, len @4).
//
//go:wasmimport wasi:io/error@0.2.0 [method]error.to-debug-string
func wasiErrorToDebugString(self uint32, ret unsafe.Pointer)

//go:wasmimport wasi:io/error@0.2.0 [resource-drop]error
func wasiErrorDrop(self uint32)

// ---- wasi:io/poll@0.2.0, wasi:clocks/monotonic-clock@0.2.0 ----

// poll: func(in: list<borrow<pollable>>) -> list<u32>: the argument is an array of
// handles; the result (ptr @0, len @4) lists the indices of the ready ones.
//
//go:wasmimport wasi:io/poll@0.2.0 poll
func wasiPoll(in unsafe.Pointer, n uint32, ret unsafe.Pointer)

// ready: func() -> bool, never blocks.
//
//go:wasmimport wasi:io/poll@0.2.0 [method]pollable.ready
func wasiPollableReady(self uint32) uint32

//go:wasmimport wasi:io/poll@0.2.0 [resource-drop]pollable
func wasiPollableDrop(self uint32)

// subscribe-duration: func(when: duration) -> pollable, ready after when ns.
//
//go:wasmimport wasi:clocks/monotonic-clock@0.2.0 subscribe-duration
func wasiSubscribeDuration(ns uint64) uint32
