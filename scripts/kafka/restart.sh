#!/usr/bin/env bash
# Starts the broker again on the storage of the previous start (e.g. after kill.sh): same
# cluster, topics and committed data. Same options and exit codes as start.sh --restart.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/start.sh" --restart
