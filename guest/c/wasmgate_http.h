/*
 * wasmgate_http.h — outbound HTTP for C guests of wasmgate (wasm32-wasi core modules).
 *
 * One header, no library: the raw imports of wasmgate's host ABI (module
 * "wasmgate_http_v1", see docs/abi.md, which is the contract), its constants, and a few
 * small static inline helpers. Every request passes wasmgate's egress policy.
 *
 *   clang --target=wasm32-wasi -O2 app.c -o app.wasm
 *   wasmgate run --allow https://api.example.com app.wasm
 *
 * Conventions (docs/abi.md):
 *   - every call returns an int32_t status: >= 0 success (a handle, a count, a length,
 *     an HTTP status), < 0 one of the WG_ERR_* codes below;
 *   - strings are (pointer, length) byte ranges, not NUL-terminated;
 *   - timeouts are int64_t milliseconds: 0 = do not wait, -1 = wait as long as needed
 *     (WG_WAIT_FOREVER), > 0 = wait at most that long;
 *   - buffers are yours: the host copies into them (no allocator export needed);
 *     copy-out calls (response_headers, response_header, last_error) return the full
 *     length like snprintf and write nothing if it does not fit;
 *   - always wg_close() a handle, also on error paths (closing cancels).
 *
 * Streaming a response body in bounded memory (the host holds only a few chunks):
 *
 *     int32_t h = wg_request_new("GET", 3, url, (int32_t)strlen(url));
 *     if (h < 0) goto fail;                          // e.g. WG_ERR_BAD_URL
 *     int32_t rc = wg_request_send(h, 0);
 *     if (rc < 0) goto fail_close;
 *     int32_t status = wg_response_status(h, WG_WAIT_FOREVER);
 *     if (status < 0) goto fail_close;               // e.g. WG_ERR_DENIED
 *     static char buf[64 * 1024];
 *     for (;;) {
 *         int32_t n = wg_body_read(h, buf, sizeof buf, WG_WAIT_FOREVER);
 *         if (n == 0) break;                         // end of body
 *         if (n < 0) goto fail_close;                // e.g. WG_ERR_READ_TIMEOUT
 *         consume(buf, n);
 *     }
 *     wg_close(h);
 *   fail_close: ... char msg[512]; wg_last_error(msg, sizeof msg); wg_close(h); ...
 *
 * Uploading a body in chunks: wg_request_send(h, WG_SEND_BODY_STREAM), then
 * wg_body_write(h, chunk, len, WG_WAIT_FOREVER) as often as needed (it returns how many
 * bytes were accepted; with WG_WAIT_FOREVER all of them), then wg_body_finish(h).
 *
 * Several requests at once: send them all, then wg_poll() their handles; each gets a
 * byte of WG_READY_* bits.
 */
#ifndef WASMGATE_HTTP_H
#define WASMGATE_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ABI version --------------------------------------------------------------- */

/** The ABI version this header was written for; wg_version() returns it. */
#define WG_ABI_VERSION 1

/* ---- Status codes (docs/abi.md, "Status codes") --------------------------------- */

#define WG_OK 0
#define WG_ERR_BAD_HANDLE (-1)                 /* unknown or closed handle */
#define WG_ERR_BAD_POINTER (-2)                /* pointer/length outside guest memory */
#define WG_ERR_BAD_UTF8 (-3)                   /* method or URL is not UTF-8 */
#define WG_ERR_BAD_METHOD (-4)                 /* not an HTTP method token */
#define WG_ERR_BAD_URL (-5)                    /* not an absolute http(s) URL */
#define WG_ERR_BAD_HEADER (-6)                 /* bad header name, or CR/LF/NUL in a value */
#define WG_ERR_FORBIDDEN_HEADER (-7)           /* a host-managed header (host, connection, ...) */
#define WG_ERR_TOO_MANY_HANDLES (-8)           /* 1024 handles open */
#define WG_ERR_WRONG_STATE (-9)                /* call not valid in the handle's state */
#define WG_ERR_NOT_READY (-10)                 /* the timeout passed */
#define WG_ERR_INVALID_ARGUMENT (-11)          /* bad option, flag, count or timeout */
#define WG_ERR_NOT_FOUND (-12)                 /* no such header */
#define WG_ERR_NO_ALLOCATOR (-13)              /* fetch needs cabi_realloc or malloc exported */
#define WG_ERR_BAD_ALLOCATOR (-14)             /* the allocator trapped or returned a bad pointer */
#define WG_ERR_REENTRANT (-15)                 /* called from inside the allocator during fetch */
#define WG_ERR_DENIED (-20)                    /* the policy's rules refused the request */
#define WG_ERR_DESTINATION_IP_PROHIBITED (-21) /* the name resolved only to refused addresses */
#define WG_ERR_DNS (-22)                       /* name resolution failed */
#define WG_ERR_CONNECTION_REFUSED (-23)        /* could not connect */
#define WG_ERR_CONNECTION_TIMEOUT (-24)        /* connect/TLS handshake timed out */
#define WG_ERR_TLS_PROTOCOL (-25)              /* TLS handshake failed */
#define WG_ERR_TLS_CERTIFICATE (-26)           /* server certificate not trusted */
#define WG_ERR_REQUEST_BODY_SIZE (-27)         /* request body over --max-request-body */
#define WG_ERR_RESPONSE_BODY_SIZE (-28)        /* response body over --max-response-body */
#define WG_ERR_RESPONSE_TIMEOUT (-29)          /* no response head within the first-byte timeout */
#define WG_ERR_READ_TIMEOUT (-30)              /* body stalled longer than the between-bytes timeout */
#define WG_ERR_LIMIT_REACHED (-31)             /* --max-concurrent-requests or --max-requests */
#define WG_ERR_PROTOCOL (-32)                  /* connection broke or bad HTTP */
#define WG_ERR_INTERNAL (-33)                  /* a host-side failure */
#define WG_ERR_TOO_MANY_REDIRECTS (-34)        /* more redirects than WG_OPT_FOLLOW_REDIRECTS */
#define WG_ERR_NOT_RECORDED (-35)              /* --replay: no recorded entry for this request */

/* ---- request_option ids --------------------------------------------------------- */

#define WG_OPT_CONNECT_TIMEOUT_MS 1      /* > 0, capped by the policy */
#define WG_OPT_FIRST_BYTE_TIMEOUT_MS 2   /* > 0, capped by the policy */
#define WG_OPT_BETWEEN_BYTES_TIMEOUT_MS 3 /* > 0, capped by the policy */
#define WG_OPT_FOLLOW_REDIRECTS 4        /* 0..20; default 0 = do not follow */

/* ---- request_send flags --------------------------------------------------------- */

#define WG_SEND_BODY_STREAM 1 /* body follows via wg_body_write + wg_body_finish */

/* ---- poll ready bits (one byte per handle) -------------------------------------- */

#define WG_READY_RESPONSE 1  /* response_status will not wait */
#define WG_READY_BODY 2      /* body_read will not wait */
#define WG_READY_WRITE 4     /* body_write can accept bytes now (or fails at once) */
#define WG_READY_INVALID 128 /* the handle is unknown or closed */

/* ---- Timeouts ------------------------------------------------------------------- */

#define WG_NO_WAIT ((int64_t)0)
#define WG_WAIT_FOREVER ((int64_t)-1)

/** Most handles open at once. */
#define WG_MAX_HANDLES 1024

/* ---- Raw imports (module "wasmgate_http_v1") ------------------------------------ */

#define WG_IMPORT_(name) __attribute__((import_module("wasmgate_http_v1"), import_name(name)))

/** Returns 1 (WG_ABI_VERSION). */
WG_IMPORT_("version") int32_t wg_version(void);

/** Creates a request; returns its handle (>= 1). The policy is consulted on send. */
WG_IMPORT_("request_new")
int32_t wg_request_new(const char *method, int32_t method_len, const char *url, int32_t url_len);

/** Appends a request header (building state only). */
WG_IMPORT_("request_header")
int32_t wg_request_header(int32_t h, const char *name, int32_t name_len, const void *value,
                          int32_t value_len);

/** Sets a WG_OPT_* option (building state only). */
WG_IMPORT_("request_option") int32_t wg_request_option(int32_t h, int32_t option, int64_t value);

/** Starts the request without blocking (0); flags: 0 or WG_SEND_BODY_STREAM. */
WG_IMPORT_("request_send") int32_t wg_request_send(int32_t h, int32_t flags);

/** Writes request body bytes; returns how many were accepted (0..=len). */
WG_IMPORT_("body_write")
int32_t wg_body_write(int32_t h, const void *data, int32_t len, int64_t timeout_ms);

/** Ends the request body. */
WG_IMPORT_("body_finish") int32_t wg_body_finish(int32_t h);

/** Waits until one of `count` handles is ready; writes one WG_READY_* byte per handle. */
WG_IMPORT_("poll")
int32_t wg_poll(const int32_t *handles, int32_t count, uint8_t *ready, int64_t timeout_ms);

/** Waits for the response head: the HTTP status, or the request's error code. */
WG_IMPORT_("response_status") int32_t wg_response_status(int32_t h, int64_t timeout_ms);

/** Copies all response headers (u32 LE name_len, name, u32 LE value_len, value)*. */
WG_IMPORT_("response_headers") int32_t wg_response_headers(int32_t h, void *buf, int32_t cap);

/** Copies the value of the index-th header called `name` (case-insensitive). */
WG_IMPORT_("response_header")
int32_t wg_response_header(int32_t h, const char *name, int32_t name_len, int32_t index, void *buf,
                           int32_t cap);

/** Reads response body bytes: > 0 bytes, 0 at the end, < 0 an error. cap must be > 0. */
WG_IMPORT_("body_read")
int32_t wg_body_read(int32_t h, void *buf, int32_t cap, int64_t timeout_ms);

/** Frees the handle; cancels the request if it is still in flight. */
WG_IMPORT_("close") int32_t wg_close(int32_t h);

/** Copies the message of the most recent failed call (raw, snprintf-style, no NUL). */
WG_IMPORT_("last_error") int32_t wg_last_error_raw(void *buf, int32_t cap);

/** One-shot request for guests exporting an allocator (see docs/abi.md, "fetch"). */
WG_IMPORT_("fetch")
int32_t wg_fetch(const char *method, int32_t method_len, const char *url, int32_t url_len,
                 const void *headers, int32_t headers_len, const void *body, int32_t body_len,
                 void *result);

#undef WG_IMPORT_

/* ---- Helpers -------------------------------------------------------------------- */

/** The name of a status code, e.g. "ERR_DENIED" (or "OK" for >= 0, "ERR_UNKNOWN"). */
static inline const char *wg_error_name(int32_t code) {
    switch (code) {
    case WG_ERR_BAD_HANDLE: return "ERR_BAD_HANDLE";
    case WG_ERR_BAD_POINTER: return "ERR_BAD_POINTER";
    case WG_ERR_BAD_UTF8: return "ERR_BAD_UTF8";
    case WG_ERR_BAD_METHOD: return "ERR_BAD_METHOD";
    case WG_ERR_BAD_URL: return "ERR_BAD_URL";
    case WG_ERR_BAD_HEADER: return "ERR_BAD_HEADER";
    case WG_ERR_FORBIDDEN_HEADER: return "ERR_FORBIDDEN_HEADER";
    case WG_ERR_TOO_MANY_HANDLES: return "ERR_TOO_MANY_HANDLES";
    case WG_ERR_WRONG_STATE: return "ERR_WRONG_STATE";
    case WG_ERR_NOT_READY: return "ERR_NOT_READY";
    case WG_ERR_INVALID_ARGUMENT: return "ERR_INVALID_ARGUMENT";
    case WG_ERR_NOT_FOUND: return "ERR_NOT_FOUND";
    case WG_ERR_NO_ALLOCATOR: return "ERR_NO_ALLOCATOR";
    case WG_ERR_BAD_ALLOCATOR: return "ERR_BAD_ALLOCATOR";
    case WG_ERR_DENIED: return "ERR_DENIED";
    case WG_ERR_DESTINATION_IP_PROHIBITED: return "ERR_DESTINATION_IP_PROHIBITED";
    case WG_ERR_DNS: return "ERR_DNS";
    case WG_ERR_CONNECTION_REFUSED: return "ERR_CONNECTION_REFUSED";
    case WG_ERR_CONNECTION_TIMEOUT: return "ERR_CONNECTION_TIMEOUT";
    case WG_ERR_TLS_PROTOCOL: return "ERR_TLS_PROTOCOL";
    case WG_ERR_TLS_CERTIFICATE: return "ERR_TLS_CERTIFICATE";
    case WG_ERR_REQUEST_BODY_SIZE: return "ERR_REQUEST_BODY_SIZE";
    case WG_ERR_RESPONSE_BODY_SIZE: return "ERR_RESPONSE_BODY_SIZE";
    case WG_ERR_RESPONSE_TIMEOUT: return "ERR_RESPONSE_TIMEOUT";
    case WG_ERR_READ_TIMEOUT: return "ERR_READ_TIMEOUT";
    case WG_ERR_LIMIT_REACHED: return "ERR_LIMIT_REACHED";
    case WG_ERR_PROTOCOL: return "ERR_PROTOCOL";
    case WG_ERR_INTERNAL: return "ERR_INTERNAL";
    case WG_ERR_TOO_MANY_REDIRECTS: return "ERR_TOO_MANY_REDIRECTS";
    case WG_ERR_NOT_RECORDED: return "ERR_NOT_RECORDED";
    default: return code >= 0 ? "OK" : "ERR_UNKNOWN";
    }
}

/** A short generic description of a status code (the table of docs/abi.md). For the
 *  host's specific message of the last failure (naming the --allow flag that would
 *  permit a denied request) use wg_last_error(). */
static inline const char *wg_strerror(int32_t code) {
    switch (code) {
    case WG_ERR_BAD_HANDLE: return "unknown or closed handle";
    case WG_ERR_BAD_POINTER: return "a pointer/length is outside guest memory";
    case WG_ERR_BAD_UTF8: return "method or URL is not UTF-8";
    case WG_ERR_BAD_METHOD: return "not an HTTP method token";
    case WG_ERR_BAD_URL: return "not an absolute http(s) URL";
    case WG_ERR_BAD_HEADER: return "invalid header name, or CR/LF/NUL in a value";
    case WG_ERR_FORBIDDEN_HEADER: return "a host-managed header";
    case WG_ERR_TOO_MANY_HANDLES: return "1024 handles open";
    case WG_ERR_WRONG_STATE: return "call not valid in the handle's state";
    case WG_ERR_NOT_READY: return "the timeout passed";
    case WG_ERR_INVALID_ARGUMENT: return "bad option, flag, count or timeout";
    case WG_ERR_NOT_FOUND: return "no such header";
    case WG_ERR_NO_ALLOCATOR: return "fetch needs cabi_realloc or malloc";
    case WG_ERR_BAD_ALLOCATOR: return "the allocator trapped or returned a bad pointer";
    case WG_ERR_DENIED: return "the policy's rules refused the request";
    case WG_ERR_DESTINATION_IP_PROHIBITED: return "the name resolved only to refused addresses";
    case WG_ERR_DNS: return "name resolution failed";
    case WG_ERR_CONNECTION_REFUSED: return "could not connect";
    case WG_ERR_CONNECTION_TIMEOUT: return "connect/TLS handshake timed out";
    case WG_ERR_TLS_PROTOCOL: return "TLS handshake failed";
    case WG_ERR_TLS_CERTIFICATE: return "server certificate not trusted";
    case WG_ERR_REQUEST_BODY_SIZE: return "request body too large";
    case WG_ERR_RESPONSE_BODY_SIZE: return "response body too large";
    case WG_ERR_RESPONSE_TIMEOUT: return "no response head within the first-byte timeout";
    case WG_ERR_READ_TIMEOUT: return "the body stalled longer than the between-bytes timeout";
    case WG_ERR_LIMIT_REACHED: return "request limit reached";
    case WG_ERR_PROTOCOL: return "the connection broke or the server spoke bad HTTP";
    case WG_ERR_INTERNAL: return "a host-side failure";
    case WG_ERR_TOO_MANY_REDIRECTS: return "too many redirects";
    case WG_ERR_NOT_RECORDED: return "no recorded entry for this request (--replay)";
    default: return code >= 0 ? "success" : "unknown error";
    }
}

/** Copies the host's message of the most recent failed call into buf as a NUL-terminated
 *  string (truncated to cap - 1 bytes if needed; "" when there was none). Returns the
 *  full message length, like snprintf. Call it right after the failing call: the next
 *  failure replaces the message. */
static inline size_t wg_last_error(char *buf, size_t cap) {
    int32_t n = wg_last_error_raw(NULL, 0);
    if (n <= 0) {
        if (cap > 0) buf[0] = '\0';
        return 0;
    }
    if (cap == 0) return (size_t)n;
    if ((size_t)n < cap) {
        int32_t got = wg_last_error_raw(buf, (int32_t)(cap - 1));
        buf[got >= 0 && got < (int32_t)cap ? got : 0] = '\0';
        return (size_t)n;
    }
    /* Too long for buf: the host writes nothing then, so fetch it whole and truncate. */
    char *tmp = (char *)malloc((size_t)n);
    if (tmp == NULL || wg_last_error_raw(tmp, n) != n) {
        free(tmp);
        buf[0] = '\0';
        return (size_t)n;
    }
    memcpy(buf, tmp, cap - 1);
    buf[cap - 1] = '\0';
    free(tmp);
    return (size_t)n;
}

/** wg_request_new with NUL-terminated strings. */
static inline int32_t wg_new(const char *method, const char *url) {
    return wg_request_new(method, (int32_t)strlen(method), url, (int32_t)strlen(url));
}

/** wg_request_header with NUL-terminated strings. */
static inline int32_t wg_header(int32_t h, const char *name, const char *value) {
    return wg_request_header(h, name, (int32_t)strlen(name), value, (int32_t)strlen(value));
}

/** Writes all `len` bytes of the request body (blocking). Returns 0 or an error code. */
static inline int32_t wg_body_write_all(int32_t h, const void *data, size_t len) {
    const char *p = (const char *)data;
    while (len > 0) {
        int32_t chunk = len > 0x10000 ? 0x10000 : (int32_t)len;
        int32_t n = wg_body_write(h, p, chunk, WG_WAIT_FOREVER);
        if (n < 0) return n;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/** Decodes the entry at *pos of a wg_response_headers buffer of `len` bytes; advances
 *  *pos. Returns 1 for an entry, 0 at the end (or on a malformed buffer). Name and value
 *  point into buf and are not NUL-terminated. */
static inline int wg_next_header(const uint8_t *buf, size_t len, size_t *pos, const uint8_t **name,
                                 uint32_t *name_len, const uint8_t **value, uint32_t *value_len) {
    size_t p = *pos;
    if (p + 4 > len) return 0;
    uint32_t nl = (uint32_t)buf[p] | (uint32_t)buf[p + 1] << 8 | (uint32_t)buf[p + 2] << 16 |
                  (uint32_t)buf[p + 3] << 24;
    p += 4;
    if (nl > len - p) return 0;
    *name = buf + p;
    *name_len = nl;
    p += nl;
    if (p + 4 > len) return 0;
    uint32_t vl = (uint32_t)buf[p] | (uint32_t)buf[p + 1] << 8 | (uint32_t)buf[p + 2] << 16 |
                  (uint32_t)buf[p + 3] << 24;
    p += 4;
    if (vl > len - p) return 0;
    *value = buf + p;
    *value_len = vl;
    *pos = p + vl;
    return 1;
}

/** A blocking GET of a NUL-terminated URL. The body is copied into body[0..cap); the rest
 *  of a longer body is read and dropped, and *body_len (if not NULL) gets the full body
 *  length, like snprintf. Returns the HTTP status, or a negative WG_ERR_* code (then
 *  wg_last_error() has the host's message). */
static inline int32_t wg_get(const char *url, void *body, size_t cap, size_t *body_len) {
    int32_t h = wg_new("GET", url);
    if (h < 0) return h;
    int32_t status = wg_request_send(h, 0);
    if (status >= 0) status = wg_response_status(h, WG_WAIT_FOREVER);
    size_t total = 0;
    if (status >= 0) {
        char scratch[4096];
        for (;;) {
            char *dst = total < cap ? (char *)body + total : scratch;
            size_t room = total < cap ? cap - total : sizeof scratch;
            int32_t n = wg_body_read(h, dst, room > 0x10000 ? 0x10000 : (int32_t)room,
                                     WG_WAIT_FOREVER);
            if (n == 0) break;
            if (n < 0) {
                status = n;
                break;
            }
            total += (size_t)n;
        }
    }
    if (body_len != NULL) *body_len = total;
    /* A successful close() does not replace the failing call's last_error message. */
    wg_close(h);
    return status;
}

#ifdef __cplusplus
}
#endif

#endif /* WASMGATE_HTTP_H */
