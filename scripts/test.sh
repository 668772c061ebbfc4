#!/usr/bin/env bash
# Runs the whole test suite on Deno and on Bun and ends with one line "N passed, N failed"
# covering both runtimes. Installs the toolchain from npm first when it is missing, so it works
# on a machine that has only Node + npm.
#
# The real-broker integration suite runs when a broker started by scripts/kafka/start.sh is up.
# Without one it says loudly that it did not run; with KAFKA_REQUIRED=1 (as in CI) a missing
# broker is a test failure.
#
# Cluster suite: tests/integration_cluster/ runs against the 3-node cluster started by
# scripts/kafka/cluster.sh when it is up (KAFKA_CLUSTER_REQUIRED=1 makes a missing one a
# failure); tests/cluster/ runs against the embedded cluster always.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/deno ] || [ ! -x node_modules/.bin/bun ]; then
  echo "== installing Deno, Bun and dev tools from npm (npm install)"
  npm install --no-audit --no-fund >/dev/null || { echo "npm install failed"; echo "0 passed, 1 failed"; exit 1; }
fi
DENO=node_modules/.bin/deno
BUN=node_modules/.bin/bun
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# --- cluster suite: say up front whether the real-cluster part will run.
if [ -f "${KAFKA_CACHE_DIR:-.cache/kafka}/cluster/endpoints.json" ]; then
  echo "== cluster suite: real 3-node cluster from ${KAFKA_CACHE_DIR:-.cache/kafka}/cluster/endpoints.json"
else
  echo "== cluster suite: no 3-node cluster running (bash scripts/kafka/cluster.sh start); tests/integration_cluster/ skips"
fi
# --- end cluster suite

echo "== deno test ($($DENO --version | head -1))"
NO_COLOR=1 $DENO test -A --quiet tests/ 2>&1 | tee "$logs/deno.txt"
deno_rc=${PIPESTATUS[0]}

echo "== bun test (bun $($BUN --version))"
NO_COLOR=1 $BUN test --timeout 60000 tests/ 2>&1 | tee "$logs/bun.txt"
bun_rc=${PIPESTATUS[0]}

# Deno's summary: "ok | 12 passed | 0 failed (1s)" or "FAILED | 10 passed | 2 failed (1s)".
deno_line=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$logs/deno.txt" | tail -1)
deno_pass=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$deno_line")
deno_fail=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$deno_line")
# Bun's summary: " 12 pass" and " 0 fail" on lines of their own.
bun_pass=$(grep -E '^ *[0-9]+ pass$' "$logs/bun.txt" | tail -1 | tr -dc '0-9')
bun_fail=$(grep -E '^ *[0-9]+ fail$' "$logs/bun.txt" | tail -1 | tr -dc '0-9')

# A runner that crashed before printing its summary counts as one failure, never as a pass.
if [ -z "$deno_pass" ]; then deno_pass=0; deno_fail=1; echo "deno test printed no summary (exit $deno_rc)"; fi
if [ -z "$bun_pass" ]; then bun_pass=0; bun_fail=1; echo "bun test printed no summary (exit $bun_rc)"; fi
if [ "$deno_rc" -ne 0 ] && [ "$deno_fail" -eq 0 ]; then deno_fail=1; fi
if [ "$bun_rc" -ne 0 ] && [ "$bun_fail" -eq 0 ]; then bun_fail=1; fi

echo
echo "deno: $deno_pass passed, $deno_fail failed"
echo "bun:  $bun_pass passed, $bun_fail failed"
passed=$((deno_pass + bun_pass))
failed=$((deno_fail + bun_fail))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
