#!/usr/bin/env bash
# A/B of our client's round trip and allocation against another checkout of this repository
# (for example a worktree of the commit before a change), side by side: every round runs the
# raw socket, the other checkout and this one (and this one with `--codec minimal`, which does
# not decode reply bodies), per runtime and in-flight count, interleaved.
#
#   git worktree add /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/node_modules
#   bash bench/ab.sh /tmp/before
#
# Also per round: bulk (1 MiB request frames, 4 in flight, MB/s) and bytes allocated per request
# on Deno (bench/memory.ts), and the Node round trips (raw node:net, the other checkout, this one;
# Node from node_modules). Environment: ROUNDS (default 3), SECONDS_PER_RUN (default 3),
# MEMORY_REQUESTS (default 300000), WITH_NODE=0 to leave Node out. Prints medians (requests/s,
# MB/s or bytes per request) with each round's figure; the raw JSON lines stay in
# .cache/bench/ab-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OTHER=$(cd "${1:?usage: bash bench/ab.sh OTHER_CHECKOUT}" && pwd)
BIN=$ROOT/node_modules/.bin
ROUNDS=${ROUNDS:-3}
SECS=${SECONDS_PER_RUN:-3}
MEMREQ=${MEMORY_REQUESTS:-300000}
OUT=$ROOT/.cache/bench/ab-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
(cd bench/responder && go build -o "$OUT/responder" .)
"$OUT/responder" >"$OUT/responder.out" 2>&1 &
RESPONDER_PID=$!
trap 'kill $RESPONDER_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$OUT/responder.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/listening/ {print $3}' "$OUT/responder.out")
A=(--port "$PORT" --seconds "$SECS")
one() { # label dir cmd...
  local label=$1 dir=$2
  shift 2
  local line
  line=$(cd "$dir" && NO_COLOR=1 timeout 120 "$@" 2>/dev/null | tail -1) || line='{}'
  echo "{\"label\":\"$label\",\"result\":${line:-{\}}}" >>"$OUT/ab.jsonl"
}
for round in $(seq "$ROUNDS"); do
  for n in 1 16 128; do
    echo "round $round/$ROUNDS, $n in flight" >&2
    one "raw deno $n" "$ROOT" "$BIN/deno" run -A bench/raw_native.ts "${A[@]}" --inflight "$n"
    one "before deno $n" "$OTHER" "$BIN/deno" run -A bench/ours_client.ts "${A[@]}" --inflight "$n"
    one "after deno $n" "$ROOT" "$BIN/deno" run -A bench/ours_client.ts "${A[@]}" --inflight "$n"
    one "after-minimal deno $n" "$ROOT" "$BIN/deno" run -A bench/ours_client.ts "${A[@]}" --inflight "$n" --codec minimal
    one "raw bun $n" "$ROOT" "$BIN/bun" bench/raw_native.ts "${A[@]}" --inflight "$n"
    one "before bun $n" "$OTHER" "$BIN/bun" bench/ours_client.ts "${A[@]}" --inflight "$n"
    one "after bun $n" "$ROOT" "$BIN/bun" bench/ours_client.ts "${A[@]}" --inflight "$n"
    one "after-minimal bun $n" "$ROOT" "$BIN/bun" bench/ours_client.ts "${A[@]}" --inflight "$n" --codec minimal
    if [ "${WITH_NODE:-1}" = 1 ]; then
      one "raw node $n" "$ROOT" "$BIN/node" bench/raw_node.mjs "${A[@]}" --inflight "$n"
      one "before node $n" "$OTHER" "$BIN/node" bench/ours_client.ts "${A[@]}" --inflight "$n"
      one "after node $n" "$ROOT" "$BIN/node" bench/ours_client.ts "${A[@]}" --inflight "$n"
    fi
  done
  B=(--port "$PORT" --seconds "$SECS" --inflight 4 --frame-bytes 1048576)
  for rt in deno bun; do
    if [ "$rt" = deno ]; then R=("$BIN/deno" run -A); else R=("$BIN/bun"); fi
    one "before $rt bulk" "$OTHER" "${R[@]}" bench/ours_client.ts "${B[@]}"
    one "after $rt bulk" "$ROOT" "${R[@]}" bench/ours_client.ts "${B[@]}"
  done
  M=(--port "$PORT" --requests "$MEMREQ")
  one "before deno memory" "$OTHER" "$BIN/deno" run -A --v8-flags=--expose-gc bench/memory.ts "${M[@]}"
  one "after deno memory" "$ROOT" "$BIN/deno" run -A --v8-flags=--expose-gc bench/memory.ts "${M[@]}"
  one "before-minimal deno memory" "$OTHER" "$BIN/deno" run -A --v8-flags=--expose-gc bench/memory.ts "${M[@]}" --codec minimal
  one "after-minimal deno memory" "$ROOT" "$BIN/deno" run -A --v8-flags=--expose-gc bench/memory.ts "${M[@]}" --codec minimal
done
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const by = new Map();
for (const r of rows) {
  const v = r.label.endsWith("memory")
    ? r.result.allocBytesPerRequest
    : r.label.endsWith("bulk") ? r.result.mbPerSec : r.result.reqPerSec;
  if (typeof v !== "number") continue;
  if (!by.has(r.label)) by.set(r.label, []);
  by.get(r.label).push(v);
}
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
for (const [label, xs] of by) console.log(`${label}\t${Math.round(med(xs))}\t[${xs.map(Math.round).join(", ")}]`);
' "$OUT/ab.jsonl"
