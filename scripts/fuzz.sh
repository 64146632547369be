#!/usr/bin/env bash
# Builds the policy YAML loader's libFuzzer target (the `fuzz` preset: clang, ASan + UBSan)
# and fuzzes it for SECONDS (default 60). The checked-in seeds (src/policy/fuzz/corpus and the
# policy files of test/integration/policy) are read, never written: new inputs go to a
# temporary directory. Exits non-zero when the fuzzer finds a crash, a leak or undefined
# behaviour, and prints where the failing input was saved.
#
#   scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]
#   FUZZ_KEEP=1 scripts/fuzz.sh 600    # keep the temporary directory (grown corpus, logs)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:-60}
shift || true
case $seconds in '' | *[!0-9]*)
  echo "usage: scripts/fuzz.sh [SECONDS] [libFuzzer flags...]" >&2
  exit 2
  ;;
esac

nice -n 19 cmake --preset fuzz >/dev/null
nice -n 19 cmake --build --preset fuzz
fuzzer=$root/build/fuzz/src/policy/fuzz/policy_loader_fuzz

work=$(mktemp -d "${TMPDIR:-/tmp}/meshid-fuzz.XXXXXX")
if [ "${FUZZ_KEEP:-0}" != 1 ]; then
  trap 'rm -rf "$work/corpus"' EXIT  # keep $work itself: it may hold the crashing input
fi
mkdir -p "$work/corpus" "$work/artifacts"

seeds=("$root/src/policy/fuzz/corpus")
for d in test/integration/policy/docs test/integration/policy/lint test/integration/policy/audit; do
  [ -d "$d" ] && seeds+=("$root/$d")
done

echo "fuzz: running policy_loader_fuzz for ${seconds}s in $work"
status=0
(
  cd "$work"
  # halt_on_error: UBSan findings stop the run like ASan's; detect_leaks: a leak is a failure.
  ASAN_OPTIONS=detect_leaks=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    nice -n 19 "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
    -timeout=25 -print_final_stats=1 -dict="$root/src/policy/fuzz/policy_loader.dict" \
    -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" "${seeds[@]}" 2>&1 |
    tee "$work/fuzz.log" | { grep -v -E '^(#[0-9]+\s+(NEW|REDUCE|pulse)|\s+NEW_FUNC)' || true; }
) || status=$?

if [ "$status" -ne 0 ] || [ -n "$(ls -A "$work/artifacts")" ]; then
  echo "fuzz: FAILED (exit $status). Failing input(s), reproduce with $fuzzer FILE:" >&2
  ls -l "$work"/artifacts/* >&2 || true
  echo "fuzz: full log: $work/fuzz.log" >&2
  exit 1
fi
[ "${FUZZ_KEEP:-0}" = 1 ] || rm -rf "$work"
echo "fuzz: no crash, leak or undefined behaviour in ${seconds}s"
