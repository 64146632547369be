# shellcheck shell=bash
# assert.sh - helpers for the meshid integration tests (bash, coreutils, grep, sed, awk).
#
# Source it from a test script that runs under `set -euo pipefail`:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib/assert.sh"
#   mk_tmpdir                      # $TEST_TMP, removed on exit
#   test_case "pki init writes the tree"
#   expect_exit 0 "$MESHID" pki init ...
#   expect_contains "$OUT_FILE" "root.crt"
#   ...
#   pass_all
#
# Every `run`/`expect_exit` stores the command's stdout in $OUT_FILE, its stderr in
# $ERR_FILE and its exit status in $RC (files under $TEST_TMP/cap, never in the
# directory the command works in), and fails at once if the process was killed by a
# signal, timed out, or a sanitizer reported anything: "never crashes" is checked on
# every call, not only where a test remembers to.
#
# Set MESHID_IT_KEEP=1 to keep the temporary directory for a post-mortem, and
# MESHID_IT_KEEP_GOING=1 to report every failed expectation instead of stopping at the
# first (the script still exits 1 at pass_all).

ASSERT_CASE=""
# What the current check is about (e.g. the command line); printed with a failure.
ASSERT_DETAIL=""
ASSERT_CASES=0
ASSERT_FAILURES=0
ASSERT_SCRIPT=$(basename -- "${BASH_SOURCE[1]:-$0}")
# Seconds one command may take before it counts as hung.
ASSERT_CMD_TIMEOUT=${ASSERT_CMD_TIMEOUT:-60}

# fail MESSAGE... : print the failure (with the current test case and detail) and
# exit 1 (with MESHID_IT_KEEP_GOING=1: count it and carry on).
fail() {
  {
    printf 'FAIL: %s\n' "$*"
    if [[ -n $ASSERT_DETAIL ]]; then
      printf '  while checking: %s\n' "$ASSERT_DETAIL"
    fi
    if [[ -n $ASSERT_CASE ]]; then
      printf '  in test case: %s\n' "$ASSERT_CASE"
    fi
  } >&2
  if [[ ${MESHID_IT_KEEP_GOING:-0} == 1 ]]; then
    ASSERT_FAILURES=$((ASSERT_FAILURES + 1))
    return 0
  fi
  exit 1
}

# _label FILE : a readable name for the capture files in messages.
_label() {
  case $1 in
    "${OUT_FILE:-}") echo "stdout" ;;
    "${ERR_FILE:-}") echo "stderr" ;;
    *) echo "$1" ;;
  esac
}

# _show FILE : the first lines of FILE, indented, for a failure message.
_show() {
  if [[ ! -e $1 ]]; then
    echo "    (no such file)"
  elif [[ ! -s $1 ]]; then
    echo "    (empty)"
  else
    head -n 25 -- "$1" | cut -c1-300 | sed 's/^/    | /'
    local n
    n=$(wc -l <"$1")
    if ((n > 25)); then echo "    | ... ($n lines)"; fi
  fi
}

# setup_test MESHID_BINARY : the common start of a test script, called from its main shell:
# sets $MESHID (absolute), makes $TEST_TMP (removed on exit), keeps any openssl.cnf out of
# the openssl commands, and enters a fresh work directory $W.
setup_test() {
  require_binary "${1:-}"
  MESHID=$(cd -- "$(dirname -- "$1")" && pwd)/$(basename -- "$1")
  mk_tmpdir
  export OPENSSL_CONF=/dev/null
  W="$TEST_TMP/w"
  mkdir -p "$W"
  cd "$W"
}

# mk_tmpdir : create $TEST_TMP (mktemp -d) and remove it when the script exits.
# Also creates $TEST_TMP/cap for captured output. Call it once, from the main shell.
mk_tmpdir() {
  TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/meshid-it.XXXXXX")
  if [[ ${MESHID_IT_KEEP:-0} == 1 ]]; then
    trap 'echo "kept $TEST_TMP" >&2' EXIT
  else
    trap 'rm -rf -- "$TEST_TMP"' EXIT
  fi
  mkdir -p -- "$TEST_TMP/cap"
  OUT_FILE="$TEST_TMP/cap/stdout"
  ERR_FILE="$TEST_TMP/cap/stderr"
  : >"$OUT_FILE"
  : >"$ERR_FILE"
  RC=0
}

# require_binary PATH : the meshid binary given as $1 must exist and be executable.
require_binary() {
  [[ -n ${1:-} ]] || fail "usage: $ASSERT_SCRIPT /path/to/meshid"
  [[ -x $1 && -f $1 ]] || fail "meshid binary not found or not executable: $1"
}

# test_case NAME : start a test case (prints one line).
test_case() {
  ASSERT_CASE=$1
  ASSERT_DETAIL=""
  ASSERT_CASES=$((ASSERT_CASES + 1))
  printf -- '-- %s\n' "$1"
}

# pass_all : the final line of a passing script.
pass_all() {
  ASSERT_CASE=""
  ASSERT_DETAIL=""
  if ((ASSERT_FAILURES > 0)); then
    printf 'FAILED: %s (%d failed expectation(s) in %d test cases)\n' \
      "$ASSERT_SCRIPT" "$ASSERT_FAILURES" "$ASSERT_CASES" >&2
    exit 1
  fi
  printf 'PASS: %s (%d test cases)\n' "$ASSERT_SCRIPT" "$ASSERT_CASES"
}

# _after_run CMD... : crash / hang / sanitizer checks shared by run and run_piped.
_after_run() {
  if ((RC == 124)); then
    fail "command timed out after ${ASSERT_CMD_TIMEOUT}s: $*"
  fi
  if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
    -- "$ERR_FILE"; then
    fail "sanitizer report from: $*"$'\n'"$(_show "$ERR_FILE")"
  fi
  if ((RC >= 128)); then
    fail "command killed by signal $((RC - 128)) (exit $RC): $*"$'\n'"$(_show "$ERR_FILE")"
  fi
}

# run CMD... : run CMD with stdin from /dev/null; set $RC, $OUT_FILE, $ERR_FILE.
run() {
  timeout --kill-after=5 "$ASSERT_CMD_TIMEOUT" "$@" </dev/null >"$OUT_FILE" 2>"$ERR_FILE" \
    && RC=0 || RC=$?
  _after_run "$@"
}

# run_piped INPUT_FILE CMD... : like run, but CMD reads INPUT_FILE through a pipe.
run_piped() {
  local input=$1
  shift
  cat -- "$input" | timeout --kill-after=5 "$ASSERT_CMD_TIMEOUT" "$@" \
    >"$OUT_FILE" 2>"$ERR_FILE" && RC=0 || RC=${PIPESTATUS[1]}
  _after_run "$@"
}

# _require_rc CODE DESCRIPTION : fail, showing the command's output, unless RC is CODE.
_require_rc() {
  if [[ $RC != "$1" ]]; then
    fail "exit status: expected $1, got $RC"$'\n'"  command: $2"$'\n'"  stderr:"$'\n'"$(_show "$ERR_FILE")"$'\n'"  stdout:"$'\n'"$(_show "$OUT_FILE")"
  fi
}

# expect_exit CODE CMD... : run CMD and require exit status CODE.
expect_exit() {
  local want=$1
  shift
  run "$@"
  _require_rc "$want" "$*"
}

# expect_exit_piped CODE INPUT_FILE CMD... : run_piped, then require exit status CODE.
expect_exit_piped() {
  local want=$1
  shift
  run_piped "$@"
  _require_rc "$want" "${*:2} < $1 (piped)"
}

# expect_contains FILE TEXT : FILE contains TEXT (fixed string).
expect_contains() {
  grep -qF -- "$2" "$1" ||
    fail "expected $(_label "$1") to contain: $2"$'\n'"  got:"$'\n'"$(_show "$1")"
}

# expect_not_contains FILE TEXT : FILE does not contain TEXT (fixed string).
expect_not_contains() {
  if grep -qF -- "$2" "$1"; then
    fail "expected $(_label "$1") NOT to contain: $2"$'\n'"  got:"$'\n'"$(grep -nF -- "$2" "$1" | head -n 5 | sed 's/^/    | /')"
  fi
}

# expect_contains_i FILE TEXT : like expect_contains, ignoring case.
expect_contains_i() {
  grep -qiF -- "$2" "$1" ||
    fail "expected $(_label "$1") to contain (any case): $2"$'\n'"  got:"$'\n'"$(_show "$1")"
}

# expect_match FILE ERE : some line of FILE matches the extended regex ERE.
expect_match() {
  grep -qE -- "$2" "$1" ||
    fail "expected $(_label "$1") to match /$2/"$'\n'"  got:"$'\n'"$(_show "$1")"
}

# expect_line_starting FILE PREFIX [TEXT] : a line begins with PREFIX (fixed string)
# and, when TEXT is given, that same line also contains TEXT.
expect_line_starting() {
  local file=$1 prefix=$2 text=${3:-}
  if ! awk -v p="$prefix" -v t="$text" '
      index($0, p) == 1 && (t == "" || index($0, t) > 0) { found = 1 }
      END { exit !found }' "$file"; then
    local what="a line starting with: $prefix"
    [[ -n $text ]] && what+=" (and containing: $text)"
    fail "expected $(_label "$file") to have $what"$'\n'"  got:"$'\n'"$(_show "$file")"
  fi
}

# expect_no_line_starting FILE PREFIX : no line begins with PREFIX (fixed string).
expect_no_line_starting() {
  local hits
  hits=$(awk -v p="$2" 'index($0, p) == 1' "$1")
  if [[ -n $hits ]]; then
    fail "expected $(_label "$1") to have no line starting with: $2"$'\n'"  got:"$'\n'"$(printf '%s\n' "$hits" | head -n 10 | sed 's/^/    | /')"
  fi
}

# expect_first_line_contains FILE TEXT : the first line of FILE contains TEXT.
expect_first_line_contains() {
  local first
  first=$(head -n 1 -- "$1")
  [[ $first == *"$2"* ]] ||
    fail "expected the first line of $(_label "$1") to contain: $2"$'\n'"  got: $first"
}

# expect_last_line_starting FILE PREFIX : the last non-empty line begins with PREFIX.
expect_last_line_starting() {
  local last
  last=$(awk 'NF { l = $0 } END { print l }' "$1")
  [[ $last == "$2"* ]] ||
    fail "expected the last line of $(_label "$1") to start with: $2"$'\n'"  got: $last"
}

# expect_one_line FILE : FILE holds exactly one newline-terminated, non-empty line.
expect_one_line() {
  local lines
  lines=$(wc -l <"$1")
  # One newline, it is the last byte, and the line before it is not empty.
  if [[ $lines != 1 || $(tail -c 1 -- "$1" | wc -l) != 1 || -z $(head -n 1 -- "$1") ]]; then
    fail "expected $(_label "$1") to be exactly one line, got $lines newline(s):"$'\n'"$(_show "$1")"
  fi
}

# expect_empty FILE : FILE exists and is empty.
expect_empty() {
  [[ -e $1 && ! -s $1 ]] ||
    fail "expected $(_label "$1") to be empty"$'\n'"  got:"$'\n'"$(_show "$1")"
}

# expect_eq EXPECTED GOT WHAT : string equality.
expect_eq() {
  [[ $1 == "$2" ]] || fail "$3: expected '$1', got '$2'"
}

# expect_ne A B WHAT : string inequality.
expect_ne() {
  [[ $1 != "$2" ]] || fail "$3: expected a different value than '$1'"
}

# expect_file PATH : a regular file exists.
expect_file() {
  [[ -f $1 ]] || fail "expected file $1 to exist"
}

# expect_dir PATH : a directory exists.
expect_dir() {
  [[ -d $1 ]] || fail "expected directory $1 to exist"
}

# expect_no_path PATH : nothing (file, directory, dangling link) exists at PATH.
expect_no_path() {
  if [[ -e $1 || -L $1 ]]; then
    fail "expected $1 not to exist, but it does:"$'\n'"$(stat -c '    | %A %s %n' -- "$1" 2>&1)"
  fi
}

# expect_mode PATH MODE : permission bits as printed by `stat -c %a` (e.g. 600).
expect_mode() {
  local got
  got=$(stat -c %a -- "$1")
  expect_eq "$2" "$got" "mode of $1"
}

# count_certs FILE : number of PEM certificates in FILE.
count_certs() {
  grep -c -- '-----BEGIN CERTIFICATE-----' "$1" || true
}

# expect_cert_count FILE N : FILE holds exactly N PEM certificates.
expect_cert_count() {
  expect_eq "$2" "$(count_certs "$1")" "number of certificates in $1"
}

# split_certs FILE PREFIX : write the Nth certificate of FILE to PREFIX-N.pem (N from 1).
split_certs() {
  awk -v prefix="$2" '
    /-----BEGIN CERTIFICATE-----/ { n++; out = prefix "-" n ".pem" }
    out != "" { print > out }
    /-----END CERTIFICATE-----/ { close(out); out = "" }' "$1"
}

# fingerprint CERT_FILE : SHA-256 fingerprint of the first certificate in CERT_FILE.
fingerprint() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//'
}

# snapshot DIR : a recursive listing of DIR (ls -la, full timestamps) for
# "the command wrote nothing" comparisons.
snapshot() {
  (cd -- "$1" && ls -laR --time-style=full-iso .)
}

# expect_same_snapshot BEFORE_TEXT DIR : DIR's listing still equals BEFORE_TEXT.
expect_same_snapshot() {
  local after
  after=$(snapshot "$2")
  if [[ $1 != "$after" ]]; then
    fail "the directory $2 changed:"$'\n'"$(diff <(printf '%s\n' "$1") <(printf '%s\n' "$after") | head -n 20 | sed 's/^/    | /')"
  fi
}

# json_check_status FILE NAME : status of the check NAME in `meshid check -o json`
# output (the "status" of the JSON object whose "name" is NAME); empty if absent.
json_check_status() {
  awk -v want="$2" '
    /"name": "/ { s = $0; sub(/^[^"]*"name": "/, "", s); sub(/".*$/, "", s); name = s }
    /"status": "/ { s = $0; sub(/^[^"]*"status": "/, "", s); sub(/".*$/, "", s); status = s }
    /^[[:space:]]*},?[[:space:]]*$/ {
      if (name == want && status != "") { print status; exit }
      name = ""; status = ""
    }' "$1"
}

# expect_json_check FILE NAME STATUS : the named check has STATUS (ok|warn|fail).
expect_json_check() {
  local got
  got=$(json_check_status "$1" "$2")
  expect_eq "$3" "$got" "JSON status of check $2"
}

# expect_json_overall FILE STATUS : the top-level "status" of `check -o json` output.
expect_json_overall() {
  expect_contains "$1" "\"status\": \"$2\""
  local got
  got=$(awk '/^  "status": "/ { s = $0; sub(/^  "status": "/, "", s); sub(/".*$/, "", s); print s }' "$1")
  expect_eq "$2" "$got" "top-level JSON status"
}
