#!/usr/bin/env bash
# Before an upgrade of the compose stack: tags the image it runs now as
# codex-completions-api:snap-<UTC time> and records it, so stack-rollback.sh can return to it.
# Usage: scripts/stack-snapshot.sh
#   CODEX_API_IMAGE  the stack's image (default: as set in .env, else codex-completions-api:latest, as compose.yaml)
#   SNAPSHOT_DIR     where the history (and tars) go (default ~/.cache/codex-completions-api)
#   SNAPSHOT_SAVE=1  also `docker save` the image to a tar there (survives `docker image prune`)
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "stack-snapshot.sh: takes no arguments, got $1 (try --help)" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"

# The image Compose runs: the environment's, else the one set in Compose's .env beside
# compose.yaml (README: overridable there), else compose.yaml's default.
if [ -z "${CODEX_API_IMAGE:-}" ] && [ -f "$root/.env" ]; then
  CODEX_API_IMAGE="$(sed -n 's/^[[:space:]]*CODEX_API_IMAGE=//p' "$root/.env" | tail -n 1 | tr -d "\"'")"
fi
image="${CODEX_API_IMAGE:-codex-completions-api:latest}"
dir="${SNAPSHOT_DIR:-$HOME/.cache/codex-completions-api}"
mkdir -p "$dir"

id="$(docker image inspect --format '{{.Id}}' "$image")"
tag="${image%:*}:snap-$(date -u +%Y%m%dT%H%M%SZ)"
docker tag "$id" "$tag"
tar=""
if [ "${SNAPSHOT_SAVE:-0}" = 1 ]; then
  tar="$dir/${tag##*:}.tar"
  docker save -o "$tar" "$tag"
fi
printf '{"ts":"%s","tag":"%s","id":"%s","tar":"%s"}\n' "$(date -u +%FT%TZ)" "$tag" "$id" "$tar" >> "$dir/history.jsonl"
echo "$tag"
