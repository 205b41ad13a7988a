#!/usr/bin/env bash
# `pnpm test`: the contract checks and typecheck, then every vitest test. A failure names its step last.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/step.sh

mkdir -p test-results
pnpm --silent run check 2>&1 | tee test-results/check.log
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
  record_failure "── step \"check\" failed (exit $rc); its errors: ──"
  grep -E "error TS[0-9]+|ERR!|ERROR|Error:|✗|×" test-results/check.log | head -20 | sed 's/^/  /' | tee -a "$CALLFLOW_FAILURE_SUMMARY" >&2
  exit "$rc"
fi

pnpm exec vitest run "$@"
rc=$?
[ "$rc" -eq 0 ] || record_failure "── step \"tests\" failed (exit $rc) ──"
exit "$rc"
