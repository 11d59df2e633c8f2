#!/usr/bin/env bash
# Installs the single-binary deployment on a systemd VM (README "Install on a VM (single binary)"):
#   /opt/codex-completions-api/{codex-completions-api,codex-forward-auth,codex/}
#   /etc/codex-completions-api/env              settings, with a generated PROXY_API_KEY on first install
#   /etc/systemd/system/codex-completions-api.service (+ codex-forward-auth.service)
#   /var/lib/codex-completions-api/.codex-api    CODEX_HOME (created by systemd, StateDirectory=)
#
# Usage: sudo scripts/install.sh [--from DIR] [--with-forward-auth] [--no-start]
#   --from DIR           take the binaries from DIR (default: dist/, built first if missing)
#   --with-forward-auth  also install and enable the ForwardAuth sidecar unit
#   --no-start           install only; do not enable or (re)start the units
# DESTDIR=/some/root stages the whole tree under that root instead (no user, no systemctl).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
prefix=/opt/codex-completions-api
from="$root/dist"
with_auth=0
start=1
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from="$2"; shift 2 ;;
    --with-forward-auth) with_auth=1; shift ;;
    --no-start) start=0; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
dest="${DESTDIR:-}"
[ -n "$dest" ] && start=0

case "$(uname -m)" in
  x86_64) codex_pkg=codex-linux-x64 triple=x86_64-unknown-linux-musl ;;
  aarch64) codex_pkg=codex-linux-arm64 triple=aarch64-unknown-linux-musl ;;
  *) echo "install.sh: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
codex_src="$root/node_modules/@openai/$codex_pkg/vendor/$triple"

if [ ! -x "$from/codex-completions-api" ] || [ ! -x "$from/codex-forward-auth" ]; then
  echo "building the binaries into $from"
  "$root/node_modules/.bin/bun" "$root/scripts/build.ts" --outdir "$from"
fi
[ -x "$codex_src/bin/codex" ] || { echo "install.sh: no Codex binary at $codex_src (run npm ci)" >&2; exit 1; }

if [ -z "$dest" ] && ! id codex-api >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/codex-completions-api --no-create-home --shell /usr/sbin/nologin codex-api
fi

install -d -m 0755 "$dest$prefix"
install -m 0755 "$from/codex-completions-api" "$from/codex-forward-auth" "$dest$prefix/"
# The Codex tree is replaced whole, so no file of an older version lingers beside the new one.
rm -rf "$dest$prefix/codex.new"
# Owned by whoever installs (root), not by the user who ran npm: the service runs this Codex.
cp -a --no-preserve=ownership "$codex_src/." "$dest$prefix/codex.new/"
rm -rf "$dest$prefix/codex"
mv "$dest$prefix/codex.new" "$dest$prefix/codex"

install -d -m 0750 "$dest/etc/codex-completions-api"
envfile="$dest/etc/codex-completions-api/env"
if [ ! -e "$envfile" ]; then
  key="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  umask 077
  cat > "$envfile" <<ENV
# Settings for codex-completions-api and codex-forward-auth (README lists every variable).
PROXY_API_KEY=$key
PROXY_HOST=127.0.0.1
PORT=11435
PROXY_PROTECT_MODELS=true
PROXY_RATE_LIMIT_ENABLED=true
ENV
  echo "wrote $envfile with a new PROXY_API_KEY"
fi
if [ -z "$dest" ]; then
  chown root:codex-api "$dest/etc/codex-completions-api" "$envfile"
  chmod 0640 "$envfile"
fi

units=(codex-completions-api.service)
[ "$with_auth" = 1 ] && units+=(codex-forward-auth.service)
install -d -m 0755 "$dest/etc/systemd/system"
for unit in "${units[@]}"; do
  install -m 0644 "$root/deploy/systemd/$unit" "$dest/etc/systemd/system/$unit"
done

if [ "$start" = 1 ]; then
  systemctl daemon-reload
  systemctl enable "${units[@]}"
  systemctl restart "${units[@]}"
  echo "started ${units[*]}; check with: $prefix/codex-completions-api --healthcheck"
else
  echo "installed under ${dest:-/}; not started"
fi
