#!/usr/bin/env bash
# Starts the local Postgres and NATS (JetStream) this machine kind ships, when they are not running.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/step.sh
trap_step services

log() { printf '\033[1m[services]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 100); do port_open "$1" && return 0; sleep 0.1; done
  echo "$2 did not start listening on 127.0.0.1:$1" >&2; return 1
}

if [ -z "${CALLFLOW_TEST_DATABASE_URL:-}" ] && ! port_open 5432; then
  if command -v pg_ctlcluster >/dev/null; then
    log "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    wait_port 5432 PostgreSQL
  else
    echo "PostgreSQL is not running on 127.0.0.1:5432 and pg_ctlcluster is not installed: install postgresql or set CALLFLOW_TEST_DATABASE_URL" >&2
    exit 1
  fi
fi

if [ -z "${CALLFLOW_TEST_NATS_URL:-}" ] && ! port_open 4222; then
  if [ -x /usr/sbin/nats-server ]; then
    log "starting nats-server with JetStream"
    as_root mkdir -p /var/lib/nats-server
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
      -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
    wait_port 4222 nats-server
  else
    echo "NATS is not running on 127.0.0.1:4222 and /usr/sbin/nats-server is missing: apt-get install nats-server or set CALLFLOW_TEST_NATS_URL" >&2
    exit 1
  fi
fi
log "PostgreSQL and NATS are up"
record_step_done services
