/* get: fetch a URL through wasmgate and print the status and the body.
 *
 *   clang --target=wasm32-wasi -O2 -I guest/c guest/c/examples/get.c -o get.wasm
 *   wasmgate run --allow https://example.com get.wasm https://example.com/
 */
#include <stdio.h>

#include "../wasmgate_http.h"

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : "https://example.com/";
    static char body[64 * 1024];
    size_t len = 0;
    int32_t status = wg_get(url, body, sizeof body, &len);
    if (status < 0) {
        char msg[1024];
        wg_last_error(msg, sizeof msg);
        fprintf(stderr, "error: %d %s\n", status, msg);
        return 1;
    }
    printf("status: %d\n", status);
    fwrite(body, 1, len < sizeof body ? len : sizeof body, stdout);
    if (len > sizeof body) printf("\n... (%zu bytes in all)", len);
    printf("\n");
    return 0;
}
