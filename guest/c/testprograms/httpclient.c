/*
 * httpclient: the C test program of wasmgate's host ABI (guest/c/wasmgate_http.h).
 * Output follows test-programs/README.md:
 *
 *   get URL        status, headers, body-bytes, ---, body
 *   post URL SIZE  like get; the body is SIZE bytes of 0123456789abcdef..., streamed
 *                  with body_write in chunks of at most 64 KiB
 *   download URL   status, then body-bytes (counted with one fixed 64 KiB buffer)
 *   headers URL    like get, sending `x-from-guest: 42`
 *
 * Errors: `error: <code> <host message>` on stderr, exit 1. Bad usage: exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../wasmgate_http.h"

#define CHUNK (64 * 1024)

static char chunk_buf[CHUNK];

/* Reports the failing call's code and the host's message, and exits 1. */
static void fail(int32_t code, int32_t h) {
    char msg[2048];
    wg_last_error(msg, sizeof msg);
    if (msg[0] == '\0') snprintf(msg, sizeof msg, "%s", wg_strerror(code));
    fflush(stdout);
    fprintf(stderr, "error: %d %s\n", code, msg);
    if (h > 0) wg_close(h);
    exit(1);
}

static int32_t check(int32_t rc, int32_t h) {
    if (rc < 0) fail(rc, h);
    return rc;
}

static void usage(void) {
    fprintf(stderr, "usage: httpclient <get URL | post URL SIZE | download URL | headers URL>\n");
    exit(2);
}

/* Prints status and headers of an answered request. */
static void print_head(int32_t h, int32_t status) {
    printf("status: %d\n", status);
    int32_t len = check(wg_response_headers(h, NULL, 0), h);
    uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf == NULL) abort();
    if (len > 0) check(wg_response_headers(h, buf, len), h);
    size_t pos = 0;
    const uint8_t *name, *value;
    uint32_t name_len, value_len;
    while (wg_next_header(buf, (size_t)len, &pos, &name, &name_len, &value, &value_len)) {
        printf("header: %.*s: %.*s\n", (int)name_len, name, (int)value_len, value);
    }
    free(buf);
}

/* Prints the response (head, body-bytes, ---, body) and closes the handle. */
static void print_response(int32_t h) {
    int32_t status = check(wg_response_status(h, WG_WAIT_FOREVER), h);
    print_head(h, status);
    size_t cap = CHUNK, len = 0;
    char *body = malloc(cap);
    if (body == NULL) abort();
    for (;;) {
        if (cap - len < CHUNK) {
            cap *= 2;
            body = realloc(body, cap);
            if (body == NULL) abort();
        }
        int32_t n = check(wg_body_read(h, body + len, CHUNK, WG_WAIT_FOREVER), h);
        if (n == 0) break;
        len += (size_t)n;
    }
    wg_close(h);
    printf("body-bytes: %zu\n---\n", len);
    fwrite(body, 1, len, stdout);
    printf("\n");
    free(body);
}

static int32_t start(const char *method, const char *url) {
    return check(wg_new(method, url), 0);
}

static void cmd_get(const char *url, int with_header) {
    int32_t h = start("GET", url);
    if (with_header) check(wg_header(h, "x-from-guest", "42"), h);
    check(wg_request_send(h, 0), h);
    print_response(h);
}

static void cmd_post(const char *url, unsigned long long size) {
    static const char pattern[] = "0123456789abcdef";
    int32_t h = start("POST", url);
    check(wg_request_send(h, WG_SEND_BODY_STREAM), h);
    unsigned long long off = 0;
    while (off < size) {
        size_t len = size - off > CHUNK ? CHUNK : (size_t)(size - off);
        for (size_t i = 0; i < len; i++) chunk_buf[i] = pattern[(off + i) % 16];
        /* With WG_WAIT_FOREVER the host accepts the whole chunk (or fails). */
        int32_t n = check(wg_body_write(h, chunk_buf, (int32_t)len, WG_WAIT_FOREVER), h);
        if ((size_t)n != len) {
            fprintf(stderr, "error: body_write accepted %d of %zu bytes\n", n, len);
            exit(1);
        }
        off += len;
    }
    check(wg_body_finish(h), h);
    print_response(h);
}

static void cmd_download(const char *url) {
    int32_t h = start("GET", url);
    check(wg_request_send(h, 0), h);
    int32_t status = check(wg_response_status(h, WG_WAIT_FOREVER), h);
    printf("status: %d\n", status);
    unsigned long long total = 0;
    for (;;) {
        int32_t n = check(wg_body_read(h, chunk_buf, CHUNK, WG_WAIT_FOREVER), h);
        if (n == 0) break;
        total += (unsigned long long)n;
    }
    wg_close(h);
    printf("body-bytes: %llu\n", total);
}

int main(int argc, char **argv) {
    if (argc < 3) usage();
    const char *cmd = argv[1], *url = argv[2];
    if (strcmp(cmd, "get") == 0 && argc == 3) {
        cmd_get(url, 0);
    } else if (strcmp(cmd, "headers") == 0 && argc == 3) {
        cmd_get(url, 1);
    } else if (strcmp(cmd, "post") == 0 && argc == 4) {
        char *end;
        unsigned long long size = strtoull(argv[3], &end, 10);
        if (*argv[3] == '\0' || *end != '\0') usage();
        cmd_post(url, size);
    } else if (strcmp(cmd, "download") == 0 && argc == 3) {
        cmd_download(url);
    } else {
        usage();
    }
    return 0;
}
