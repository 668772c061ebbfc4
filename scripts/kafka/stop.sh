#!/usr/bin/env bash
# Stops the broker started by start.sh: SIGTERM (controlled shutdown), up to
# KAFKA_STOP_TIMEOUT seconds (default 60) for it to exit, SIGKILL after that. Then removes the
# pid file, endpoints.json and the storage; keeps the jars, certificates and broker.log.
# Does nothing (exit 0) when no broker from this cache dir is running.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/layout.sh"
take_lock

pid=$(broker_pid)
if [[ -n $pid ]]; then
  say "stopping broker pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + ${KAFKA_STOP_TIMEOUT:-60}))
  while process_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if process_alive "$pid"; then
    say "broker pid $pid ignored SIGTERM for ${KAFKA_STOP_TIMEOUT:-60} s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while process_alive "$pid"; do sleep 0.1; done
  fi
  say "broker stopped"
else
  say "no broker running from $KAFKA_CACHE"
fi
rm -rf "$KAFKA_PID_FILE" "$KAFKA_ENDPOINTS" "$KAFKA_DATA"
