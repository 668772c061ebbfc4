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
  terminate "$pid" "${KAFKA_STOP_TIMEOUT:-60}"
  say "broker stopped"
else
  say "no broker running from $KAFKA_CACHE"
fi
rm -rf "$KAFKA_PID_FILE" "$KAFKA_ENDPOINTS" "$KAFKA_DATA"
