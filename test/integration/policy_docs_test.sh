#!/usr/bin/env bash
# policy_docs_test.sh - `meshid policy eval` on the policy examples of Istio's documentation,
# then `meshid policy lint` and `meshid audit pods` on small fixtures (issue 5, "Done means").
#
#   policy/docs/*.yaml     examples copied unmodified from istio.io (source on the first line)
#   policy/docs_cases.tsv  what the documentation says `policy eval` answers for them
#   policy/lint_cases.tsv  what lint and audit must report (policy/EXPECTED.md in prose)
#
# Usage: policy_docs_test.sh /path/to/meshid
# Needs bash, coreutils, grep, sed and awk. Works in its own temp directory.
# Every row runs even after a failure; each failure shows the files, the arguments, what was
# expected and what meshid answered. Summary lines follow, and the script exits 1 if any row
# failed (MESHID_IT_KEEP_GOING=0 stops at the first failure instead).

set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/assert.sh"

setup_test "$@"

# A table is most useful when it reports every failing row, not only the first (set after
# setup_test, whose usage errors must still stop the script).
MESHID_IT_KEEP_GOING=${MESHID_IT_KEEP_GOING:-1}

P="$HERE/policy"
DOCS="$P/docs"
DOCS_CASES="$P/docs_cases.tsv"
LINT_CASES="$P/lint_cases.tsv"

# json_top FILE KEY : the value of KEY in the top-level object of the JSON document in FILE
# (a string without its quotes, another scalar as written, empty for an object, an array,
# null or a missing key).
json_top() {
  jq -r --arg key "$2" '.[$key] | select(. != null and type != "object" and type != "array")' \
    "$1" 2>/dev/null || true  # not JSON (an error message): empty
}

# output_matches FILE NEEDLE : some line of FILE satisfies NEEDLE, case-insensitively:
# "a|b" either alternative, "a&b" both on the same line (& binds tighter than |).
output_matches() {
  awk -v needle="$2" '
    BEGIN { nalt = split(tolower(needle), alts, "|") }
    {
      line = tolower($0)
      for (a = 1; a <= nalt; a++) {
        np = split(alts[a], parts, "&"); ok = 0
        for (p = 1; p <= np; p++) {
          part = parts[p]
          gsub(/^[ \t]+|[ \t]+$/, "", part)
          if (part == "") continue
          if (index(line, part) == 0) { ok = 0; break }
          ok = 1
        }
        if (ok) { found = 1; exit }
      }
    }
    END { exit !found }' "$1"
}

# join_list ITEM... : the items separated by "; ".
join_list() {
  local out
  out=$(printf '%s; ' "$@")
  printf '%s' "${out%; }"
}

# first_lines FILE : up to 5 lines of FILE, indented, for a failure report.
first_lines() {
  if [[ ! -s $1 ]]; then
    echo "            (empty)"
  else
    head -n 5 -- "$1" | cut -c1-200 | sed 's/^/            | /'
  fi
}

# docs_files_args LIST : fill the array FILE_ARGS with "-f DOCS/NAME" for each comma-separated
# name in LIST; returns 1 (after a fail) if a named file is missing.
docs_files_args() {
  local -a names
  local name
  FILE_ARGS=()
  IFS=, read -ra names <<<"$1"
  for name in "${names[@]}"; do
    if [[ ! -f $DOCS/$name ]]; then
      fail "$DOCS_ROW: no such file docs/$name"
      return 1
    fi
    FILE_ARGS+=(-f "$DOCS/$name")
  done
}

EVAL_CASES=0
EVAL_FAILED=0

# eval_case FILES EXPECT ARGS NOTE : one row of docs_cases.tsv (location in $DOCS_ROW).
eval_case() {
  local files=$1 expect=$2 args_text=$3 note=$4
  local -a checks args
  local decision="" mode="" reason="" policy="" want_rc="0|1" tok
  read -ra checks <<<"$expect"
  read -ra args <<<"$args_text"
  EVAL_CASES=$((EVAL_CASES + 1))

  for tok in "${checks[@]}"; do
    case $tok in
      ALLOW) decision=ALLOW want_rc=0 ;;
      DENY) decision=DENY want_rc=1 ;;
      MODE=*) mode=${tok#MODE=} ;;
      REASON=*) reason=${tok#REASON=} ;;
      POLICY=*) policy=${tok#POLICY=} ;;
      *)
        EVAL_FAILED=$((EVAL_FAILED + 1))
        fail "$DOCS_ROW: malformed expect column: $expect"
        return 0
        ;;
    esac
  done
  if [[ -z $decision && -z $mode ]]; then
    EVAL_FAILED=$((EVAL_FAILED + 1))
    fail "$DOCS_ROW: the expect column needs ALLOW, DENY or MODE=: $expect"
    return 0
  fi
  docs_files_args "$files" || { EVAL_FAILED=$((EVAL_FAILED + 1)); return 0; }

  ASSERT_DETAIL="meshid policy eval -f ${files//,/ -f } $args_text -o json"
  run "$MESHID" policy eval "${FILE_ARGS[@]}" "${args[@]}" -o json

  local got_decision got_mode got_reason got_policy
  got_decision=$(json_top "$OUT_FILE" decision)
  got_mode=$(json_top "$OUT_FILE" mtls_mode)
  got_reason=$(json_top "$OUT_FILE" reason)
  got_policy=$(json_top "$OUT_FILE" policy)

  local -a wrong=()
  [[ $RC =~ ^($want_rc)$ ]] || wrong+=("exit status $RC, expected ${want_rc/|/ or }")
  if [[ -n $decision && ${got_decision^^} != "$decision" ]]; then
    wrong+=("decision")
  fi
  if [[ -n $mode && ${got_mode^^} != "$mode" ]]; then
    wrong+=("mtls_mode")
  fi
  if [[ -n $reason && $got_reason != "$reason" ]]; then
    wrong+=("reason")
  fi
  if [[ -n $policy && $got_policy != "$policy" ]]; then
    wrong+=("policy")
  fi

  # The text output carries the same decision and exit status.
  if ((${#wrong[@]} == 0)) && [[ -n $decision ]]; then
    run "$MESHID" policy eval "${FILE_ARGS[@]}" "${args[@]}"
    if [[ $RC != "$want_rc" ]] || ! grep -qw -- "$decision" "$OUT_FILE"; then
      wrong+=("text output (without -o json): exit $RC, no word $decision")
    fi
  fi

  if ((${#wrong[@]} > 0)); then
    EVAL_FAILED=$((EVAL_FAILED + 1))
    fail "$DOCS_ROW: $(join_list "${wrong[@]}")
  files:    $files
  args:     $args_text
  expected: $expect
  got:      decision=${got_decision:-?} mtls_mode=${got_mode:-?} reason=${got_reason:-?} policy=${got_policy:-?} (exit $RC)
  note:     $note$(show_output)"
  fi
  ASSERT_DETAIL=""
}

# show_output : stderr of the last run, and stdout too when it held no decision.
show_output() {
  if [[ -z $(json_top "$OUT_FILE" decision) ]]; then
    printf '\n  stdout:\n%s' "$(first_lines "$OUT_FILE")"
  fi
  if [[ -s $ERR_FILE ]]; then
    printf '\n  stderr:\n%s' "$(first_lines "$ERR_FILE")"
  fi
}

LINT_CASES_RUN=0
LINT_FAILED=0

# lint_case CMD FILES ARGS EXIT EXPECT NOTE : one row of lint_cases.tsv (location in $LINT_ROW).
lint_case() {
  local cmd_name=$1 files=$2 args_text=$3 want_exit=$4 expect=$5 note=$6
  local -a cmd names args needles file_args=() wrong=()
  local name word needle
  LINT_CASES_RUN=$((LINT_CASES_RUN + 1))
  case $cmd_name in
    lint) cmd=("$MESHID" policy lint) ;;
    audit) cmd=("$MESHID" audit pods) ;;
    *)
      LINT_FAILED=$((LINT_FAILED + 1))
      fail "$LINT_ROW: unknown command column: $cmd_name"
      return 0
      ;;
  esac
  IFS=, read -ra names <<<"$files"
  for name in "${names[@]}"; do
    [[ -f $P/$name ]] || wrong+=("no such fixture $name")
    file_args+=(-f "$P/$name")
  done
  if [[ $args_text != "-" ]]; then
    read -ra args <<<"$args_text"
    for word in "${args[@]}"; do
      [[ $word == @* ]] && word=$P/${word#@}
      file_args+=("$word")
    done
  fi

  if ((${#wrong[@]} == 0)); then
    ASSERT_DETAIL="${cmd[*]:1} $files $args_text"
    run "${cmd[@]}" "${file_args[@]}"
    cat -- "$OUT_FILE" "$ERR_FILE" >"$W/lint.out"
    case $want_exit in
      0) [[ $RC == 0 ]] || wrong+=("exit status $RC, expected 0") ;;
      nonzero) [[ $RC == 1 || $RC == 2 ]] || wrong+=("exit status $RC, expected 1 or 2") ;;
      any) [[ $RC =~ ^[012]$ ]] || wrong+=("exit status $RC, expected 0, 1 or 2") ;;
      *) wrong+=("malformed exit column: $want_exit") ;;
    esac
    if [[ $expect != "-" ]]; then
      IFS=';' read -ra needles <<<"$expect"
      for needle in "${needles[@]}"; do
        needle=$(sed 's/^[[:space:]]*//; s/[[:space:]]*$//' <<<"$needle")
        [[ -n $needle ]] || continue
        if [[ $needle == '!'* ]]; then
          if output_matches "$W/lint.out" "${needle#!}"; then
            wrong+=("reported, but must not be: ${needle#!}")
          fi
        elif ! output_matches "$W/lint.out" "$needle"; then
          wrong+=("not reported: $needle")
        fi
      done
    fi
  fi

  if ((${#wrong[@]} > 0)); then
    LINT_FAILED=$((LINT_FAILED + 1))
    fail "$LINT_ROW: $(join_list "${wrong[@]}")
  command:  meshid ${cmd[*]:1} -f ${files//,/ -f } $args_text
  expected: exit $want_exit; $expect
  note:     $note
  output:
$(first_lines "$W/lint.out")"
  fi
  ASSERT_DETAIL=""
}

# ---------------------------------------------------------------------------
test_case "the case tables name existing files, and every docs/*.yaml has a case"
[[ -f $DOCS_CASES && -f $LINT_CASES ]] || fail "missing $DOCS_CASES or $LINT_CASES"
used=$(awk -F'\t' '!/^#/ && NF { n = split($1, f, ","); for (i = 1; i <= n; i++) print f[i] }' \
  "$DOCS_CASES" | sort -u)
have=$(find "$DOCS" -maxdepth 1 -name '*.yaml' -printf '%f\n' | sort)
untested=$(comm -13 <(printf '%s\n' "$used") <(printf '%s\n' "$have"))
[[ -z $untested ]] || fail "docs files without a case in docs_cases.tsv:"$'\n'"$untested"
missing=$(comm -23 <(printf '%s\n' "$used") <(printf '%s\n' "$have"))
[[ -z $missing ]] || fail "docs_cases.tsv names files that do not exist:"$'\n'"$missing"

test_case "every documentation example loads unmodified (eval exits 0 or 1, never 2)"
LOAD_FAILED=0
for f in "$DOCS"/*.yaml; do
  run "$MESHID" policy eval -f "$f" --namespace default --labels app=probe --port 8080 \
    --peer-principal cluster.local/ns/default/sa/probe
  if [[ $RC != 0 && $RC != 1 ]]; then
    LOAD_FAILED=$((LOAD_FAILED + 1))
    fail "docs/$(basename -- "$f") does not load (exit $RC):"$'\n'"$(first_lines "$ERR_FILE")"
  fi
done

test_case "policy eval returns what Istio documents (docs_cases.tsv)"
lineno=0
while IFS= read -r -u 3 line || [[ -n $line ]]; do
  lineno=$((lineno + 1))
  [[ -z ${line//[[:space:]]/} || $line == '#'* ]] && continue
  DOCS_ROW="docs_cases.tsv:$lineno"
  IFS=$'\t' read -r c_file c_expect c_args c_note extra <<<"$line"
  if [[ -z ${c_note:-} || -n ${extra:-} ]]; then
    EVAL_CASES=$((EVAL_CASES + 1)) EVAL_FAILED=$((EVAL_FAILED + 1))
    fail "$DOCS_ROW: expected 4 tab-separated columns: $line"
    continue
  fi
  eval_case "$c_file" "$c_expect" "$c_args" "$c_note"
done 3<"$DOCS_CASES"

test_case "policy lint and audit pods report each listed mistake (lint_cases.tsv)"
lineno=0
while IFS= read -r -u 3 line || [[ -n $line ]]; do
  lineno=$((lineno + 1))
  [[ -z ${line//[[:space:]]/} || $line == '#'* ]] && continue
  LINT_ROW="lint_cases.tsv:$lineno"
  IFS=$'\t' read -r l_cmd l_files l_args l_exit l_expect l_note extra <<<"$line"
  if [[ -z ${l_note:-} || -n ${extra:-} ]]; then
    LINT_CASES_RUN=$((LINT_CASES_RUN + 1)) LINT_FAILED=$((LINT_FAILED + 1))
    fail "$LINT_ROW: expected 6 tab-separated columns: $line"
    continue
  fi
  lint_case "$l_cmd" "$l_files" "$l_args" "$l_exit" "$l_expect" "$l_note"
done 3<"$LINT_CASES"

ndocs=$(find "$DOCS" -maxdepth 1 -name '*.yaml' | wc -l)
printf 'load: %d documentation files, %d failed to load\n' "$ndocs" "$LOAD_FAILED"
printf 'eval: %d cases, %d passed, %d failed\n' "$EVAL_CASES" \
  $((EVAL_CASES - EVAL_FAILED)) "$EVAL_FAILED"
printf 'lint/audit: %d cases, %d passed, %d failed\n' "$LINT_CASES_RUN" \
  $((LINT_CASES_RUN - LINT_FAILED)) "$LINT_FAILED"
pass_all
