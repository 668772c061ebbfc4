#!/usr/bin/env bash
# zstd decoder benchmark: ours vs fzstd on Deno and Bun (see bench/zstd_decode.ts).
# Needs the zstd CLI for the input (apt-get install zstd) and fzstd (npm install).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.cache/zstd-bench
python3 bench/zstd_data.py "$dir"
node_modules/.bin/deno run -A bench/zstd_decode.ts "$dir"
node_modules/.bin/bun bench/zstd_decode.ts "$dir"
