#!/usr/bin/env bash
# The whole benchmark suite, side by side in one run, then bench/RESULTS.md.
#
#   bash bench/run.sh            (or: npm run bench / deno task bench)
#
# Environment: ROUNDS (default 3) and SECONDS_PER_RUN (default 3) for the round-trip matrix,
# SKIP_INSTALL=1 to skip the apt-get step for librdkafka. Needs go, node, and the dev
# dependencies in node_modules (deno, bun, node 24, kafkajs, @platformatic/kafka). Takes about
# 10 minutes on 2 cores (plus about 10 for bench/consume.sh when a broker is up); the Node
# comparison (bench/node.sh) and the consume one (bench/consume.sh) at the end also run alone.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/node_modules/.bin
ROUNDS=${ROUNDS:-3}
SECS=${SECONDS_PER_RUN:-3}
OUT=$ROOT/.cache/bench/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

# --- librdkafka for the real-broker produce comparison (idempotent) -----------------------
rdkafka_python() { /usr/bin/python3 -c 'import confluent_kafka' 2>/dev/null; }
if ! rdkafka_python && [ "${SKIP_INSTALL:-0}" != 1 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    log "installing python3-confluent-kafka and librdkafka-dev with apt-get"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
      python3-confluent-kafka librdkafka-dev; } >"$OUT/apt.log" 2>&1 ||
      log "!!! apt-get install failed (see $OUT/apt.log): the librdkafka produce run is skipped"
  else
    log "!!! apt-get not available (or not root): librdkafka produce run skipped"
  fi
fi

# --- the responder -------------------------------------------------------------------------
log "building the Go responder"
(cd bench/responder && go build -o "$OUT/responder" .)
"$OUT/responder" >"$OUT/responder.out" 2>&1 &
RESPONDER_PID=$!
trap 'kill $RESPONDER_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$OUT/responder.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/listening/ {print $3}' "$OUT/responder.out")
[ -n "$PORT" ] || { log "responder did not start"; cat "$OUT/responder.out"; exit 1; }
log "responder pid $RESPONDER_PID on port $PORT"

# --- machine and versions ------------------------------------------------------------------
{
  echo "nproc=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel=$(uname -r)"
  echo "deno=$("$BIN/deno" --version | head -1)"
  echo "bun=$("$BIN/bun" --version)"
  echo "node=$(node --version)"
  echo "go=$(go version)"
  echo "kafkajs=$(node -p 'require("kafkajs/package.json").version')"
  rdkafka_python && echo "librdkafka=$(/usr/bin/python3 -c 'import confluent_kafka as c; print("confluent-kafka", c.version()[0], "/ librdkafka", c.libversion()[0])')"
  echo "command=ROUNDS=$ROUNDS SECONDS_PER_RUN=$SECS bash bench/run.sh"
  # Which code was measured: the commit, and whether the work tree differed from it.
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . ':!bench/RESULTS.md' 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "started=$(date -u +%FT%TZ)"
} >"$OUT/env.txt"

# One run: its JSON line (the last stdout line) goes to the file, a failure is recorded too.
source bench/lib/run_one.sh

# --- round trips: every client x runtime x in-flight, rounds interleaved ---------------------
RT="$OUT/roundtrip.jsonl"
A=(--port "$PORT" --seconds "$SECS")
for round in $(seq "$ROUNDS"); do
  for n in 1 16 128; do
    log "round $round/$ROUNDS, $n in flight"
    run "$RT" "raw deno $n" "$BIN/deno" run -A bench/raw_native.ts "${A[@]}" --inflight "$n"
    run "$RT" "raw bun $n" "$BIN/bun" bench/raw_native.ts "${A[@]}" --inflight "$n"
    run "$RT" "raw node $n" node bench/raw_node.mjs "${A[@]}" --inflight "$n"
    run "$RT" "ours deno $n" "$BIN/deno" run -A bench/ours_client.ts "${A[@]}" --inflight "$n"
    run "$RT" "ours bun $n" "$BIN/bun" bench/ours_client.ts "${A[@]}" --inflight "$n"
    if [ "$n" = 128 ]; then
      # The transport apart from decoding: only each reply's error code is read.
      run "$RT" "ours-minimal deno $n" "$BIN/deno" run -A bench/ours_client.ts "${A[@]}" --inflight "$n" --codec minimal
      run "$RT" "ours-minimal bun $n" "$BIN/bun" bench/ours_client.ts "${A[@]}" --inflight "$n" --codec minimal
    fi
    run "$RT" "kafkajs node $n" node bench/kafkajs_client.mjs "${A[@]}" --inflight "$n" --runtime node
    run "$RT" "kafkajs bun $n" "$BIN/bun" bench/kafkajs_client.mjs "${A[@]}" --inflight "$n" --runtime bun
    run "$RT" "kafkajs deno $n" "$BIN/deno" run -A bench/kafkajs_client.mjs "${A[@]}" --inflight "$n" --runtime deno
  done
done

# --- bulk: 1 MiB request frames, 4 in flight -------------------------------------------------
BULK="$OUT/bulk.jsonl"
B=(--port "$PORT" --seconds "$SECS" --inflight 4 --frame-bytes 1048576)
log "bulk 1 MiB frames"
for round in $(seq 2); do
  run "$BULK" "raw deno bulk" "$BIN/deno" run -A bench/raw_native.ts "${B[@]}"
  run "$BULK" "raw bun bulk" "$BIN/bun" bench/raw_native.ts "${B[@]}"
  run "$BULK" "ours deno bulk" "$BIN/deno" run -A bench/ours_client.ts "${B[@]}"
  run "$BULK" "ours bun bulk" "$BIN/bun" bench/ours_client.ts "${B[@]}"
done

# --- memory ---------------------------------------------------------------------------------
log "memory (1 000 000 requests per runtime)"
MEM="$OUT/memory.jsonl"
run "$MEM" "memory deno" "$BIN/deno" run -A --v8-flags=--expose-gc bench/memory.ts --port "$PORT"
run "$MEM" "memory deno minimal" "$BIN/deno" run -A --v8-flags=--expose-gc bench/memory.ts --port "$PORT" --codec minimal
run "$MEM" "memory bun" "$BIN/bun" bench/memory.ts --port "$PORT"

# --- CPU profiles of ours at 128 in flight (for the "Why" section) ---------------------------
log "CPU profiles"
mkdir -p "$OUT/prof-deno" "$OUT/prof-bun"
"$BIN/deno" run -A --cpu-prof --cpu-prof-dir="$OUT/prof-deno" bench/ours_client.ts "${A[@]}" \
  --inflight 128 >/dev/null 2>&1 || log "!!! deno profile failed"
"$BIN/bun" --cpu-prof --cpu-prof-dir="$OUT/prof-bun" bench/ours_client.ts "${A[@]}" \
  --inflight 128 >/dev/null 2>&1 || log "!!! bun profile failed"

kill "$RESPONDER_PID" 2>/dev/null || true

# --- micro-benchmarks -----------------------------------------------------------------------
log "deno bench micro-benchmarks"
"$BIN/deno" bench --json bench/micro_bench.ts >"$OUT/micro.json" 2>"$OUT/micro.err" ||
  log "!!! deno bench failed (see $OUT/micro.err)"

# --- produce against the real broker --------------------------------------------------------
PROD="$OUT/produce.jsonl"
EP=$ROOT/.cache/kafka/endpoints.json
if [ ! -f "$EP" ]; then
  echo "not run: no broker (.cache/kafka/endpoints.json missing; start one with bash scripts/kafka/start.sh)" >"$OUT/produce.skip"
else
  KHOST=$(node -p "require('$EP').listeners.PLAINTEXT.host")
  KPORT=$(node -p "require('$EP').listeners.PLAINTEXT.port")
  if ! timeout 3 bash -c "</dev/tcp/$KHOST/$KPORT" 2>/dev/null; then
    echo "not run: the PLAINTEXT listener $KHOST:$KPORT from endpoints.json does not answer" >"$OUT/produce.skip"
  else
    log "produce against $KHOST:$KPORT"
    echo "kafka=$(node -p "require('$EP').kafkaVersion")" >>"$OUT/env.txt"
    K=(--host "$KHOST" --port "$KPORT" --seconds 5)
    for round in $(seq 2); do
      run "$PROD" "produce ours deno" "$BIN/deno" run -A bench/produce.ts "${K[@]}"
      run "$PROD" "produce ours bun" "$BIN/bun" bench/produce.ts "${K[@]}"
      run "$PROD" "produce kafkajs node" node bench/kafkajs_produce.mjs "${K[@]}" --runtime node
      if rdkafka_python; then
        run "$PROD" "produce librdkafka" /usr/bin/python3 bench/librdkafka_produce.py "${K[@]}"
      fi
    done
    rdkafka_python || echo "librdkafka not run: python3-confluent-kafka is not installed" >"$OUT/produce.rdkafka-skip"
  fi
fi

echo "finished=$(date -u +%FT%TZ)" >>"$OUT/env.txt"
log "writing bench/RESULTS.md"
cp bench/RESULTS.md "$OUT/RESULTS.previous.md" 2>/dev/null || : >"$OUT/RESULTS.previous.md"
node bench/report.mjs "$OUT" "$OUT/RESULTS.previous.md" >bench/RESULTS.md
log "done: bench/RESULTS.md (raw results in $OUT)"

# --- Node: ours on Node 24 vs the raw socket, kafkajs and @platformatic/kafka -----------------
# Its own script (runnable alone); it writes the "## Node" section of bench/RESULTS.md.
bash bench/node.sh

# --- Consume and produce CPU against the real broker (ours vs librdkafka from C vs kafkajs) -----
# Its own script (runnable alone); it writes the "## Consume and produce CPU" section.
if [ -f "$EP" ] && timeout 3 bash -c "</dev/tcp/$KHOST/$KPORT" 2>/dev/null; then
  bash bench/consume.sh
else
  log "consume benchmarks not run: no broker answers (start one with bash scripts/kafka/start.sh)"
fi
