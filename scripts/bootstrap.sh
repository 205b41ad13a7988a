#!/usr/bin/env bash
# Brings a fresh Debian machine to where Callflow runs and tests: system packages, pnpm, local
# Postgres and NATS (started when not running), npm packages and generated code. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/step.sh
trap_step bootstrap

PNPM_VERSION=10.34.8
DEBIAN_PACKAGES=(ffmpeg sox pocketsphinx pocketsphinx-en-us festival festvox-us-slt-hts)
# The console's browser tests drive Debian's Chromium (playwright-core, never a downloaded browser).
BROWSER_PACKAGES=(chromium)

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing_of() {
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || printf '%s\n' "$pkg"
  done
}
mapfile -t missing < <(missing_of "${DEBIAN_PACKAGES[@]}")
mapfile -t missing_browser < <(missing_of "${BROWSER_PACKAGES[@]}")
if [ ${#missing[@]} -gt 0 ] || [ ${#missing_browser[@]} -gt 0 ]; then
  as_root apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ${#missing_browser[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing_browser[*]} (without recommends)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_browser[@]}" >/dev/null
fi

if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  log "installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION"
fi

bash scripts/services.sh

log "installing npm packages"
pnpm install --frozen-lockfile --reporter=silent
log "generating the Prisma client"
pnpm --filter @callflow/db run --silent generate >/dev/null
log "ready"
record_step_done bootstrap
