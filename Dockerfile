# syntax=docker/dockerfile:1
#
# Two stages: build the standalone binaries with the pinned Bun (installed from the npm
# lockfile, like every other checkout), then copy them with the pinned Codex native
# binary into a distroless image. The compiled Bun binary needs glibc (distroless `cc`,
# not `static`); Codex is a static musl binary. Pin both base images by digest in your
# registry mirror for reproducible builds (README "Run in a container behind Traefik").

ARG BUILD_IMAGE=node:22-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --omit=dev: Bun and Codex are runtime dependencies; test clients and Deno are not needed.
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error
COPY tsconfig.json ./
COPY src/ src/
COPY auth/ auth/
COPY scripts/build.ts scripts/
RUN node_modules/.bin/bun scripts/build.ts --outdir /out \
 && case "$(uname -m)" in \
      x86_64) pkg=codex-linux-x64 triple=x86_64-unknown-linux-musl ;; \
      aarch64) pkg=codex-linux-arm64 triple=aarch64-unknown-linux-musl ;; \
      *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;; \
    esac \
 && mkdir -p /out/codex /out/codex-api-home \
 && cp -a "node_modules/@openai/${pkg}/vendor/${triple}/." /out/codex/ \
 && /out/codex/bin/codex --version

FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /out/codex-completions-api /out/codex-forward-auth /app/
# Beside the binaries: where the proxy finds Codex when CODEX_BIN is unset.
COPY --from=build /out/codex /app/codex
# CODEX_HOME holds Codex's login and per-worker state: it must stay writable by the
# non-root user (uid 65532 in distroless :nonroot), so it is created owned by that user.
COPY --from=build --chown=65532:65532 /out/codex-api-home /app/.codex-api
# The usage log lives on the CODEX_HOME volume, so /v1/usage keeps its history when the
# container is recreated (the default, the temp directory, does not survive that).
ENV PROXY_HOST=0.0.0.0 \
    PORT=11435 \
    CODEX_HOME=/app/.codex-api \
    TOKEN_LOG_PATH=/app/.codex-api/usage.ndjson
USER 65532:65532
VOLUME ["/app/.codex-api"]
EXPOSE 11435 18080
# distroless has no shell and no curl: the binary probes its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/app/codex-completions-api", "--healthcheck"]
ENTRYPOINT ["/app/codex-completions-api"]
