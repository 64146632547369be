#!/usr/bin/env bash
# bench/agent_scale/run.sh — one `meshid agent run` holding ENTRIES SVIDs (TTL 1 h) for
# STREAMS workload processes (each under its own uid, ENTRIES/STREAMS identities each), all
# with FetchX509SVID open. Reports the agent's resident memory, its CPU over a renewal cycle
# (the measured cost of issuing every SVID once plus the measured idle rate, spread over
# the 30 minutes between renewals), and how long a bundle change takes to reach every open
# stream (PUSHES changes, each adding a root, a second apart; each one reported).
# Goals (issue 4): under 1 % of a core in steady state; push under 100 ms.
#
# Usage: sudo bench/agent_scale/run.sh     (ENTRIES=10000 STREAMS=1000 IDLE=30 PUSHES=2 by default)
#        AGENT_CORES=0 CLIENT_CORES=1 ...    pins the agent and the client (taskset lists)
set -euo pipefail
cd "$(dirname "$0")/../.."

ENTRIES=${ENTRIES:-10000}
STREAMS=${STREAMS:-1000}
IDLE=${IDLE:-30}
PUSHES=${PUSHES:-2}
READERS=${READERS:-2}  # client threads reading the streams (the machine has 2 cores)
pin_agent=()
pin_client=()
[ -n "${AGENT_CORES:-}" ] && pin_agent=(taskset -c "$AGENT_CORES")
[ -n "${CLIENT_CORES:-}" ] && pin_client=(taskset -c "$CLIENT_CORES")
[ "$(id -u)" -eq 0 ] || { echo "run as root: the workloads run under $STREAMS uids" >&2; exit 2; }

echo "building the release preset..." >&2
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
meshid=$PWD/build/release/apps/meshid/meshid
client=$PWD/build/release/bench/agent_scale/agent_scale_client

work=$(mktemp -d /tmp/meshid-agent-bench.XXXXXX)
chmod 755 "$work"  # the workload processes reach the socket inside it
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# wait_for FILE TEXT: until a process's log says TEXT.
wait_for() {
  for _ in $(seq 1 300); do
    grep -q "$2" "$1" && return 0
    sleep 0.05
  done
  echo "no \"$2\" in $1:" >&2
  cat "$1" >&2
  exit 1
}

"$meshid" pki init --trust-domain example.org --out "$work/pki" >/dev/null 2>&1
# Roots for the pushes, one bundle change each.
new_roots=()
for i in $(seq 1 "$PUSHES"); do
  "$meshid" pki init --trust-domain example.org --out "$work/new$i" >/dev/null 2>&1
  new_roots+=(--new-root "$work/new$i/root/root.crt")
done
mv "$work/pki/root" "$work/offline-root"
cat > "$work/ca.yaml" <<YAML
trust_domain: example.org
listen: 127.0.0.1:0
http_listen: 127.0.0.1:0
admin_socket: $work/run/admin.sock
data_dir: $work/ca-data
upstream_dir: $work/pki/intermediate
YAML
"$meshid" ca serve --config "$work/ca.yaml" 2>"$work/ca.log" &
pids+=($!)
wait_for "$work/ca.log" "CA serving"
port=$(sed -n 's/.*CA serving .*agents=[^ ]* (port \([0-9]*\)).*/\1/p' "$work/ca.log")
token=$("$meshid" token create --node node1 --admin-socket "$work/run/admin.sock")

cat > "$work/agent.yaml" <<YAML
trust_domain: example.org
ca_address: 127.0.0.1:$port
data_dir: $work/agent-data
join_token: $token
trust_bundle: $work/pki/intermediate/bundle.pem
socket_path: $work/agent.sock
http_listen: 127.0.0.1:0
node_name: node1
YAML
"${pin_agent[@]}" "$meshid" agent run --config "$work/agent.yaml" 2>"$work/agent.log" &
agent_pid=$!
pids+=($agent_pid)
wait_for "$work/agent.log" "agent running"
http=$(sed -n 's/.*metrics on port \([0-9]*\).*/\1/p' "$work/agent.log")

echo "agent: $ENTRIES entries for $STREAMS workload processes, then ${IDLE}s idle, then $PUSHES bundle changes..." >&2
# The client exits non-zero when a push misses a stream: report what it measured anyway.
client_rc=0
result=$("${pin_client[@]}" "$client" --socket "$work/agent.sock" --admin-socket "$work/run/admin.sock" \
  "${new_roots[@]}" --metrics-url "http://127.0.0.1:$http/metrics" \
  --agent-pid "$agent_pid" --entries "$ENTRIES" --streams "$STREAMS" --idle-seconds "$IDLE" --reader-threads "$READERS") || client_rc=$?
# get KEY [JSON]: a number from the client's report (or from JSON, one of its pushes).
get() { sed -n "s/.*\"$1\": \([-0-9.e]*\).*/\1/p" <<<"${2:-$result}"; }

cat <<REPORT
meshid agent run: $(get entries) SVIDs (TTL 1h) for $(get streams) open FetchX509SVID streams
  resident memory                  $(printf "%.0f" "$(get agent_rss_mib)") MiB
  issuing all SVIDs                $(printf "%.1f" "$(get issue_all_s)") s wall, $(printf "%.2f" "$(get issue_all_agent_cpu_s)") s agent CPU
  idle CPU (streams open)          $(printf "%.3f" "$(get idle_cpu_percent)") % of a core over $(get idle_seconds) s
  CPU over a renewal cycle (30 m)  $(printf "%.3f" "$(get renewal_cycle_cpu_percent)") % of a core   (goal < 1 %)
REPORT
# One line per push: the first comes after the idle window, each next one a second after.
n=0
{ grep -o '{"streams_reached[^}]*}' <<<"$result" || true; } | while read -r push; do
  n=$((n + 1))
  printf '  bundle change %d -> all streams   first %.1f ms, p50 %.1f ms, p90 %.1f ms, max %.1f ms   (goal < 100 ms)\n' \
    "$n" "$(get min_ms "$push")" "$(get p50_ms "$push")" "$(get p90_ms "$push")" "$(get max_ms "$push")"
  printf '    agent writing to the streams   %.1f ms; the client reading them: %.1f ms CPU, %d page faults\n' \
    "$(get agent_write_ms "$push")" "$(get client_cpu_ms "$push")" "$(get client_page_faults "$push")"
done
cat <<REPORT
raw: $result
REPORT
if [ "$client_rc" -ne 0 ]; then
  echo "the client failed (exit $client_rc); its report, if any, is above" >&2
  exit "$client_rc"
fi
