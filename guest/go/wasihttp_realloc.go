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
// (tinygo-org/tinygo#4897, bytecodealliance/go-modules#348; unfixed in TinyGo 0.33).
//
// wit-component (wasm-tools component new, which TinyGo runs) lowers imports with a
// module's cabi_import_realloc export instead of cabi_realloc when there is one.
// This one serves results from an arena: a block allocated beforehand, outside any
// host call, that the allocator carves up without asking the heap, so no collection
// can run during a call at all. Results live as long as anything points into the
// arena; a new arena is started between calls once half of the current one is used.
// A result that does not fit comes from the heap and is pinned until the
// transport's next call returns; pins made by other imports (TinyGo's runtime) are
// bounded by pinBudget, oldest dropped first.

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

// arenaSize is the size of one arena: far more than the results of one call of the
// transport (response headers; hosts refuse heads over 8–400 KiB, so a larger head
// falls back to a pinned heap block).
const arenaSize = 64 << 10

var arena struct {
	block []unsafe.Pointer // pointer words: a precise collector scans the results
	used  uintptr
}

// refillArena starts a new arena if the current one is half used. Call it only
// between host calls.
func refillArena() {
	if arena.block == nil || arena.used > arenaSize/2 {
		arena.block = make([]unsafe.Pointer, arenaSize/unsafe.Sizeof(unsafe.Pointer(nil)))
		arena.used = 0
	}
}

// arenaAlloc carves n bytes aligned to align out of the arena, or returns nil.
func arenaAlloc(n, align uintptr) unsafe.Pointer {
	if arena.block == nil {
		return nil
	}
	base := unsafe.Pointer(&arena.block[0])
	start := arena.used
	if off := (uintptr(base) + start) % align; off != 0 {
		start += align - off
	}
	if start+n > arenaSize {
		return nil
	}
	arena.used = start + n
	return unsafe.Add(base, start)
}

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
	p := arenaAlloc(newSize, align)
	var block unsafe.Pointer
	if p == nil {
		// Words of pointer size, so a precise collector scans the block too: lists
		// of strings hold pointers.
		const word = unsafe.Sizeof(unsafe.Pointer(nil))
		words := make([]unsafe.Pointer, (newSize+align-1+word-1)/word)
		block = unsafe.Pointer(&words[0])
		p = block
		if off := uintptr(p) % align; off != 0 {
			p = unsafe.Add(p, align-off)
		}
	}
	if old != nil && oldSize > 0 {
		n := oldSize
		if n > newSize {
			n = newSize
		}
		copy(unsafe.Slice((*byte)(p), n), unsafe.Slice((*byte)(old), n))
	}
	if block == nil {
		return p
	}
	importPins.list = append(importPins.list, pin{block, newSize})
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

// releaseImportPins forgets all pins and makes sure the arena has room for the next
// call. Call it only between host calls (any Go code that is not cabiImportRealloc
// itself).
func releaseImportPins() {
	refillArena()
	for i := range importPins.list {
		importPins.list[i] = pin{}
	}
	importPins.list = importPins.list[:0]
	importPins.bytes = 0
}
