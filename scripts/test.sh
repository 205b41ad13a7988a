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

record_step_done check

# vitest writes to a regular file, not straight into the CI pipe: Node makes a piped stdout
# non-blocking and drops what is still queued when it exits through process.exit() or a fatal error,
# which is how a failure once vanished from a log whose summary read all green. tail streams the file
# as it grows and stops when vitest has exited; the file stays complete in test-results/.
: > test-results/vitest.log
pnpm exec vitest run "$@" > test-results/vitest.log 2>&1 &
vitest=$!
tail -n +1 -f --pid="$vitest" test-results/vitest.log
wait "$vitest"
rc=$?
if [ "$rc" -ne 0 ]; then
  record_failure "── step \"tests\" failed (exit $rc); vitest's whole output: test-results/vitest.log ──"
  exit "$rc"
fi
record_step_done tests
