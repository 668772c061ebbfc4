#!/usr/bin/env bash
# Consume and produce CPU against the real broker, side by side in one run: every client and
# case once per round, rounds interleaved, one JSON line per run; then the "## Consume and
# produce CPU" section of bench/RESULTS.md (replaced in place, other sections kept).
#
#   bash bench/consume.sh          (also run at the end of bench/run.sh when a broker is up)
#
# Consume: 1 000 000 records of 1 KiB JSON-like values from one partition, topics filled
# uncompressed and with compression.type lz4 and zstd (the broker recompresses): ours on Deno
# and Bun (bench/consume.ts; the plain loop, then values-only decoding with the next Fetch in
# flight, CRC-32C on and off) vs librdkafka 2 from C (bench/c/rdkafka_consume.c, check.crcs on
# and off) vs kafkajs on Node (bench/kafkajs_consume.mjs). Produce: 1 KiB records, 100 per
# batch, acks=1, 5 in flight, uncompressed and lz4: ours (bench/produce.ts) vs librdkafka from C
# (bench/c/rdkafka_produce.c).
#
# Environment: ROUNDS (default 3), RECORDS (default 1000000), PRODUCE_SECONDS (default 4).
# Needs a broker from scripts/kafka/start.sh (.cache/kafka/endpoints.json), cc and
# librdkafka-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/node_modules/.bin
NODE=$BIN/node
ROUNDS=${ROUNDS:-3}
RECORDS=${RECORDS:-1000000}
PSECS=${PRODUCE_SECONDS:-4}
OUT=$ROOT/.cache/bench/consume-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
log() { printf '[bench consume %s] %s\n' "$(date +%T)" "$*" >&2; }
source bench/lib/run_one.sh

EP=$ROOT/.cache/kafka/endpoints.json
[ -f "$EP" ] || { log "no broker: start one with bash scripts/kafka/start.sh"; exit 1; }
KHOST=$("$NODE" -p "require('$EP').listeners.PLAINTEXT.host")
KPORT=$("$NODE" -p "require('$EP').listeners.PLAINTEXT.port")
timeout 3 bash -c "</dev/tcp/$KHOST/$KPORT" 2>/dev/null ||
  { log "the PLAINTEXT listener $KHOST:$KPORT does not answer"; exit 1; }

log "building the librdkafka programs"
cc -O2 -o "$OUT/rdkafka_consume" bench/c/rdkafka_consume.c -lrdkafka
cc -O2 -o "$OUT/rdkafka_produce" bench/c/rdkafka_produce.c -lrdkafka

{
  echo "nproc=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "deno=$("$BIN/deno" --version | head -1)"
  echo "bun=$("$BIN/bun" --version)"
  echo "node=$("$NODE" --version)"
  echo "kafkajs=$("$NODE" -p 'require("kafkajs/package.json").version')"
  echo "librdkafka=$(printf '#include <librdkafka/rdkafka.h>\n#include <stdio.h>\nint main(void){puts(rd_kafka_version_str());}' |
    cc -x c -o "$OUT/rdver" - -lrdkafka && "$OUT/rdver")"
  echo "kafka=$("$NODE" -p "require('$EP').kafkaVersion")"
  echo "records=$RECORDS"
  echo "command=ROUNDS=$ROUNDS RECORDS=$RECORDS PRODUCE_SECONDS=$PSECS bash bench/consume.sh"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . ':!bench/RESULTS.md' 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "started=$(date -u +%FT%TZ)"
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/env.txt"

K=(--host "$KHOST" --port "$KPORT")
for c in none lz4 zstd; do
  log "filling bench-consume-$c ($RECORDS records, compression.type $c)"
  "$BIN/deno" run -A bench/fill_topic.ts "${K[@]}" --topic "bench-consume-$c" \
    --records "$RECORDS" --compression "$c" >>"$OUT/fill.jsonl"
done

C="$OUT/consume.jsonl"
P="$OUT/produce.jsonl"
ours() { # label runtime topic args...
  local label=$1 rt=$2 topic=$3
  shift 3
  local cmd=("$BIN/bun")
  [ "$rt" = deno ] && cmd=("$BIN/deno" run -A)
  run "$C" "$label" "${cmd[@]}" bench/consume.ts "${K[@]}" --topic "$topic" --records "$RECORDS" "$@"
}
for round in $(seq "$ROUNDS"); do
  log "round $round/$ROUNDS: consume, uncompressed"
  T=bench-consume-none
  for rt in deno bun; do
    ours "ours $rt plain" "$rt" "$T"
    ours "ours $rt values" "$rt" "$T" --decode values --pipeline true
    ours "ours $rt values nocrc" "$rt" "$T" --decode values --pipeline true --check-crc false
  done
  for crc in true false; do
    run "$C" "librdkafka crc $crc" "$OUT/rdkafka_consume" --bootstrap "$KHOST:$KPORT" \
      --topic "$T" --records "$RECORDS" --check-crcs "$crc"
  done
  run "$C" "kafkajs" "$NODE" bench/kafkajs_consume.mjs "${K[@]}" --topic "$T" --records "$RECORDS"
  for c in lz4 zstd; do
    log "round $round/$ROUNDS: consume, $c"
    T=bench-consume-$c
    for rt in deno bun; do ours "ours $rt $c" "$rt" "$T" --decode values --pipeline true; done
    for crc in true false; do
      run "$C" "librdkafka $c crc $crc" "$OUT/rdkafka_consume" --bootstrap "$KHOST:$KPORT" \
        --topic "$T" --records "$RECORDS" --check-crcs "$crc"
    done
    run "$C" "kafkajs $c" "$NODE" bench/kafkajs_consume.mjs "${K[@]}" --topic "$T" \
      --records "$RECORDS"
  done
  log "round $round/$ROUNDS: produce"
  for c in none lz4; do
    run "$P" "produce ours deno $c" "$BIN/deno" run -A bench/produce.ts "${K[@]}" \
      --seconds "$PSECS" --compression "$c"
    run "$P" "produce ours bun $c" "$BIN/bun" bench/produce.ts "${K[@]}" --seconds "$PSECS" \
      --compression "$c"
    run "$P" "produce librdkafka $c" "$OUT/rdkafka_produce" --bootstrap "$KHOST:$KPORT" \
      --topic bench-produce --seconds "$PSECS" --compression "$c"
  done
done

{ echo "finished=$(date -u +%FT%TZ)"; echo "loadEnd=$(cut -d' ' -f1-3 /proc/loadavg)"; } >>"$OUT/env.txt"
"$NODE" bench/consume_section.mjs "$OUT" bench/RESULTS.md
log "done: the consume section of bench/RESULTS.md (raw results in $OUT)"
