# syntax=docker/dockerfile:1

# Build stage: the full Rust toolchain. OpenSSL is built from source (the `vendored` feature)
# and linked statically, which needs only the image's perl, make and C compiler.
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep the registry and target directory between builds; the binary is copied
# out in the same step because a cache mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p tessera \
    && install -m 0755 target/release/tessera /usr/local/bin/tessera

# Runtime stage: the binary links OpenSSL statically; only CA roots for outbound TLS are added.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# A fixed numeric id, so orchestrators that insist on a non-root uid can check it.
RUN groupadd --system --gid 10001 tessera \
    && useradd --system --uid 10001 --gid tessera --home-dir /var/lib/tessera \
        --shell /usr/sbin/nologin tessera \
    && install -d -o tessera -g tessera -m 0750 /var/lib/tessera
COPY --from=builder /usr/local/bin/tessera /usr/local/bin/tessera
USER 10001:10001
WORKDIR /var/lib/tessera
EXPOSE 8080
ENTRYPOINT ["tessera"]
CMD ["serve"]
