#!/usr/bin/env bash
# Runs the whole test suite on Deno, Bun and Node 24 and ends with one line
# "N passed, N failed, N skipped" covering all three, after one such line per runtime. Installs
# the toolchain from npm first when it is missing, so it works on a machine that has only
# Node + npm.
#
# Each runtime runs the suite in two invocations: every file but the kill/restart one, then
# tests/integration/kill_restart_test.ts alone (it SIGKILLs and restarts the shared broker, so no
# other test may run while it does, whatever order or parallelism a runner picks).
#
# Bounds: every test is bounded by tests/harness.ts (30 s unless it asks for more); every runner
# invocation by KW_RUN_TIMEOUT_S (default 600 s). An invocation that runs out of time is killed
# and reported with the test(s) still running then, from the start/end events the harness
# writes to KW_TEST_EVENTS.
#
# The real-broker integration suite runs when a broker started by scripts/kafka/start.sh is up.
# Without one its files register skipped tests, counted in the closing line and named on a
# "skipped:" line before it; with KAFKA_REQUIRED=1 or true (as in CI) a missing broker is a test
# failure.
#
# Type checking is `deno check .` (a static check of .ci/run), so the Deno run does not repeat
# it. Node runs one file at a time (KW_NODE_CONCURRENCY to change): the machine has 2 cores.
#
# Cluster suite: tests/integration_cluster/ runs against the 3-node cluster started by
# scripts/kafka/cluster.sh when it is up (KAFKA_CLUSTER_REQUIRED=1 makes a missing one a
# failure); tests/cluster/ runs against the embedded cluster always.
set -uo pipefail
cd "$(dirname "$0")/.."

DENO=node_modules/.bin/deno
BUN=node_modules/.bin/bun
NODE=node_modules/.bin/node
if [ ! -x $DENO ] || [ ! -x $BUN ] || [ ! -x $NODE ]; then
  echo "== installing Deno, Bun, Node 24 and dev tools from npm (npm install)"
  npm install --no-audit --no-fund >/dev/null || { echo "npm install failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi
RUN_TIMEOUT_S=${KW_RUN_TIMEOUT_S:-600}
NODE_CONCURRENCY=${KW_NODE_CONCURRENCY:-1}
KILL_FILE=tests/integration/kill_restart_test.ts
export NO_COLOR=1

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# --- cluster suite: say up front whether the real-cluster part will run.
if [ -f "${KAFKA_CACHE_DIR:-.cache/kafka}/cluster/endpoints.json" ]; then
  echo "== cluster suite: real 3-node cluster from ${KAFKA_CACHE_DIR:-.cache/kafka}/cluster/endpoints.json"
else
  echo "== cluster suite: no 3-node cluster running (bash scripts/kafka/cluster.sh start); tests/integration_cluster/ skips"
fi
# --- end cluster suite

# The tests of one invocation that started and did not end, per the harness's events.
still_running() {
  awk -F'\t' '$1 == "start" { n[$3]++ } $1 == "end" { n[$3]-- }
    END { for (t in n) if (n[t] > 0) printf "  \"%s\"\n", t }' "$1"
}

# run LABEL COMMAND...: runs one bounded runner invocation, its output shown and kept in
# $logs/LABEL.log, the harness's events in $logs/LABEL.events. Sets rc.
run() {
  local label=$1
  shift
  local events="$logs/$label.events"
  local command="$*"
  [ ${#command} -gt 200 ] && command="${command:0:200} ..."
  : >"$events"
  echo "== $label: $command"
  KW_TEST_EVENTS=$events timeout --kill-after=15 "$RUN_TIMEOUT_S" "$@" 2>&1 | tee "$logs/$label.log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    local running
    running=$(still_running "$events")
    echo "$label: HUNG: the run did not finish within ${RUN_TIMEOUT_S} s and was killed" | tee -a "$logs/hangs"
    if [ -n "$running" ]; then
      echo "$label: still running then:" | tee -a "$logs/hangs"
      echo "$running" | tee -a "$logs/hangs"
    else
      local last
      last=$(awk -F'\t' '$1 == "end" { t = $3 } END { print t }' "$events")
      echo "$label: no test was running: a file's top level, or a process kept alive after its tests (an open socket or timer), did not finish; the last test to end was \"${last:-none}\"" | tee -a "$logs/hangs"
    fi
  fi
}

# Whether the broker of scripts/kafka/start.sh is up: its endpoints file and a live process.
KAFKA_CACHE=${KAFKA_CACHE_DIR:-.cache/kafka}
broker_up() {
  local pid
  [ -f "$KAFKA_CACHE/endpoints.json" ] && pid=$(cat "$KAFKA_CACHE/broker.pid" 2>/dev/null) &&
    kill -0 "$pid" 2>/dev/null
}

# kill_restart LABEL COMMAND...: runs the kill/restart file; if it was killed or failed before
# restarting the broker, starts the broker again so that the next runtime's suite has one.
kill_restart() {
  local was_up=0
  broker_up && was_up=1
  run "$@"
  if [ "$was_up" -eq 1 ] && ! broker_up; then
    echo "$1: the broker was left down; starting it again for the runs that follow"
    bash scripts/kafka/start.sh >/dev/null || echo "$1: the broker did not start again"
  fi
}

# count LABEL PASSED FAILED SKIPPED: adds one invocation's counts to its runtime's totals. An
# invocation that printed no summary, or failed without counting a failure, counts one failure.
declare -A passed=() failed=() skipped=()
count() {
  local label=$1 p=$2 f=$3 s=$4 runtime=${1%%-*}
  if [ -z "$p" ] || [ -z "$f" ]; then
    echo "$label: the runner printed no summary (exit $rc); counted as one failure"
    p=0 f=1
  elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "$label: the runner exited $rc with no failed test; counted as one failure"
    f=1
  fi
  passed[$runtime]=$((${passed[$runtime]:-0} + p))
  failed[$runtime]=$((${failed[$runtime]:-0} + f))
  skipped[$runtime]=$((${skipped[$runtime]:-0} + ${s:-0}))
}

# Deno's summary: "ok | 12 passed | 0 failed | 2 ignored (1s)" ("| N ignored" only when some are).
deno_count() {
  local line
  line=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$logs/$1.log" | tail -1)
  count "$1" "$(sed -nE 's/.*\| ([0-9]+) passed.*/\1/p' <<<"$line")" \
    "$(sed -nE 's/.*\| ([0-9]+) failed.*/\1/p' <<<"$line")" \
    "$(sed -nE 's/.*\| ([0-9]+) ignored.*/\1/p' <<<"$line")"
}

# Bun's summary: " 12 pass", " 1 skip" and " 0 fail" on lines of their own.
bun_count() {
  local log="$logs/$1.log"
  count "$1" "$(grep -E '^ *[0-9]+ pass$' "$log" | tail -1 | tr -dc '0-9')" \
    "$(grep -E '^ *[0-9]+ fail$' "$log" | tail -1 | tr -dc '0-9')" \
    "$(grep -E '^ *[0-9]+ skip$' "$log" | tail -1 | tr -dc '0-9')"
}

# Node's TAP summary: "# pass N", "# fail N", "# cancelled N" (failures too), "# skipped N".
node_count() {
  local tap="$logs/$1.tap" fail cancelled
  fail=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$tap" 2>/dev/null | tail -1)
  cancelled=$(sed -nE 's/^# cancelled ([0-9]+)$/\1/p' "$tap" 2>/dev/null | tail -1)
  [ -n "$fail" ] && fail=$((fail + ${cancelled:-0}))
  count "$1" "$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$tap" 2>/dev/null | tail -1)" "$fail" \
    "$(sed -nE 's/^# skipped ([0-9]+)$/\1/p' "$tap" 2>/dev/null | tail -1)"
}

# node_test run|kill_restart LABEL FILES...: spec output to the terminal, TAP to $logs/LABEL.tap for counting.
node_test() {
  local runner=$1 label=$2
  shift 2
  $runner "$label" $NODE --test --test-concurrency="$NODE_CONCURRENCY" \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$logs/$label.tap" "$@"
}

echo "== Deno $($DENO --version | head -1 | cut -d' ' -f2), Bun $($BUN --version), Node $($NODE --version)"

run deno $DENO test -A --no-check --ignore=$KILL_FILE tests/
deno_count deno
kill_restart deno-kill $DENO test -A --no-check $KILL_FILE
deno_count deno-kill

run bun $BUN test --path-ignore-patterns="$KILL_FILE" tests/
bun_count bun
kill_restart bun-kill $BUN test ./$KILL_FILE
bun_count bun-kill

mapfile -t node_files < <(find tests -name '*_test.ts' ! -path "$KILL_FILE" | sort)
node_test run node "${node_files[@]}"
node_count node
node_test kill_restart node-kill $KILL_FILE
node_count node-kill

echo
[ -s "$logs/hangs" ] && cat "$logs/hangs"
total_p=0 total_f=0 total_s=0
for runtime in deno bun node; do
  p=${passed[$runtime]:-0} f=${failed[$runtime]:-0} s=${skipped[$runtime]:-0}
  printf '%-5s %d passed, %d failed, %d skipped\n' "$runtime:" "$p" "$f" "$s"
  total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
done
# One line per skipped suite and reason: "skipped: integration (REASON; 8 on deno, 8 on bun)".
cat "$logs"/*.events | awk -F'\t' '$1 == "skip" {
    key = $3 " (" $4; if (!(key in seen)) { seen[key] = 1; keys[++k] = key }
    n[key, $2]++
  }
  END {
    for (i = 1; i <= k; i++) {
      line = "skipped: " keys[i]; sep = "; "
      split("deno bun node", rts, " ")
      for (j = 1; j <= 3; j++) if ((keys[i], rts[j]) in n) {
        line = line sep n[keys[i], rts[j]] " on " rts[j]; sep = ", "
      }
      print line ")"
    }
  }'
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
