# familiar-sessions: build the guest app, build the relay, ship both in a small non-root image.

# 1. The guest app (React + Vite) builds into /src/static.
FROM node:20-bookworm-slim AS guest
WORKDIR /src/guest
COPY guest/package.json guest/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY guest/ ./
RUN npm run build

# 2. The relay binary.
FROM rust:1-bookworm AS relay
WORKDIR /src
COPY Cargo.toml ./
COPY actors/ actors/
COPY bench/ bench/
COPY src/ src/
RUN cargo build --release --bin familiar-sessions

# 3. Runtime: the binary, the built app, nothing else; runs as an unprivileged user.
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /app familiar
WORKDIR /app
COPY --from=relay /src/target/release/familiar-sessions /app/familiar-sessions
COPY --from=guest /src/static /app/static
USER familiar
ENV PORT=8000 HOST=0.0.0.0 STATIC_DIR=/app/static METRICS_PORT=9091 RUST_LOG=info
EXPOSE 8000 9091
CMD ["/app/familiar-sessions"]
