#!/usr/bin/env bash
# Smoke test against a running server or stack (README "Scripts"): /healthz, /v1/models,
# a streamed and a non-streamed chat completion. Exits non-zero on the first failure.
# Usage: BASE_URL=https://api.example.com/v1 API_KEY=sk-... scripts/smoke.sh
#   BASE_URL  default http://127.0.0.1:11435/v1
#   API_KEY   default $PROXY_API_KEY
#   MODEL     default codex-5
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "smoke.sh: takes no arguments, only environment variables (try --help)" >&2; exit 2 ;;
esac

base="${BASE_URL:-http://127.0.0.1:11435/v1}"
base="${base%/}"
key="${API_KEY:-${PROXY_API_KEY:-}}"
model="${MODEL:-codex-5}"
origin="${base%/v1}"
auth=()
[ -n "$key" ] && auth=(-H "Authorization: Bearer $key")
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== healthz"
health="$(curl -fsS --max-time 10 "$origin/healthz")" || fail "GET $origin/healthz"
grep -q '"ok":true' <<<"$health" || fail "healthz: $health"
echo "$health"

echo "== models"
models="$(curl -fsS --max-time 10 "${auth[@]}" "$base/models")" || fail "GET $base/models"
grep -q "\"id\":\"$model\"" <<<"$models" || fail "model $model not listed: $models"
echo "$model listed"

body() { printf '{"model":"%s","stream":%s,"messages":[{"role":"user","content":"Say hello."}]}' "$model" "$1"; }

echo "== chat (stream)"
stream="$(curl -fsSN --max-time 120 "${auth[@]}" -H 'Content-Type: application/json' -d "$(body true)" "$base/chat/completions")" \
  || fail "streamed chat"
grep -q '"object":"chat.completion.chunk"' <<<"$stream" || fail "no chunk in stream: $(head -c 500 <<<"$stream")"
grep -q '^data: \[DONE\]' <<<"$stream" || fail "stream did not end with [DONE]"
grep -m 10 '^data: ' <<<"$stream"

echo "== chat (non-stream)"
single="$(curl -fsS --max-time 120 "${auth[@]}" -H 'Content-Type: application/json' -d "$(body false)" "$base/chat/completions")" \
  || fail "non-streamed chat"
grep -q '"object":"chat.completion"' <<<"$single" || fail "unexpected answer: $(head -c 500 <<<"$single")"
echo "$single"
echo "smoke OK"
