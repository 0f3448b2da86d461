;; The ABI fuzz target's guest (docs/fuzzing.md): it decodes two hex environment
;; variables into memory, M (16 string slots of 64 bytes at 0, their lengths at 1024)
;; and P (the program, at 65536), then runs the program: a byte stream of ABI calls
;; and their arguments. Reading past the end gives zeros; ops only move forward, so
;; every program ends.
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasmgate_http_v1" "version" (func $version (result i32)))
  (import "wasmgate_http_v1" "request_new" (func $request_new (param i32 i32 i32 i32) (result i32)))
  (import "wasmgate_http_v1" "request_header" (func $request_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasmgate_http_v1" "request_option" (func $request_option (param i32 i32 i64) (result i32)))
  (import "wasmgate_http_v1" "request_send" (func $request_send (param i32 i32) (result i32)))
  (import "wasmgate_http_v1" "body_write" (func $body_write (param i32 i32 i32 i64) (result i32)))
  (import "wasmgate_http_v1" "body_finish" (func $body_finish (param i32) (result i32)))
  (import "wasmgate_http_v1" "poll" (func $poll (param i32 i32 i32 i64) (result i32)))
  (import "wasmgate_http_v1" "response_status" (func $response_status (param i32 i64) (result i32)))
  (import "wasmgate_http_v1" "response_version" (func $response_version (param i32) (result i32)))
  (import "wasmgate_http_v1" "response_headers" (func $response_headers (param i32 i32 i32) (result i32)))
  (import "wasmgate_http_v1" "response_header" (func $response_header (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasmgate_http_v1" "body_read" (func $body_read (param i32 i32 i32 i64) (result i32)))
  (import "wasmgate_http_v1" "close" (func $close (param i32) (result i32)))
  (import "wasmgate_http_v1" "last_error" (func $last_error (param i32 i32) (result i32)))
  (import "wasmgate_http_v1" "fetch" (func $fetch (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))

  (memory (export "memory") 8)
  (global $pc (mut i32) (i32.const 65536))
  (global $end (mut i32) (i32.const 65536))
  (global $next (mut i32) (i32.const 32768))
  (global $amode (mut i32) (i32.const 0))
  (global $aval (mut i32) (i32.const 0))

  (func $hex (param $c i32) (result i32)
    (if (result i32) (i32.le_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 9))
      (then (i32.sub (local.get $c) (i32.const 48)))
      (else (i32.and (i32.sub (local.get $c) (i32.const 87)) (i32.const 15)))))

  ;; Decodes NUL-terminated hex at $src to $dst, at most $max bytes; returns the count.
  (func $decode (param $src i32) (param $dst i32) (param $max i32) (result i32) (local $n i32)
    (block $done (loop $more
      (br_if $done (i32.ge_u (local.get $n) (local.get $max)))
      (br_if $done (i32.eqz (i32.load8_u (local.get $src))))
      (br_if $done (i32.eqz (i32.load8_u offset=1 (local.get $src))))
      (i32.store8 (i32.add (local.get $dst) (local.get $n))
        (i32.or (i32.shl (call $hex (i32.load8_u (local.get $src))) (i32.const 4))
                (call $hex (i32.load8_u offset=1 (local.get $src)))))
      (local.set $src (i32.add (local.get $src) (i32.const 2)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $more)))
    (local.get $n))

  (func $byte (result i32) (local $b i32)
    (if (i32.ge_u (global.get $pc) (global.get $end)) (then (return (i32.const 0))))
    (local.set $b (i32.load8_u (global.get $pc)))
    (global.set $pc (i32.add (global.get $pc) (i32.const 1)))
    (local.get $b))

  ;; A number: < 0x40 as is (handles, counts, options); < 0xC0 an offset in the low
  ;; 64 KiB in steps of 512; else the next four bytes, little-endian (anything).
  (func $arg (result i32) (local $b i32)
    (local.set $b (call $byte))
    (if (i32.lt_u (local.get $b) (i32.const 0x40)) (then (return (local.get $b))))
    (if (i32.lt_u (local.get $b) (i32.const 0xC0))
      (then (return (i32.shl (i32.sub (local.get $b) (i32.const 0x40)) (i32.const 9)))))
    (i32.or (i32.or (call $byte) (i32.shl (call $byte) (i32.const 8)))
            (i32.or (i32.shl (call $byte) (i32.const 16)) (i32.shl (call $byte) (i32.const 24)))))

  ;; A (ptr, len) pair: < 0x80 one of the 16 string slots, else two numbers.
  (func $pair (result i32 i32) (local $b i32) (local $k i32)
    (local.set $b (call $byte))
    (if (result i32 i32) (i32.lt_u (local.get $b) (i32.const 0x80))
      (then
        (local.set $k (i32.and (local.get $b) (i32.const 15)))
        (i32.shl (local.get $k) (i32.const 6))
        (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $k) (i32.const 2)))))
      (else (call $arg) (call $arg))))

  ;; Timeouts: 0, 1 ms, 2 ms, or an invalid -2. Never -1: the fuzzer must not wait.
  (func $timeout (result i64) (local $b i32)
    (local.set $b (i32.and (call $byte) (i32.const 3)))
    (if (result i64) (i32.eq (local.get $b) (i32.const 3))
      (then (i64.const -2))
      (else (i64.extend_i32_u (local.get $b)))))

  ;; The allocator `fetch` calls, in the mode the program chose: a bump allocator in
  ;; 32..64 KiB (0), a chosen pointer (1), a trap (2), re-entering the ABI (3), or
  ;; growing memory by a page first (4).
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $r i32)
    (if (i32.eq (global.get $amode) (i32.const 1)) (then (return (global.get $aval))))
    (if (i32.eq (global.get $amode) (i32.const 2)) (then unreachable))
    (if (i32.eq (global.get $amode) (i32.const 3))
      (then
        (drop (call $fetch (i32.const 0) (i32.load (i32.const 1024)) (i32.const 256) (i32.load (i32.const 1040))
                           (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 4096)))
        (drop (call $request_new (i32.const 0) (i32.const 3) (i32.const 256) (i32.load (i32.const 1040))))
        (drop (call $close (i32.const 1)))))
    (if (i32.eq (global.get $amode) (i32.const 4)) (then (drop (memory.grow (i32.const 1)))))
    (if (i32.gt_u (i32.add (global.get $next) (local.get 3)) (i32.const 65536))
      (then (global.set $next (i32.const 32768))))
    (local.set $r (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get 3)))
    (local.get $r))

  (func $step (local $op i32) (local $p i32)
    (local.set $op (i32.rem_u (call $byte) (i32.const 18)))
    (block $done
      (if (i32.eq (local.get $op) (i32.const 0)) (then (drop (call $version)) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 1))
        (then (drop (call $request_new (call $pair) (call $pair))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 2))
        (then (drop (call $request_header (call $arg) (call $pair) (call $pair))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 3))
        (then (drop (call $request_option (call $arg) (call $arg) (i64.extend_i32_s (call $arg)))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 4))
        (then (drop (call $request_send (call $arg) (call $arg))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 5))
        (then (drop (call $body_write (call $arg) (call $arg) (call $arg) (call $timeout))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 6))
        (then (drop (call $body_finish (call $arg))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 7))
        (then (drop (call $poll (call $arg) (call $arg) (call $arg) (call $timeout))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 8))
        (then (drop (call $response_status (call $arg) (call $timeout))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 9))
        (then (drop (call $response_version (call $arg))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 10))
        (then (drop (call $response_headers (call $arg) (call $arg) (call $arg))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 11))
        (then (drop (call $response_header (call $arg) (call $pair) (call $arg) (call $arg) (call $arg))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 12))
        (then (drop (call $body_read (call $arg) (call $arg) (call $arg) (call $timeout))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 13))
        (then (drop (call $close (call $arg))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 14))
        (then (drop (call $last_error (call $arg) (call $arg))) (br $done)))
      (if (i32.eq (local.get $op) (i32.const 15))
        (then (drop (call $fetch (call $pair) (call $pair) (call $pair) (call $pair) (call $arg))) (br $done)))
      ;; 16: store a number (a handle for poll, say) in the low 64 KiB.
      (if (i32.eq (local.get $op) (i32.const 16))
        (then
          (local.set $p (call $arg))
          (if (i32.le_u (local.get $p) (i32.const 65532))
            (then (i32.store (local.get $p) (call $arg)))
            (else (drop (call $arg))))
          (br $done)))
      ;; 17: the allocator's mode and its chosen pointer.
      (global.set $amode (i32.and (call $arg) (i32.const 7)))
      (global.set $aval (call $arg))))

  (func (export "_start") (local $count i32) (local $i i32) (local $p i32)
    (drop (call $environ_sizes_get (i32.const 4096) (i32.const 4100)))
    ;; The pointer table at 192 KiB, the strings after it (the hex fits below 512 KiB).
    (drop (call $environ_get (i32.const 196608) (i32.const 200704)))
    (local.set $count (i32.load (i32.const 4096)))
    (block $done (loop $more
      (br_if $done (i32.ge_u (local.get $i) (i32.const 64)))
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (local.set $p (i32.load (i32.add (i32.const 196608) (i32.shl (local.get $i) (i32.const 2)))))
      (if (i32.eq (i32.load16_u (local.get $p)) (i32.const 0x3d4d)) ;; "M="
        (then (drop (call $decode (i32.add (local.get $p) (i32.const 2)) (i32.const 0) (i32.const 1088)))))
      (if (i32.eq (i32.load16_u (local.get $p)) (i32.const 0x3d50)) ;; "P="
        (then (global.set $end (i32.add (i32.const 65536)
          (call $decode (i32.add (local.get $p) (i32.const 2)) (i32.const 65536) (i32.const 65536))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $more)))
    (block $out (loop $run
      (br_if $out (i32.ge_u (global.get $pc) (global.get $end)))
      (call $step)
      (br $run)))))
