#!/usr/bin/env bash
# Kills the broker with SIGKILL, as a crash would, and waits until the process is gone. Keeps
# the storage and endpoints.json (whose pid is then dead, so tests see "not running") for
# restart.sh. Exits 1 when no broker from this cache dir is running.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/layout.sh"
take_lock

pid=$(broker_pid)
[[ -n $pid ]] || die 1 "no broker running from $KAFKA_CACHE to kill; start one with scripts/kafka/start.sh"
kill -KILL "$pid"
deadline=$((SECONDS + 30))
while process_alive "$pid"; do
  ((SECONDS < deadline)) || die 1 "broker pid $pid still exists 30 s after SIGKILL"
  sleep 0.05
done
rm -f "$KAFKA_PID_FILE"
say "killed broker pid $pid (SIGKILL); storage kept for scripts/kafka/restart.sh"
