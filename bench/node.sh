#!/usr/bin/env bash
# Node, side by side in one run: round trips against the Go responder (ours on Node 24 vs the
# raw node:net socket vs kafkajs, 1/16/128 in flight) and Produce against the real broker (1 KiB
# records, 100 per batch, acks=1, 5 in flight: ours on Node vs kafkajs vs @platformatic/kafka),
# then the "## Node" section of bench/RESULTS.md (replaced in place, other sections kept).
#
#   bash bench/node.sh         (also run at the end of bench/run.sh)
#
# Environment: ROUNDS (default 3) and SECONDS_PER_RUN (default 3) for round trips. Produce runs
# when a broker started by scripts/kafka/start.sh answers (.cache/kafka/endpoints.json).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NODE=$ROOT/node_modules/.bin/node
ROUNDS=${ROUNDS:-3}
SECS=${SECONDS_PER_RUN:-3}
OUT=$ROOT/.cache/bench/node-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
log() { printf '[bench node %s] %s\n' "$(date +%T)" "$*" >&2; }
source bench/lib/run_one.sh

log "building the Go responder"
(cd bench/responder && go build -o "$OUT/responder" .)
"$OUT/responder" >"$OUT/responder.out" 2>&1 &
RESPONDER_PID=$!
trap 'kill $RESPONDER_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$OUT/responder.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/listening/ {print $3}' "$OUT/responder.out")
[ -n "$PORT" ] || { log "responder did not start"; cat "$OUT/responder.out"; exit 1; }

{
  echo "nproc=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "node=$("$NODE" --version)"
  echo "kafkajs=$("$NODE" -p 'require("kafkajs/package.json").version')"
  echo "platformatic=$("$NODE" -p 'JSON.parse(require("fs").readFileSync("node_modules/@platformatic/kafka/package.json")).version')"
  echo "command=ROUNDS=$ROUNDS SECONDS_PER_RUN=$SECS bash bench/node.sh"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . ':!bench/RESULTS.md' 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "started=$(date -u +%FT%TZ)"
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/env.txt"

RT="$OUT/roundtrip.jsonl"
A=(--port "$PORT" --seconds "$SECS")
for round in $(seq "$ROUNDS"); do
  for n in 1 16 128; do
    log "round $round/$ROUNDS, $n in flight"
    run "$RT" "raw node $n" "$NODE" bench/raw_node.mjs "${A[@]}" --inflight "$n"
    run "$RT" "ours node $n" "$NODE" bench/ours_client.ts "${A[@]}" --inflight "$n"
    run "$RT" "kafkajs node $n" "$NODE" bench/kafkajs_client.mjs "${A[@]}" --inflight "$n" --runtime node
  done
done
kill "$RESPONDER_PID" 2>/dev/null || true

PROD="$OUT/produce.jsonl"
EP=$ROOT/.cache/kafka/endpoints.json
if [ ! -f "$EP" ]; then
  echo "not run: no broker (.cache/kafka/endpoints.json missing; start one with bash scripts/kafka/start.sh)" >"$OUT/produce.skip"
else
  KHOST=$("$NODE" -p "require('$EP').listeners.PLAINTEXT.host")
  KPORT=$("$NODE" -p "require('$EP').listeners.PLAINTEXT.port")
  if ! timeout 3 bash -c "</dev/tcp/$KHOST/$KPORT" 2>/dev/null; then
    echo "not run: the PLAINTEXT listener $KHOST:$KPORT from endpoints.json does not answer" >"$OUT/produce.skip"
  else
    echo "kafka=$("$NODE" -p "require('$EP').kafkaVersion")" >>"$OUT/env.txt"
    K=(--host "$KHOST" --port "$KPORT" --seconds 5)
    for round in $(seq 2); do
      log "produce round $round/2 against $KHOST:$KPORT"
      run "$PROD" "produce ours node" "$NODE" bench/produce.ts "${K[@]}"
      run "$PROD" "produce kafkajs node" "$NODE" bench/kafkajs_produce.mjs "${K[@]}" --runtime node
      run "$PROD" "produce platformatic node" "$NODE" bench/platformatic_produce.mjs "${K[@]}"
    done
  fi
fi

{ echo "finished=$(date -u +%FT%TZ)"; echo "loadEnd=$(cut -d' ' -f1-3 /proc/loadavg)"; } >>"$OUT/env.txt"
"$NODE" bench/node_section.mjs "$OUT" bench/RESULTS.md
log "done: the Node section of bench/RESULTS.md (raw results in $OUT)"
