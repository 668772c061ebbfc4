#!/usr/bin/env bash
# Proves that the runtime-neutral layers stay neutral: they type-check with only the ES and DOM
# libraries (no Deno namespace, no Bun or Node types), and their source never names the Deno or
# Bun globals, Bun's or Node's modules, not even in code samples inside comments.
# Usage: scripts/check_neutral.sh   (from anywhere; exits non-zero on any violation)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

deno="./node_modules/.bin/deno"
[[ -x "$deno" ]] || deno="deno"

dirs=()
for d in framing protocol sasl broker cluster testing; do
  [[ -d "$d" ]] && dirs+=("$d")
done
files=()
if ((${#dirs[@]} > 0)); then
  mapfile -t files < <(find "${dirs[@]}" -type f -name '*.ts' | sort)
fi
if ((${#files[@]} == 0)); then
  echo "check_neutral: no .ts files found under framing/ protocol/ sasl/ broker/ cluster/ testing/" >&2
  exit 1
fi
# Every file of a directory except the runtime entry points named after it. Subfolders are not
# walked: a folder in transport/ holds one runtime's implementation (transport/node/ ...).
all_but() {
  local dir=$1 f
  shift
  for f in "$dir"/*.ts; do
    [[ -f "$f" ]] || continue
    [[ " $* " == *" ${f#"$dir"/} "* ]] || printf '%s\n' "$f"
  done
}
# transport/: the seam the main entry point exports (conn, conn_core, clock, errors, dial, fifo,
# memory, tls_hints) and the Workers adapter, which uses only WHATWG streams and receives
# `connect` from the Worker. Only the runtime adapters name a runtime: deno.ts, bun.ts, node.ts
# and the folders transport/deno/, transport/bun/, transport/node/ they may keep their code in.
runtime_folders=(deno bun node)
mapfile -t transport_files < <(all_but transport deno.ts bun.ts node.ts)
for d in transport/*/; do
  d=${d%/}
  [[ " ${runtime_folders[*]} " == *" ${d#transport/} "* ]] && continue
  echo "check_neutral: FAIL: $d/ is not a runtime folder (${runtime_folders[*]}); neutral code lives in transport/ itself" >&2
  exit 1
done
# cli/: the probe takes the runtime's pieces through ProbeIo; only the entry point probe.ts
# wires Deno or Bun.
mapfile -t cli_files < <(all_but cli probe.ts)
if ((${#transport_files[@]} == 0)); then
  echo "check_neutral: no runtime-neutral .ts files found in transport/" >&2
  exit 1
fi
layer_count=${#files[@]}
files+=("${transport_files[@]}" "${cli_files[@]}" mod.ts)
echo "check_neutral: ${#files[@]} files: ${layer_count} in ${dirs[*]/%//}," \
  "${#transport_files[@]} in transport/ (all but deno.ts, bun.ts, node.ts and ${runtime_folders[*]/%//})," \
  "${#cli_files[@]} in cli/ (all but probe.ts), and mod.ts"

status=0

# Runtime globals used as values or types (Deno.x, Bun?.x, Deno[...], globalThis.Bun,
# (g as any).Deno, typeof Deno, "Deno" in globalThis), Bun's and Node's module specifiers,
# imports of the runtime adapters, and triple-slash references that would pull the runtime types back in
# behind the type check's back. Prose such as "runs on Deno and Bun" is allowed.
patterns=(
  -e '\b(Deno|Bun)\??\.[A-Za-z_$]'
  -e '\b(Deno|Bun)\['
  -e '\.(Deno|Bun)\b'
  -e '\btypeof[[:space:]]+(Deno|Bun)\b'
  -e "[\"'](Deno|Bun)[\"']"
  -e "[\"'](bun|bun:[a-z]+|bun-types|@types/bun|npm:@types/bun)[\"']"
  -e "[\"'](node:[a-z_/]+|@types/node|npm:@types/node)[\"']"
  -e "[\"'][^\"']*transport/(deno|bun|node)(\.ts|/)[^\"']*[\"']"
  -e "<reference[[:space:]]+(lib|types)=[\"'](deno|bun)"
)
if grep -nE "${patterns[@]}" "${files[@]}"; then
  echo "check_neutral: FAIL: the lines above name a runtime; move that code to a runtime adapter (transport/deno*, transport/bun*, transport/node*) or cli/probe.ts" >&2
  status=1
else
  echo "check_neutral: ok: no Deno/Bun/Node references"
fi

# Type-check with a config whose lib has no "deno.ns"/"deno.window": any use of the Deno
# namespace, including through an import of transport/deno.ts, fails to resolve.
if "$deno" check --quiet --config scripts/neutral.deno.json "${files[@]}"; then
  echo "check_neutral: ok: type-checks with lib [esnext, dom] only"
else
  # Tell a neutrality violation from code that does not type-check under Deno's own lib either.
  if "$deno" check --quiet "${files[@]}" >/dev/null 2>&1; then
    echo "check_neutral: FAIL: the files above need runtime types (Deno namespace or Bun)" >&2
  else
    echo "check_neutral: FAIL: the files above do not type-check at all (not only a runtime issue)" >&2
  fi
  status=1
fi

exit "$status"
