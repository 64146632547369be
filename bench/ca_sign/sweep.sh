#!/usr/bin/env bash
# bench/ca_sign/sweep.sh — run.sh over several callers x batch shapes, RUNS times each,
# interleaved (so that a slow minute on a shared VM hits every shape alike), then the median
# and range of each shape's share of the bound and of its server CPU per SVID.
#
# Usage: bench/ca_sign/sweep.sh                       (SHAPES="8x16 4x64 2x256" RUNS=3)
#        SHAPES="8x16" RUNS=5 DURATION=6 bench/ca_sign/sweep.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

SHAPES=${SHAPES:-8x16 4x64 2x256}
RUNS=${RUNS:-3}
results=$(mktemp /tmp/meshid-sweep.XXXXXX)
log=$(mktemp /tmp/meshid-sweep-log.XXXXXX)
trap 'rm -f "$results" "$log"' EXIT

for run in $(seq 1 "$RUNS"); do
  for shape in $SHAPES; do
    streams=${shape%x*}
    batch=${shape#*x}
    echo "run $run/$RUNS: $streams callers x $batch CSRs per call..." >&2
    report=$(STREAMS=$streams BATCH=$batch bench/ca_sign/run.sh 2>"$log") || {
      echo "run.sh failed for $shape; its output:" >&2
      cat "$log" >&2
      exit 1
    }
    ratio=$(sed -n 's/.* SVIDs\/s = \([0-9]*\)% of the bound.*/\1/p' <<<"$report")
    rate=$(sed -n 's/.*: \([0-9]*\) SVIDs\/s = .*/\1/p' <<<"$report")
    cpu=$(sed -n 's/.*; \([0-9.]*\) us of CPU per SVID.*/\1/p' <<<"$report")
    [ -n "$ratio" ] && [ -n "$cpu" ] || { echo "no numbers in run.sh's report:" >&2; echo "$report" >&2; exit 1; }
    echo "$shape $ratio $rate $cpu" >>"$results"
  done
done

printf '%-8s %-22s %-22s %s\n' shape "% of bound: median" "SVIDs/s: median" "us CPU/SVID: median"
for shape in $SHAPES; do
  awk -v s="$shape" '$1 == s { r[++n] = $2; v[n] = $3; c[n] = $4 }
    function median(a, n,   i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    END {
      lo_r = hi_r = r[1]; lo_v = hi_v = v[1]; lo_c = hi_c = c[1]
      for (i = 2; i <= n; i++) {
        if (r[i] < lo_r) lo_r = r[i]; if (r[i] > hi_r) hi_r = r[i]
        if (v[i] < lo_v) lo_v = v[i]; if (v[i] > hi_v) hi_v = v[i]
        if (c[i] < lo_c) lo_c = c[i]; if (c[i] > hi_c) hi_c = c[i]
      }
      printf "%-8s %-22s %-22s %s\n", s, median(r, n) " (" lo_r "-" hi_r ")",
        median(v, n) " (" lo_v "-" hi_v ")", median(c, n) " (" lo_c "-" hi_c ")"
    }' "$results"
done
