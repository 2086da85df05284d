#!/usr/bin/env bash
# Stop the project's private Postfix test MTA (only this instance). Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mta_need_root

pid=$(mta_master_pid)
if [[ -z $pid ]]; then
  echo "mta: not running (state dir $MTA_STATE)"
  exit 0
fi
mta_postfix stop 2>&1 | sed 's/^/[postfix] /' >&2 || true
# "postfix stop" signals the master and returns; wait for it to exit.
for _ in $(seq 1 50); do
  [[ -d /proc/$pid ]] || break
  sleep 0.2
done
if [[ -d /proc/$pid ]]; then
  # Last resort: only the PID recorded by this instance's own master.
  echo "mta: master $pid still alive after 10 s, sending SIGTERM" >&2
  kill -TERM "$pid" 2>/dev/null || true
  sleep 1
fi
echo "mta: stopped (was pid $pid)"
