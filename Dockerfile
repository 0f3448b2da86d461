# wasmgate serve in a container. Build (BuildKit, the default builder of current Docker):
#
#   docker build -t wasmgate .
#
# The image holds the wasmgate binary only. Put your handler in an image of your own:
#
#   FROM wasmgate
#   COPY handler.wasm /app/handler.wasm
#
# and run it with a policy (see docs/deploy.md):
#
#   docker run -p 8080:8080 -p 9090:9090 my-handler --allow https://api.example.com /app/handler.wasm

# --- build ---------------------------------------------------------------------------
# The builder's Debian must be the runtime's (bookworm): a binary linked against a
# newer glibc (rust:1.95-slim is trixie) does not start on bookworm.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Only what the host workspace needs (.dockerignore leaves out target/, guests, docs).
COPY Cargo.toml Cargo.lock ./
COPY crates crates
# The cache mounts keep the registry and the Wasmtime build between image builds
# (a cold build takes about 5 minutes on 2 cores); target/ is a cache mount, so the
# binary is copied out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p wasmgate-cli \
    && install -m 0755 target/release/wasmgate /usr/local/bin/wasmgate

# --- run -----------------------------------------------------------------------------
FROM debian:bookworm-slim
# A fixed numeric non-root user, so Kubernetes' runAsNonRoot can check it.
RUN groupadd --system --gid 10001 wasmgate \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/wasmgate --create-home wasmgate \
    && mkdir -p /app /var/cache/wasmgate \
    && chown wasmgate:wasmgate /var/cache/wasmgate
COPY --from=build /usr/local/bin/wasmgate /usr/local/bin/wasmgate
# The compiled-code cache (docs: "Compiled-code cache"). Under a read-only root file
# system, mount a writable volume here (deploy/kubernetes does), or pass --no-cache.
ENV XDG_CACHE_HOME=/var/cache
USER 10001:10001
WORKDIR /app
# HTTP (the handlers) and the metrics/readiness listener (/metrics, /healthz).
EXPOSE 8080 9090
# wasmgate serve listens on 127.0.0.1 unless told otherwise; in a container that is
# unreachable from outside, so both listeners are bound to every interface here.
# Arguments given to `docker run` / Kubernetes `args` follow these: more options, then
# the handler file.
ENTRYPOINT ["wasmgate", "serve", "--addr", "0.0.0.0:8080", "--metrics-addr", "0.0.0.0:9090"]
CMD ["/app/handler.wasm"]
