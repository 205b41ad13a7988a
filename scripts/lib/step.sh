# Sourced by the scripts of `make test` and `make demo`: a failing step records a line naming itself in
# $CALLFLOW_FAILURE_SUMMARY, which .ci/run prints last, so a CI failure says where it happened.
CALLFLOW_FAILURE_SUMMARY=${CALLFLOW_FAILURE_SUMMARY:-test-results/failure-summary.txt}
export CALLFLOW_FAILURE_SUMMARY

record_failure() {
  mkdir -p "$(dirname "$CALLFLOW_FAILURE_SUMMARY")"
  printf '%s\n' "$*" | tee -a "$CALLFLOW_FAILURE_SUMMARY" >&2
}

# A step that finished: .ci/run names them when a run fails with no step recording a failure.
record_step_done() {
  mkdir -p "$(dirname "$CALLFLOW_FAILURE_SUMMARY")"
  printf '%s\n' "$1" >> "$(dirname "$CALLFLOW_FAILURE_SUMMARY")/steps-done.txt"
}

# Under `set -e`: names the step and the command that failed.
trap_step() {
  set -o errtrace
  trap 'record_failure "── step \"'"$1"'\" failed (exit $?) at ${BASH_SOURCE[0]}:$LINENO: $BASH_COMMAND ──"' ERR
}
