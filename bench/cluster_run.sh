#!/usr/bin/env bash
# Produce over three brokers vs one, side by side in one run: ours through Cluster (Deno, Bun),
# kafkajs (Node) and librdkafka (C, built here against Debian's librdkafka-dev), acks=1 and
# acks=all, 1 KiB records to a 6-partition topic (see bench/cluster_produce.ts for the
# workload). Prints one JSON line per run and writes them to .cache/bench/cluster-<time>.jsonl.
#
#   CLUSTER_BOOTSTRAP=127.0.0.1:29192,127.0.0.1:29202,127.0.0.1:29212 \
#   SINGLE_BOOTSTRAP=127.0.0.1:39092 bash bench/cluster_run.sh
#
# Needs the 3-node cluster (scripts/kafka/cluster.sh start) and the single broker
# (scripts/kafka/start.sh) running, cc and librdkafka-dev, node with kafkajs in node_modules.
# SECONDS_PER_RUN (default 5) after a 1 s warm-up.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/node_modules/.bin
SECS=${SECONDS_PER_RUN:-5}
OUT=$PWD/.cache/bench
mkdir -p "$OUT"
LOG=$OUT/cluster-$(date -u +%Y%m%dT%H%M%SZ).jsonl
RDKAFKA=$OUT/rdkafka_cluster_produce
cc -O2 -o "$RDKAFKA" bench/rdkafka_cluster_produce.c -lrdkafka
CLUSTER=${CLUSTER_BOOTSTRAP:-127.0.0.1:29192,127.0.0.1:29202,127.0.0.1:29212}
SINGLE=${SINGLE_BOOTSTRAP:-127.0.0.1:39092}

run() { # label, command...
  local label=$1
  shift
  local line
  line=$("$@" | tail -n 1)
  echo "{\"target\":\"$label\",${line#\{}" | tee -a "$LOG"
}

for target in cluster single; do
  if [[ $target == cluster ]]; then bootstrap=$CLUSTER rf=3; else bootstrap=$SINGLE rf=1; fi
  for acks in 1 -1; do
    name=$([[ $acks == -1 ]] && echo all || echo 1)
    label="$target acks=$name"
    # ours first: it creates the topic the others then use.
    run "$label" "$BIN/deno" run -A bench/cluster_produce.ts --bootstrap "$bootstrap" \
      --acks "$acks" --rf "$rf" --seconds "$SECS"
    run "$label" "$BIN/bun" bench/cluster_produce.ts --bootstrap "$bootstrap" \
      --acks "$acks" --rf "$rf" --seconds "$SECS"
    run "$label" node bench/kafkajs_cluster_produce.mjs --bootstrap "$bootstrap" \
      --acks "$acks" --rf "$rf" --seconds "$SECS"
    run "$label" "$RDKAFKA" "$bootstrap" "$acks" "bench-cluster-acks$name" "$SECS"
  done
done
echo "results in $LOG" >&2
