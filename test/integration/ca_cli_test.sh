#!/usr/bin/env bash
# ca_cli_test.sh - `meshid ca serve` and the admin commands that talk to its unix socket
# (token, node, entry), driven from the shell: configuration errors, upstream checks,
# /healthz, /readyz and /metrics, file modes, admin-command validation, restart on the
# same data_dir, and port conflicts.
#
# Flows that need an attested node (a gRPC call from an agent) are not tested here: no
# node exists, so `entry create` is only exercised on its error paths.
#
# Usage: ca_cli_test.sh /path/to/meshid
# Needs bash, coreutils, grep, sed, awk, openssl, curl and promtool (Debian: prometheus).
# Works in its own temp directory; every server it starts is stopped on exit.

set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/assert.sh"

setup_test "$@"

for tool in curl promtool openssl; do
  command -v "$tool" >/dev/null || fail "setup: $tool is not installed"
done

# Seconds a server may take to print its "CA serving" line, and to exit after SIGTERM.
START_TIMEOUT=${START_TIMEOUT:-20}
STOP_TIMEOUT=${STOP_TIMEOUT:-5}

# ---------------------------------------------------------------------------
# Server processes: every pid started here is in SERVER_PIDS until it has been reaped,
# and the EXIT trap stops whatever is left (then runs assert.sh's cleanup).
# ---------------------------------------------------------------------------
SERVER_PIDS=()

forget_pid() {
  local p keep=()
  for p in "${SERVER_PIDS[@]}"; do
    [[ $p == "$1" ]] || keep+=("$p")
  done
  SERVER_PIDS=("${keep[@]}")
}

stop_all_servers() {
  local p i
  ((${#SERVER_PIDS[@]} > 0)) || return 0
  for p in "${SERVER_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for ((i = 0; i < 100; i++)); do
    local alive=0
    for p in "${SERVER_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.05
  done
  for p in "${SERVER_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  SERVER_PIDS=()
}

install_cleanup() {
  # The trap assert.sh installed (remove or keep $TEST_TMP) runs after the servers stop.
  local prev
  prev=$(trap -p EXIT)
  # `trap -p` prints: trap -- 'COMMAND' EXIT (COMMAND shell-quoted).
  prev=${prev#trap -- }
  eval "ASSERT_EXIT_TRAP=${prev% EXIT}"
  trap 'stop_all_servers; eval "$ASSERT_EXIT_TRAP"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
install_cleanup

now_ms() {
  local t=${EPOCHREALTIME/./}
  echo $((t / 1000))
}

# serving_line LOG : the "CA serving ..." log line (timestamped), if the server printed it.
serving_line() {
  grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z? .*CA serving .*agents=[^ ]+ \(port [0-9]+\).* http=[^ ]+ \(port [0-9]+\)' \
    -- "$1" | head -n 1 || true
}

# check_log_clean LOG : no sanitizer report in a server's log.
check_log_clean() {
  if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' -- "$1"; then
    fail "sanitizer report in the server log $1"$'\n'"$(_show "$1")"
  fi
}

# start_server LOG ARGS... : run `meshid ca serve ARGS` in the background, its stderr in
# LOG, and wait (up to START_TIMEOUT) for its "CA serving" line. Sets SRV_PID, SRV_LOG,
# GRPC_PORT, HTTP_PORT.
start_server() {
  SRV_LOG=$1
  shift
  ASSERT_DETAIL="meshid ca serve $*"
  : >"$SRV_LOG"
  "$MESHID" ca serve "$@" </dev/null >"$SRV_LOG.stdout" 2>"$SRV_LOG" &
  SRV_PID=$!
  SERVER_PIDS+=("$SRV_PID")
  local deadline=$((SECONDS + START_TIMEOUT)) line=""
  while :; do
    line=$(serving_line "$SRV_LOG")
    [[ -z $line ]] || break
    if ! kill -0 "$SRV_PID" 2>/dev/null; then
      local rc=0
      wait "$SRV_PID" || rc=$?
      forget_pid "$SRV_PID"
      fail "meshid ca serve exited ($rc) before serving"$'\n'"$(_show "$SRV_LOG")"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      fail "meshid ca serve did not log \"CA serving\" within ${START_TIMEOUT}s"$'\n'"$(_show "$SRV_LOG")"
      return 0
    fi
    sleep 0.05
  done
  read -r GRPC_PORT HTTP_PORT < <(sed -nE \
    's/.* agents=[^ ]+ \(port ([0-9]+)\).* http=[^ ]+ \(port ([0-9]+)\).*/\1 \2/p' <<<"$line")
  [[ $GRPC_PORT =~ ^[0-9]+$ && $HTTP_PORT =~ ^[0-9]+$ && $GRPC_PORT != 0 && $HTTP_PORT != 0 ]] ||
    fail "could not read the ports from: $line"
  # The log line comes when the listeners are up; /readyz must agree promptly.
  local code=""
  deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/readyz" || true)
    [[ $code != 200 ]] || break
    sleep 0.05
  done
  [[ $code == 200 ]] || fail "/readyz answered '$code', not 200, within ${START_TIMEOUT}s"
  ASSERT_DETAIL=""
}

# stop_server PID LOG : SIGTERM; the server must exit 0 within STOP_TIMEOUT seconds.
# Sets STOP_MS (how long it took).
stop_server() {
  local pid=$1 log=$2 start rc=0
  ASSERT_DETAIL="SIGTERM to meshid ca serve (pid $pid)"
  start=$(now_ms)
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if (($(now_ms) - start > STOP_TIMEOUT * 1000)); then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      forget_pid "$pid"
      fail "the server did not exit within ${STOP_TIMEOUT}s of SIGTERM"$'\n'"$(_show "$log")"
      return 0
    fi
    sleep 0.05
  done
  wait "$pid" || rc=$?
  STOP_MS=$(($(now_ms) - start))
  forget_pid "$pid"
  expect_eq 0 "$rc" "exit status of the server after SIGTERM"
  check_log_clean "$log"
  ASSERT_DETAIL=""
}

# serve_expect_exit CODE ARGS... : `meshid ca serve ARGS` must exit CODE without ever
# serving. Run in the background so that a server that starts anyway fails the test
# at once instead of hanging it. Sets RC, OUT_FILE, ERR_FILE like `run`.
serve_expect_exit() {
  local want=$1
  shift
  ASSERT_DETAIL="meshid ca serve $*"
  "$MESHID" ca serve "$@" </dev/null >"$OUT_FILE" 2>"$ERR_FILE" &
  local pid=$! deadline=$((SECONDS + START_TIMEOUT))
  SERVER_PIDS+=("$pid")
  while kill -0 "$pid" 2>/dev/null; do
    if [[ -n $(serving_line "$ERR_FILE") ]] || ((SECONDS >= deadline)); then
      kill -TERM "$pid" 2>/dev/null || true
      local i
      for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      forget_pid "$pid"
      fail "meshid ca serve started (or hung) although it should have exited with $want"$'\n'"  stderr:"$'\n'"$(_show "$ERR_FILE")"
      RC=-1
      return 0
    fi
    sleep 0.05
  done
  RC=0
  wait "$pid" || RC=$?
  forget_pid "$pid"
  _after_run meshid ca serve "$@"
  if [[ $RC != "$want" ]]; then
    fail "exit status: expected $want, got $RC"$'\n'"  stderr:"$'\n'"$(_show "$ERR_FILE")"
  fi
}

# expect_error_line FILE TEXT... : the lines of a server's stderr that are not log lines
# (log lines start with a timestamp) are exactly one, "meshid: ...", containing each TEXT.
expect_error_line() {
  local file=$1 lines
  shift
  lines=$(grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' -- "$file" || true)
  if [[ -z $lines || $(printf '%s\n' "$lines" | wc -l) != 1 || $lines != "meshid: "* ]]; then
    fail "expected exactly one error line starting \"meshid: \" in $(_label "$file")"$'\n'"  got:"$'\n'"$(_show "$file")"
    return 0
  fi
  local t
  for t in "$@"; do
    [[ $lines == *"$t"* ]] || fail "expected the error line to contain: $t"$'\n'"  got: $lines"
  done
}

# expect_error CMD... : exit 2, nothing on stdout, one line "meshid: ..." on stderr.
expect_error() {
  expect_exit 2 "$@"
  expect_empty "$OUT_FILE"
  expect_one_line "$ERR_FILE"
  expect_line_starting "$ERR_FILE" "meshid: "
}

# expect_json_empty FILE KEY : FILE is the JSON object {"KEY": []} (whitespace aside).
expect_json_empty() {
  local got
  got=$(tr -d ' \t\r\n' <"$1")
  expect_eq "{\"$2\":[]}" "$got" "JSON output"
}

# metric_value FILE NAME LABEL... : the value of the sample of NAME that carries every
# LABEL (e.g. 'level="root"'), in any order; empty if there is none.
metric_value() {
  local file=$1 name=$2
  shift 2
  awk -v name="$name" -v labels="$*" '
    BEGIN { n = split(labels, want, " ") }
    /^#/ { next }
    {
      series = $1
      base = series; sub(/\{.*$/, "", base)
      if (base != name) next
      for (i = 1; i <= n; i++) if (index(series, want[i]) == 0) next
      print $2; exit
    }' "$file"
}

# expect_metric FILE NAME [LABEL...] : some sample of NAME carries every LABEL.
expect_metric() {
  local file=$1 name=$2
  shift 2
  [[ -n $(metric_value "$file" "$name" "$@") ]] ||
    fail "no sample of $name${*:+ with $*} in /metrics"$'\n'"$(grep -F -- "$name" "$file" | head -n 10 | sed 's/^/    | /' || true)"
}

# http_get PORT PATH OUT : GET over plain HTTP; echoes the status code, body in OUT.
http_get() {
  curl -s --max-time 5 -o "$3" -w '%{http_code}' "http://127.0.0.1:$1$2" || true
}

# cert_not_after_epoch CERT : notAfter of CERT in Unix seconds.
cert_not_after_epoch() {
  date -u -d "$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')" +%s
}

# ---------------------------------------------------------------------------
# Material: an upstream from `meshid pki init`, and a config writer.
# ---------------------------------------------------------------------------
"$MESHID" pki init --trust-domain example.org --out "$W/PKI" >/dev/null 2>&1 ||
  fail "setup: pki init failed"
UPSTREAM=$W/PKI/intermediate
# Short paths: a unix socket path must fit in 108 bytes.
S=$TEST_TMP/s
CFG=$W/cfg
mkdir -p "$S" "$CFG"

# write_config FILE NAME [YAML_LINE...] : a config whose admin socket is $S/NAME.sock
# and data_dir $W/data-NAME, ports chosen by the kernel, upstream $UPSTREAM; further
# lines are appended (later keys of the same name are not used: pass them via sed).
write_config() {
  local file=$1 name=$2
  shift 2
  {
    printf 'trust_domain: example.org\n'
    printf 'listen: 127.0.0.1:0\n'
    printf 'http_listen: 127.0.0.1:0\n'
    printf 'admin_socket: %s\n' "$S/$name.sock"
    printf 'data_dir: %s\n' "$W/data-$name"
    printf 'upstream_dir: %s\n' "$UPSTREAM"
    local l
    for l in "$@"; do printf '%s\n' "$l"; done
  } >"$file"
}

# ===========================================================================
test_case "ca config: prints every configuration key"
expect_exit 0 "$MESHID" ca config
for key in trust_domain listen http_listen admin_socket data_dir upstream_dir store sqlite \
  issuing_ca ttl key_type svid default_ttl max_ttl node_svid_ttl; do
  expect_match "$OUT_FILE" "(^|[^a-z_])$key:"
done
cp "$OUT_FILE" "$W/default-config.yaml"

# ===========================================================================
# config_error NAME TEXT... : serve $CFG/NAME.yaml; exit 2, exactly one stderr line
# "meshid: <file>: ..." containing each TEXT; no admin socket, no data_dir.
config_error() {
  local name=$1
  shift
  rm -rf -- "$S/bad.sock" "$W/data-bad"
  serve_expect_exit 2 --config "$CFG/$name.yaml"
  expect_empty "$OUT_FILE"
  expect_one_line "$ERR_FILE"
  expect_line_starting "$ERR_FILE" "meshid: $CFG/$name.yaml"
  local t
  for t in "$@"; do expect_contains "$ERR_FILE" "$t"; done
  expect_no_path "$S/bad.sock"
  expect_no_path "$W/data-bad"
}

test_case "ca serve: unknown top-level key"
write_config "$CFG/unknown-key.yaml" bad 'listne: 127.0.0.1:1'
config_error unknown-key listne

test_case "ca serve: unknown nested key"
write_config "$CFG/unknown-nested.yaml" bad 'svid: {defualt_ttl: 1h}'
config_error unknown-nested defualt_ttl

test_case "ca serve: bad duration"
write_config "$CFG/bad-duration.yaml" bad 'svid: {max_ttl: 1x}'
config_error bad-duration max_ttl 1x

test_case "ca serve: svid.default_ttl longer than svid.max_ttl"
write_config "$CFG/ttl-order.yaml" bad 'svid:' '  default_ttl: 2h' '  max_ttl: 1h'
config_error ttl-order default_ttl max_ttl

test_case "ca serve: trust_domain missing"
write_config "$CFG/no-td.yaml" bad
sed -i '/^trust_domain:/d' "$CFG/no-td.yaml"
config_error no-td trust_domain

test_case "ca serve: invalid trust_domain"
write_config "$CFG/bad-td.yaml" bad
sed -i 's/^trust_domain: .*/trust_domain: Example.org/' "$CFG/bad-td.yaml"
config_error bad-td trust_domain Example.org

test_case "ca serve: empty file"
: >"$CFG/empty.yaml"
config_error empty

test_case "ca serve: not YAML"
printf 'trust_domain: [example.org\nlisten: {\n' >"$CFG/not-yaml.yaml"
config_error not-yaml

test_case "ca serve: bad issuing_ca.key_type"
write_config "$CFG/bad-key-type.yaml" bad 'issuing_ca: {key_type: dsa-1024}'
config_error bad-key-type key_type dsa-1024

test_case "ca serve: missing config file"
config_error does-not-exist

# ===========================================================================
test_case "ca serve: the root's private key in upstream_dir is refused"
ROOTKEY_UP=$W/up-rootkey/intermediate
mkdir -p "$ROOTKEY_UP"
cp -p "$UPSTREAM"/* "$ROOTKEY_UP/"
cp -p "$W/PKI/root/root.key" "$ROOTKEY_UP/root.key"
write_config "$CFG/rootkey.yaml" rootkey
sed -i "s#^upstream_dir: .*#upstream_dir: $ROOTKEY_UP#" "$CFG/rootkey.yaml"
serve_expect_exit 2 --config "$CFG/rootkey.yaml"
expect_error_line "$ERR_FILE" "--allow-root-key-online"
expect_contains_i "$ERR_FILE" "root's private key"
expect_no_path "$S/rootkey.sock"

test_case "ca serve --allow-root-key-online: starts, with a warning"
start_server "$W/rootkey.log" --config "$CFG/rootkey.yaml" --allow-root-key-online
expect_match "$SRV_LOG" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+ warn[a-z]* .*private key.*--allow-root-key-online'
stop_server "$SRV_PID" "$SRV_LOG"

# ===========================================================================
test_case "ca serve: upstream_dir is a root directory"
write_config "$CFG/up-root.yaml" bad
sed -i "s#^upstream_dir: .*#upstream_dir: $W/PKI/root#" "$CFG/up-root.yaml"
serve_expect_exit 2 --config "$CFG/up-root.yaml"
expect_error_line "$ERR_FILE" "upstream_dir" "$W/PKI/root"
expect_no_path "$S/bad.sock"

test_case "ca serve: upstream_dir does not exist"
write_config "$CFG/up-missing.yaml" bad
sed -i "s#^upstream_dir: .*#upstream_dir: $W/PKI/nope#" "$CFG/up-missing.yaml"
serve_expect_exit 2 --config "$CFG/up-missing.yaml"
expect_error_line "$ERR_FILE" "upstream_dir" "$W/PKI/nope"
expect_no_path "$S/bad.sock"

# ===========================================================================
# The main server for the rest of the script.
write_config "$CFG/main.yaml" main
MAIN_SOCK=$S/main.sock
MAIN_DATA=$W/data-main
A=(--admin-socket "$MAIN_SOCK")

test_case "ca serve: starts; /healthz and /readyz"
start_server "$W/main-1.log" --config "$CFG/main.yaml"
MAIN_PID=$SRV_PID
MAIN_LOG=$SRV_LOG
ASSERT_DETAIL="GET /healthz"
expect_eq 200 "$(http_get "$HTTP_PORT" /healthz "$W/healthz.body")" "/healthz status"
expect_eq ok "$(tr -d '\r\n' <"$W/healthz.body")" "/healthz body"
ASSERT_DETAIL="GET /readyz"
expect_eq 200 "$(http_get "$HTTP_PORT" /readyz "$W/readyz.body")" "/readyz status"
FIRST_SERIAL=$(sed -nE 's/.*minted issuing CA serial=([0-9A-Fa-f:]+).*/\1/p' "$MAIN_LOG" | head -n 1)
[[ -n $FIRST_SERIAL ]] ||
  fail "the first start did not log \"minted issuing CA serial=...\""$'\n'"$(_show "$MAIN_LOG")"

test_case "/metrics: promtool-clean, with the documented series"
ASSERT_DETAIL="GET /metrics"
expect_eq 200 "$(http_get "$HTTP_PORT" /metrics "$W/metrics.txt")" "/metrics status"
ASSERT_DETAIL="promtool check metrics"
promtool check metrics <"$W/metrics.txt" >"$W/promtool.out" 2>&1 && prc=0 || prc=$?
expect_eq 0 "$prc" "promtool check metrics exit status (output: $(tr '\n' ' ' <"$W/promtool.out"))"
expect_empty "$W/promtool.out"
ASSERT_DETAIL=""
M=$W/metrics.txt
for level in root intermediate issuing; do
  expect_metric "$M" meshid_ca_certificate_not_after_seconds "level=\"$level\""
done
# The root's and the intermediate's notAfter are those of the upstream's certificates.
root_na=$(metric_value "$M" meshid_ca_certificate_not_after_seconds 'level="root"')
int_na=$(metric_value "$M" meshid_ca_certificate_not_after_seconds 'level="intermediate"')
iss_na=$(metric_value "$M" meshid_ca_certificate_not_after_seconds 'level="issuing"')
expect_eq "$(cert_not_after_epoch "$W/PKI/root/root.crt")" "$(awk -v v="$root_na" 'BEGIN { printf "%d", v }')" \
  "root notAfter in /metrics"
expect_eq "$(cert_not_after_epoch "$UPSTREAM/ca.crt")" "$(awk -v v="$int_na" 'BEGIN { printf "%d", v }')" \
  "intermediate notAfter in /metrics"
awk -v v="$iss_na" -v now="$(date +%s)" -v limit="$int_na" 'BEGIN { exit !(v > now && v <= limit) }' ||
  fail "issuing notAfter $iss_na is not between now and the intermediate's notAfter $int_na"
expect_metric "$M" meshid_ca_svids_issued_total
expect_metric "$M" meshid_ca_sign_duration_seconds_bucket 'le="+Inf"'
expect_match "$M" '^# TYPE meshid_ca_sign_duration_seconds histogram$'
# Two changes on a first start: the upstream's root, then the first JWT signing key.
expect_eq 2 "$(metric_value "$M" meshid_ca_bundle_sequence)" "meshid_ca_bundle_sequence"
expect_metric "$M" meshid_ca_nodes
expect_metric "$M" meshid_ca_entries
expect_eq 1 "$(metric_value "$M" meshid_ca_issuing_slot_state 'slot="A"' 'state="active"')" \
  'meshid_ca_issuing_slot_state{slot="A",state="active"}'

test_case "file modes: admin socket, data_dir, database, keys"
[[ -S $MAIN_SOCK ]] || fail "$MAIN_SOCK is not a socket"
expect_mode "$MAIN_SOCK" 600
expect_mode "$MAIN_DATA" 700
expect_file "$MAIN_DATA/meshid.db"
for f in "$MAIN_DATA"/meshid.db "$MAIN_DATA"/meshid.db-wal "$MAIN_DATA"/meshid.db-shm; do
  [[ ! -e $f ]] || expect_mode "$f" 600
done
expect_dir "$MAIN_DATA/keys"
nkeys=0
for f in "$MAIN_DATA"/keys/*; do
  [[ -f $f ]] || continue
  nkeys=$((nkeys + 1))
  expect_mode "$f" 600
done
((nkeys > 0)) || fail "no key file under $MAIN_DATA/keys"
# Every file under data_dir that holds a private key (keys/, the server's TLS identity).
while IFS= read -r f; do
  expect_mode "$f" 600
done < <(grep -rlF --exclude="meshid.db*" -- "PRIVATE KEY" "$MAIN_DATA" || true)

# ===========================================================================
test_case "token create: only the token on stdout"
expect_exit 0 "$MESHID" token create "${A[@]}"
expect_one_line "$OUT_FILE"
expect_match "$OUT_FILE" '^meshid-[A-Za-z0-9_-]{43}$'
tok1=$(cat "$OUT_FILE")
expect_exit 0 "$MESHID" token create "${A[@]}" --node node1 --ttl 10m
expect_one_line "$OUT_FILE"
expect_match "$OUT_FILE" '^meshid-[A-Za-z0-9_-]{43}$'
expect_ne "$tok1" "$(cat "$OUT_FILE")" "two tokens"

test_case "token create -o json: token and expires_at"
before=$(date +%s)
expect_exit 0 "$MESHID" token create "${A[@]}" --ttl 10m -o json
expect_match "$OUT_FILE" '"token": *"meshid-[A-Za-z0-9_-]{43}"'
expect_match "$OUT_FILE" '"expires_at": *"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+Z"'
exp=$(sed -nE 's/.*"expires_at": *"([^"]+)".*/\1/p' "$OUT_FILE" | head -n 1)
exp_s=$(date -u -d "$exp" +%s 2>/dev/null || echo 0)
after=$(date +%s)
((exp_s >= before + 600 - 1 && exp_s <= after + 600 + 1)) ||
  fail "expires_at $exp is not 10m from now"

test_case "token create: bad --ttl, bad --node, wrong socket"
expect_error "$MESHID" token create "${A[@]}" --ttl 0s
expect_error "$MESHID" token create "${A[@]}" --node 'bad name!'
expect_contains "$ERR_FILE" "bad name!"
expect_error "$MESHID" token create --admin-socket "$S/nosuch.sock"
expect_contains "$ERR_FILE" "$S/nosuch.sock"
expect_contains "$ERR_FILE" "meshid ca serve"

# ===========================================================================
test_case "node list / evict on a fresh server"
expect_exit 0 "$MESHID" node list "${A[@]}"
expect_contains_i "$OUT_FILE" "no nodes"
expect_exit 0 "$MESHID" node list "${A[@]}" -o json
expect_json_empty "$OUT_FILE" nodes
expect_error "$MESHID" node evict nosuch "${A[@]}"
expect_contains "$ERR_FILE" "node list"

# ===========================================================================
TD=spiffe://example.org
PARENT=$TD/meshid/node/node1
WEB=$TD/ns/default/sa/web

# entry_error TEXT ARGS... : `entry create ARGS` fails (exit 2, one line) naming TEXT.
entry_error() {
  local text=$1
  shift
  expect_error "$MESHID" entry create "${A[@]}" "$@"
  expect_contains "$ERR_FILE" "$text"
}

test_case "entry create: the parent node does not exist"
entry_error node1 --spiffe-id "$WEB" --parent-id "$PARENT" --selector unix:uid:1000
expect_contains "$ERR_FILE" "parent"

test_case "entry create: the parent is not a node ID"
entry_error "$TD/ns/default/sa/db" --spiffe-id "$WEB" --parent-id "$TD/ns/default/sa/db" \
  --selector unix:uid:1000

test_case "entry create: SPIFFE ID of another trust domain"
entry_error other.org --spiffe-id spiffe://other.org/ns/default/sa/web --parent-id "$PARENT" \
  --selector unix:uid:1000

test_case "entry create: SPIFFE ID under /meshid/ (reserved)"
entry_error /meshid/ --spiffe-id "$TD/meshid/web" --parent-id "$PARENT" --selector unix:uid:1000
expect_contains_i "$ERR_FILE" reserved

test_case "entry create: SPIFFE ID without a path"
entry_error path --spiffe-id "$TD" --parent-id "$PARENT" --selector unix:uid:1000

# The checks below name the offending value; the parent does not exist either, so a
# server that reports that first (instead of the bad argument) fails them.
test_case "entry create: bad selectors"
for sel in unix:uid:abc unix:sha256:XYZ unix:path:relative k8s:ns:default unix:bogus:1; do
  entry_error "$sel" --spiffe-id "$WEB" --parent-id "$PARENT" --selector unix:gid:1000 \
    --selector "$sel"
done

test_case "entry create: TTL above svid.max_ttl"
entry_error max_ttl --spiffe-id "$WEB" --parent-id "$PARENT" --selector unix:uid:1000 --ttl 25h

test_case "entry create: invalid --dns"
entry_error 'bad_dns!.example.org' --spiffe-id "$WEB" --parent-id "$PARENT" \
  --selector unix:uid:1000 --dns web.example.org --dns 'bad_dns!.example.org'

test_case "entry list / show / delete on an empty server"
expect_exit 0 "$MESHID" entry list "${A[@]}"
expect_contains_i "$OUT_FILE" "no entries"
expect_exit 0 "$MESHID" entry list "${A[@]}" -o json
expect_json_empty "$OUT_FILE" entries
expect_error "$MESHID" entry show nosuch "${A[@]}"
expect_contains "$ERR_FILE" "entry list"
expect_error "$MESHID" entry delete nosuch "${A[@]}"
expect_contains "$ERR_FILE" "entry list"

test_case "nothing was created by the failed commands"
expect_eq 200 "$(http_get "$HTTP_PORT" /metrics "$M")" "/metrics status"
expect_eq 0 "$(metric_value "$M" meshid_ca_entries)" "meshid_ca_entries"
expect_eq 0 "$(metric_value "$M" meshid_ca_nodes 'state="active"')" 'meshid_ca_nodes{state="active"}'

# ===========================================================================
test_case "SIGTERM: exit 0 within ${STOP_TIMEOUT}s, admin socket removed"
stop_server "$MAIN_PID" "$MAIN_LOG"
expect_no_path "$MAIN_SOCK"
echo "   (stopped in ${STOP_MS} ms)"

test_case "restart on the same data_dir: resumes the same issuing CA"
start_server "$W/main-2.log" --config "$CFG/main.yaml"
MAIN_PID=$SRV_PID
MAIN_LOG=$SRV_LOG
expect_contains "$MAIN_LOG" "resuming with issuing CA serial=$FIRST_SERIAL"
expect_not_contains "$MAIN_LOG" "minted issuing CA"
expect_exit 0 "$MESHID" node list "${A[@]}" -o json
expect_json_empty "$OUT_FILE" nodes

# ===========================================================================
test_case "a second server cannot take the first's HTTP port"
write_config "$CFG/second-http.yaml" second-http
sed -i "s#^http_listen: .*#http_listen: 127.0.0.1:$HTTP_PORT#" "$CFG/second-http.yaml"
serve_expect_exit 2 --config "$CFG/second-http.yaml"
expect_error_line "$ERR_FILE" "127.0.0.1:$HTTP_PORT"
expect_no_path "$S/second-http.sock"

test_case "a second server cannot take the first's gRPC port"
write_config "$CFG/second-grpc.yaml" second-grpc
sed -i "s#^listen: .*#listen: 127.0.0.1:$GRPC_PORT#" "$CFG/second-grpc.yaml"
serve_expect_exit 2 --config "$CFG/second-grpc.yaml"
expect_error_line "$ERR_FILE" "127.0.0.1:$GRPC_PORT"
expect_no_path "$S/second-grpc.sock"

test_case "the first server is unharmed"
expect_eq 200 "$(http_get "$HTTP_PORT" /readyz "$W/readyz.body")" "/readyz status"
expect_exit 0 "$MESHID" entry list "${A[@]}"
stop_server "$MAIN_PID" "$MAIN_LOG"
expect_no_path "$MAIN_SOCK"

pass_all
