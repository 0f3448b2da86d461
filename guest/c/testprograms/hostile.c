/*
 * hostile: calls wasmgate's host ABI with bad arguments, one case per line
 * (`case <name>: <code>`), then does a GET of URL that must still work
 * (`final: status <code>`, `final-body-bytes: <n>`), to show the host survives.
 *
 *   hostile URL        (URL must be allowed by the policy, e.g. http://127.0.0.1:PORT/hello)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../wasmgate_http.h"

static void report(const char *name, int32_t code) {
    printf("case %s: %d\n", name, code);
    fflush(stdout);
}

/* A fresh request in the building state; exits if the host refuses a valid one. */
static int32_t fresh(const char *url) {
    int32_t h = wg_new("GET", url);
    if (h < 0) {
        fprintf(stderr, "error: %d request_new of a valid request failed\n", h);
        exit(1);
    }
    return h;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: hostile URL\n");
        return 2;
    }
    const char *url = argv[1];
    int32_t url_len = (int32_t)strlen(url);

    report("version", wg_version());

    /* Pointers. */
    uintptr_t mem_end = (uintptr_t)__builtin_wasm_memory_size(0) * 65536u;
    report("url_out_of_bounds", wg_request_new("GET", 3, (const char *)mem_end, 16));
    report("url_len_overflow",
           wg_request_new("GET", 3, (const char *)(uintptr_t)0xFFFFFFF0u, 0x20));
    report("method_negative_len", wg_request_new("GET", -1, url, url_len));
    report("last_error_out_of_bounds", wg_last_error_raw((void *)(uintptr_t)0xFFFFFFF0u, 0x20));

    /* Strings. */
    static const char bad_utf8_url[] = "http://127.0.0.1/\xff\xfe";
    report("url_bad_utf8", wg_request_new("GET", 3, bad_utf8_url, (int32_t)strlen(bad_utf8_url)));
    report("method_bad_utf8", wg_request_new("G\xc3", 2, url, url_len));
    report("method_not_a_token", wg_new("GE T", url));
    report("url_not_http", wg_new("GET", "ftp://127.0.0.1/x"));
    report("url_relative", wg_new("GET", "/hello"));

    /* Headers. */
    int32_t h = fresh(url);
    report("header_crlf_value", wg_header(h, "x-a", "ok\r\nx-injected: 1"));
    report("header_lf_value", wg_header(h, "x-a", "ok\nx-injected: 1"));
    report("header_nul_value", wg_request_header(h, "x-a", 3, "a\0b", 3));
    report("header_bad_name", wg_header(h, "bad name", "v"));
    report("header_empty_name", wg_request_header(h, "", 0, "v", 1));
    report("header_forbidden_host", wg_header(h, "host", "evil.example"));
    report("header_forbidden_host_upper", wg_header(h, "Host", "evil.example"));
    report("header_forbidden_connection", wg_header(h, "connection", "close"));
    report("header_forbidden_transfer_encoding", wg_header(h, "transfer-encoding", "chunked"));
    report("header_value_out_of_bounds",
           wg_request_header(h, "x-a", 3, (const void *)(uintptr_t)0xFFFFFFF0u, 0x20));
    report("header_ok", wg_header(h, "x-fine", "value \x80\xff with\ttab"));

    /* Options and flags. */
    report("option_unknown", wg_request_option(h, 99, 1));
    report("option_zero_timeout", wg_request_option(h, WG_OPT_CONNECT_TIMEOUT_MS, 0));
    report("option_negative_timeout", wg_request_option(h, WG_OPT_FIRST_BYTE_TIMEOUT_MS, -5));
    report("option_redirects_21", wg_request_option(h, WG_OPT_FOLLOW_REDIRECTS, 21));
    report("option_ok", wg_request_option(h, WG_OPT_FIRST_BYTE_TIMEOUT_MS, 10000));
    report("status_before_send", wg_response_status(h, 0));
    report("send_bad_flags", wg_request_send(h, 2));
    report("close", wg_close(h));
    report("double_close", wg_close(h));
    report("header_after_close", wg_header(h, "x-a", "b"));

    /* Unknown handles. */
    report("unknown_handle_header", wg_header(999999, "x-a", "b"));
    report("unknown_handle_send", wg_request_send(999999, 0));
    report("unknown_handle_status", wg_response_status(999999, 0));
    report("unknown_handle_close", wg_close(999999));
    report("zero_handle_close", wg_close(0));
    report("negative_handle_close", wg_close(-3));

    /* Wrong states. */
    h = fresh(url);
    report("send", wg_request_send(h, 0));
    report("send_twice", wg_request_send(h, 0));
    report("header_after_send", wg_header(h, "x-a", "b"));
    report("option_after_send", wg_request_option(h, WG_OPT_CONNECT_TIMEOUT_MS, 1000));
    report("body_write_without_stream", wg_body_write(h, "abc", 3, WG_WAIT_FOREVER));
    report("body_finish_without_stream", wg_body_finish(h));
    report("status_bad_timeout", wg_response_status(h, -5));
    char small[4];
    report("body_read_zero_cap", wg_body_read(h, small, 0, WG_WAIT_FOREVER));
    report("body_read_out_of_bounds",
           wg_body_read(h, (void *)(uintptr_t)0xFFFFFFF0u, 0x20, WG_WAIT_FOREVER));
    report("status", wg_response_status(h, WG_WAIT_FOREVER));
    /* snprintf-style copy-out: too small a buffer gets nothing but the full length. */
    memset(small, 'Z', sizeof small);
    int32_t need = wg_response_headers(h, small, sizeof small);
    report("headers_small_buffer_untouched", need > 4 && memcmp(small, "ZZZZ", 4) == 0 ? 0 : -100);
    report("header_not_found", wg_response_header(h, "x-not-there", 11, 0, small, 4));
    report("header_bad_index", wg_response_header(h, "content-length", 14, 7, small, 4));
    wg_close(h);

    h = fresh(url);
    report("send_stream", wg_request_send(h, WG_SEND_BODY_STREAM));
    report("body_write_out_of_bounds",
           wg_body_write(h, (const void *)(uintptr_t)0xFFFFFFF0u, 0x20, WG_WAIT_FOREVER));
    report("body_finish", wg_body_finish(h));
    report("body_finish_twice", wg_body_finish(h));
    report("body_write_after_finish", wg_body_write(h, "abc", 3, WG_WAIT_FOREVER));
    wg_close(h);

    /* poll. */
    int32_t handles[2] = {h, 424242};
    uint8_t ready[2] = {0, 0};
    int32_t n = wg_poll(handles, 2, ready, 0);
    report("poll_closed_handles", n);
    report("poll_ready_bits", ready[0] == WG_READY_INVALID && ready[1] == WG_READY_INVALID ? 0 : -100);
    report("poll_too_many", wg_poll(handles, 1025, ready, 0));
    report("poll_negative_count", wg_poll(handles, -1, ready, 0));
    report("poll_bad_timeout", wg_poll(handles, 2, ready, -7));
    report("poll_out_of_bounds", wg_poll((const int32_t *)(uintptr_t)0xFFFFFFF0u, 8, ready, 0));
    report("poll_sleep", wg_poll(NULL, 0, NULL, 10));

    /* fetch needs an exported allocator, which this module does not have. */
    report("fetch_no_allocator", wg_fetch("GET", 3, url, url_len, NULL, 0, NULL, 0, small));

    /* last_error holds the message of the most recent failure. */
    wg_close(777777);
    char msg[256];
    report("last_error_nonempty", wg_last_error(msg, sizeof msg) > 0 ? 0 : -100);

    /* Exhaust the handle table: 1024 open handles, then one more. */
    static int32_t open_handles[WG_MAX_HANDLES + 1];
    int opened = 0;
    int32_t rc = 0;
    for (int i = 0; i < WG_MAX_HANDLES + 1; i++) {
        rc = wg_request_new("GET", 3, url, url_len);
        if (rc < 0) break;
        open_handles[opened++] = rc;
    }
    printf("opened: %d\n", opened);
    report("too_many_handles", rc);
    for (int i = 0; i < opened; i++) wg_close(open_handles[i]);
    /* Closed handles are freed: one more works, and handles are never reused. */
    h = wg_request_new("GET", 3, url, url_len);
    report("handle_after_closing_all", h > open_handles[opened - 1] ? 0 : h);
    wg_close(h);

    /* The host still serves a normal request. */
    static char body[4096];
    size_t body_len = 0;
    int32_t status = wg_get(url, body, sizeof body, &body_len);
    printf("final: status %d\n", status);
    printf("final-body-bytes: %zu\n", body_len);
    return status == 200 ? 0 : 1;
}
