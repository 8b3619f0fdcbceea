# syntax=docker/dockerfile:1
# Anchorage engine image: a Rust builder stage, then a small Debian runtime running as a
# non-root user. Build from the repository root:
#   docker build -t anchorage:latest .
# The binary links SQLite (bundled), zstd and rustls statically; at run time it needs only the
# CA certificates (registries and feeds over HTTPS) and curl for the health check.

FROM rust:1.95.0-slim-bookworm AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p anchorage \
 && install -D -m 0755 target/release/anchorage /out/anchorage

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 anchorage \
 && useradd --system --uid 10001 --gid anchorage --home-dir /var/lib/anchorage \
      --create-home --shell /usr/sbin/nologin anchorage
COPY --from=builder /out/anchorage /usr/local/bin/anchorage
USER 10001:10001
WORKDIR /var/lib/anchorage
ENV ANCHORAGE_DATA_DIR=/var/lib/anchorage \
    ANCHORAGE_LOG=info \
    ANCHORAGE_LOG_FORMAT=json
VOLUME ["/var/lib/anchorage"]
EXPOSE 8228
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8228/health"]
ENTRYPOINT ["anchorage"]
CMD ["serve", "--listen", "0.0.0.0:8228"]
