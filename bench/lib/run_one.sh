# Sourced by bench/run.sh and bench/node.sh: `run FILE LABEL CMD...` runs one benchmark and
# appends its JSON line (the last stdout line) to FILE; a failure is recorded as a JSON line with
# the first error line, and its whole stderr goes to $OUT/failures.log. Needs OUT and log().
run() { # file label cmd...
  local file=$1 label=$2
  shift 2
  local line
  if line=$(NO_COLOR=1 timeout 120 "$@" 2>"$OUT/last.err" | tail -1) && [ -n "$line" ]; then
    echo "$line" >>"$file"
  else
    # The whole stderr is kept; the JSON line gets the first error line, printable ASCII only.
    { echo "=== $label"; cat "$OUT/last.err"; } >>"$OUT/failures.log"
    local why
    why=$(grep -m1 -iE 'error|refused|timed out' "$OUT/last.err" | tr -cd '\40-\176' |
      tr -d '"\\' | cut -c1-200)
    log "!!! $label failed: $why (stderr in $OUT/failures.log)"
    echo "{\"label\":\"$label\",\"error\":\"${why:-no output}\"}" >>"$file"
  fi
}
