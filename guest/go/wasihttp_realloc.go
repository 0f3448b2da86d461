//go:build wasip2

package wasmgate

import "unsafe"

// The allocator the host uses for the results of imported functions.
//
// A result with lists or strings is written into memory the host allocates by
// calling the component's realloc, possibly several times for one call
// (fields.entries: the list, then every name and value). TinyGo's cabi_realloc
// allocates on the garbage-collected heap, and until the call returns only the host
// knows those addresses: if a later allocation of the same call runs a collection,
// the earlier ones are freed and handed out again, and the result is corrupt
// (tinygo-org/tinygo#4897, bytecodealliance/go-modules#348; open in TinyGo 0.33).
//
// wit-component (wasm-tools component new, which TinyGo runs) lowers imports with a
// module's cabi_import_realloc export instead of cabi_realloc when there is one. This
// one allocates on the same heap but also pins each allocation, so a collection
// during the call cannot free it. Once a call has returned its result is referenced
// from the caller's return area, so the pins are only needed during calls: the
// transport releases them after each of its calls, and the pins made by other
// imports (TinyGo's runtime) are bounded by pinBudget, oldest dropped first (no
// single call allocates that much in several pieces).

const pinBudget = 1 << 20

type pin struct {
	p unsafe.Pointer
	n uintptr
}

var importPins struct {
	list  []pin
	bytes uintptr
}

// zeroSized is where zero-sized allocations point (8-aligned, like any result).
var zeroSized uint64

// readTarget, when set, receives the next list<u8> the host allocates for: the
// response body reader sets it to the caller's buffer around input-stream.read, so
// the host writes the bytes straight into it (no copy, and no garbage to collect).
var readTarget []byte

//export cabi_import_realloc
func cabiImportRealloc(old unsafe.Pointer, oldSize, align, newSize uintptr) unsafe.Pointer {
	if newSize == 0 {
		return unsafe.Pointer(&zeroSized)
	}
	if old == nil && align <= 1 && newSize <= uintptr(len(readTarget)) {
		p := unsafe.Pointer(&readTarget[0])
		readTarget = nil
		return p
	}
	if align == 0 {
		align = 1
	}
	// Words of pointer size, so a precise collector scans the block too: lists of
	// strings hold pointers.
	const word = unsafe.Sizeof(unsafe.Pointer(nil))
	block := make([]unsafe.Pointer, (newSize+align-1+word-1)/word)
	p := unsafe.Pointer(&block[0])
	if off := uintptr(p) % align; off != 0 {
		p = unsafe.Add(p, align-off)
	}
	if old != nil && oldSize > 0 {
		n := oldSize
		if n > newSize {
			n = newSize
		}
		copy(unsafe.Slice((*byte)(p), n), unsafe.Slice((*byte)(old), n))
	}
	importPins.list = append(importPins.list, pin{unsafe.Pointer(&block[0]), newSize})
	importPins.bytes += newSize
	if importPins.bytes > pinBudget {
		drop := 0
		for importPins.bytes > pinBudget && drop < len(importPins.list)-1 {
			importPins.bytes -= importPins.list[drop].n
			drop++
		}
		k := copy(importPins.list, importPins.list[drop:])
		for i := k; i < len(importPins.list); i++ {
			importPins.list[i] = pin{}
		}
		importPins.list = importPins.list[:k]
	}
	return p
}

// releaseImportPins forgets all pins. Call it only between host calls (any Go code
// that is not cabiImportRealloc itself).
func releaseImportPins() {
	for i := range importPins.list {
		importPins.list[i] = pin{}
	}
	importPins.list = importPins.list[:0]
	importPins.bytes = 0
}
