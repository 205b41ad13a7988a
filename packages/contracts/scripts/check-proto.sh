#!/usr/bin/env bash
# Lints the event contracts, refuses breaking changes against the last commit on main, and fails
# when the generated TypeScript in src/gen is stale. Run from packages/contracts (pnpm check).
set -euo pipefail
cd "$(dirname "$0")/.."
proto=../../proto

buf lint "$proto"

repo_root=$(git rev-parse --show-toplevel)
if git -C "$repo_root" cat-file -e HEAD:proto/buf.yaml 2>/dev/null; then
  buf breaking "$proto" --against "$repo_root/.git#ref=HEAD,subdir=proto"
else
  echo "buf breaking: no committed proto/ on HEAD yet, nothing to compare against"
fi

fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
buf generate "$proto" --template buf.gen.yaml -o "$fresh"
if ! diff -r "$fresh/src/gen" src/gen >/dev/null; then
  echo "generated code in packages/contracts/src/gen is stale: run 'pnpm generate' and commit the result" >&2
  diff -r "$fresh/src/gen" src/gen >&2 || true
  exit 1
fi
echo "contracts: lint, breaking and generated code are up to date"
