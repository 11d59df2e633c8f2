#!/usr/bin/env bash
# Returns the compose stack to a snapshot taken by stack-snapshot.sh: re-tags it as the
# stack's image (loading the saved tar if the image is gone) and recreates both services
# without building.
# Usage: scripts/stack-rollback.sh [TAG]
#   TAG  a snapshot tag (default: the newest snapshot that differs from the current image)
#   CODEX_API_IMAGE, SNAPSHOT_DIR as for stack-snapshot.sh
set -euo pipefail
self="$0"
case "${1:-}" in
  -h|--help) sed -n '2,7p' "$self" | sed 's/^# \{0,1\}//'; exit 0 ;;
  -*) echo "stack-rollback.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "stack-rollback.sh: one TAG at most (try --help)" >&2; exit 2; }
cd "$(dirname "$0")/.."
root="$PWD"

# The image Compose runs: the environment's, else the one set in Compose's .env beside
# compose.yaml (README: overridable there), else compose.yaml's default.
if [ -z "${CODEX_API_IMAGE:-}" ] && [ -f "$root/.env" ]; then
  CODEX_API_IMAGE="$(sed -n 's/^[[:space:]]*CODEX_API_IMAGE=//p' "$root/.env" | tail -n 1 | tr -d "\"'")"
fi
image="${CODEX_API_IMAGE:-codex-completions-api:latest}"
dir="${SNAPSHOT_DIR:-$HOME/.cache/codex-completions-api}"
history="$dir/history.jsonl"
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

tag="${1:-}"
if [ -z "$tag" ]; then
  [ -s "$history" ] || { echo "stack-rollback.sh: no snapshots in $history" >&2; exit 1; }
  current="$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
  tag="$(awk -v current="$current" '{
    id = $0; sub(/.*"id":"/, "", id); sub(/".*/, "", id)
    t = $0; sub(/.*"tag":"/, "", t); sub(/".*/, "", t)
    if (id != current) newest = t
  } END { print newest }' "$history")"
  [ -n "$tag" ] || { echo "stack-rollback.sh: every snapshot is the running image" >&2; exit 1; }
fi

if ! docker image inspect "$tag" >/dev/null 2>&1; then
  tar="$(grep -F "\"tag\":\"$tag\"" "$history" 2>/dev/null | tail -n 1 | field tar)"
  [ -n "$tar" ] && [ -f "$tar" ] || { echo "stack-rollback.sh: image $tag is gone and no tar was saved" >&2; exit 1; }
  docker load -i "$tar"
fi
docker tag "$tag" "$image"
docker compose -f compose.yaml up -d --no-build app auth
echo "rolled back to $tag"
