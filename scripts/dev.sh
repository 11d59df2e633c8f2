#!/usr/bin/env bash
# Development server from source with reload on change (README "Scripts"):
# loads .env, serves on 127.0.0.1:18000 with PROXY_ENV=dev and CODEX_HOME=.codev.
# Usage: scripts/dev.sh [-p|--port PORT] [--deno]
#   --deno  run the same source under Deno instead of Bun (no reload)
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/.."

if [ -f .env ]; then
  set -a
  # shellcheck disable=SC1091
  . ./.env
  set +a
fi
runtime=bun
while [ $# -gt 0 ]; do
  case "$1" in
    -p|--port) PORT="$2"; shift 2 ;;
    --deno) runtime=deno; shift ;;
    -h|--help) sed -n '2,5p' "$self" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "dev.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
export PORT="${PORT:-18000}"
export PROXY_ENV="${PROXY_ENV:-dev}"
export CODEX_HOME="${CODEX_HOME:-.codev}"
mkdir -p "$CODEX_HOME"
[ -n "${PROXY_API_KEY:-}" ] || echo "dev.sh: PROXY_API_KEY is not set: serving without authentication on 127.0.0.1" >&2

if [ "$runtime" = deno ]; then
  exec node_modules/.bin/deno run -A --unstable-no-legacy-abort src/server.ts
fi
exec node_modules/.bin/bun --watch src/server.ts
