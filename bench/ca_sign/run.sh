#!/usr/bin/env bash
# bench/ca_sign/run.sh — SVID signing throughput of `meshid ca serve` on one core, beside
# the machine's ECDSA P-256 bound measured in the same run.
#
# The server is pinned to core 0 and the load generator (a separate process, real gRPC+TLS,
# mTLS with a node SVID, every SVID recorded in SQLite before it is returned) to core 1.
# One-core bound: each SVID costs one ECDSA verify (the CSR) and one ECDSA sign (the leaf),
# so bound = 1 / (1/sign + 1/verify) with openssl speed's rates on core 0 (the faster of a
# measurement before and one after the load). The server's CPU
# time per SVID is reported too: unlike throughput, it does not depend on how much of the
# core the VM was given during the run.
#
# Usage: bench/ca_sign/run.sh            (STREAMS=8 BATCH=16 DURATION=10 by default)
#        STREAMS=2 BATCH=256 bench/ca_sign/run.sh      fewer, larger calls (an agent sends up
#                                                       to 500 CSRs per call)
#        PERF_DATA=/tmp/ca.perf bench/ca_sign/run.sh   profiles the server (perf, linux-perf;
#                                                       PERF_FREQ samples/s, default 199)
set -euo pipefail
cd "$(dirname "$0")/../.."

STREAMS=${STREAMS:-8}
BATCH=${BATCH:-16}
DURATION=${DURATION:-10}
SERVER_CORE=${SERVER_CORE:-0}
CLIENT_CORE=${CLIENT_CORE:-1}

echo "building the release preset..." >&2
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
meshid=$PWD/build/release/apps/meshid/meshid
client=$PWD/build/release/bench/ca_sign/ca_sign_client

work=$(mktemp -d /tmp/meshid-bench.XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# speed prints "sign verify" rates; measured before and after the load, the faster run is
# the bound (on this class of VM one 3 s run can come out 20 % slow, which would flatter us).
speed() {
  echo "measuring openssl speed ecdsap256 on core $SERVER_CORE (3 s)..." >&2
  taskset -c "$SERVER_CORE" openssl speed -seconds 3 ecdsap256 2>/dev/null |
    awk '/ecdsa \(nistp256\)/ { print $(NF-1), $NF }'
}
bound_of() { awk -v s="$1" -v v="$2" 'BEGIN { printf "%.0f", 1 / (1/s + 1/v) }'; }
read -r sign verify < <(speed)
bound=$(bound_of "$sign" "$verify")

"$meshid" pki init --trust-domain example.org --out "$work/pki" >/dev/null 2>&1
mv "$work/pki/root" "$work/offline-root"
cat > "$work/ca.yaml" <<YAML
trust_domain: example.org
listen: 127.0.0.1:0
http_listen: 127.0.0.1:0
admin_socket: $work/run/admin.sock
data_dir: $work/data
upstream_dir: $work/pki/intermediate
YAML
profiler=()
[ -n "${PERF_DATA:-}" ] && profiler=(perf record -q --call-graph dwarf,32768 -F ${PERF_FREQ:-199} -o "$PERF_DATA" --)
taskset -c "$SERVER_CORE" "${profiler[@]}" "$meshid" ca serve --config "$work/ca.yaml" \
  2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 1 300); do
  grep -q "CA serving" "$work/serve.log" && break
  sleep 0.05
done
port=$(sed -n 's/.*CA serving .*agents=[^ ]* (port \([0-9]*\)).*/\1/p' "$work/serve.log")
[ -n "$port" ] || { echo "the CA did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

# The server's CPU time and core 0's steal time around the load: CPU per SVID does not depend
# on how much of the core the VM got, so noisy runs can be told apart.
meshid_pid=$(pgrep -n -f -- "ca serve --config $work/ca.yaml")
server_ticks() { awk '{ print $14 + $15 }' "/proc/$meshid_pid/stat"; }
core_ticks() { awk -v c="cpu$SERVER_CORE" '$1 == c { print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $9 }' /proc/stat; }
ticks_before=$(server_ticks)
read -r core_before steal_before < <(core_ticks)

echo "load: $STREAMS callers x batches of $BATCH for ${DURATION}s on core $CLIENT_CORE..." >&2
result=$(taskset -c "$CLIENT_CORE" "$client" --address "127.0.0.1:$port" \
  --bundle "$work/pki/intermediate/bundle.pem" --admin-socket "$work/run/admin.sock" \
  --streams "$STREAMS" --batch "$BATCH" --seconds "$DURATION")
ticks_after=$(server_ticks)
read -r core_after steal_after < <(core_ticks)
read -r sign2 verify2 < <(speed)
bound2=$(bound_of "$sign2" "$verify2")
speeds="sign ${sign}/s, verify ${verify}/s before; sign ${sign2}/s, verify ${verify2}/s after"
if [ "$bound2" -gt "$bound" ]; then bound=$bound2; fi
rate=$(sed -n 's/.*"svids_per_second": \([0-9.]*\).*/\1/p' <<<"$result")
p50=$(sed -n 's/.*"call_p50_ms": \([0-9.]*\).*/\1/p' <<<"$result")
p99=$(sed -n 's/.*"call_p99_ms": \([0-9.]*\).*/\1/p' <<<"$result")
ratio=$(awk -v r="$rate" -v b="$bound" 'BEGIN { printf "%.0f", 100 * r / b }')
recorded=$(sqlite3 "$work/data/meshid.db" "SELECT count(*) FROM issuances WHERE kind='workload'" 2>/dev/null || echo "?")
hz=$(getconf CLK_TCK)
cpu=$(awk -v t=$((ticks_after - ticks_before)) -v c=$((core_after - core_before)) \
  -v s=$((steal_after - steal_before)) -v n="$recorded" -v hz="$hz" -v b="$bound" 'BEGIN {
    if (n + 0 <= 0 || t <= 0 || c <= 0) {
      printf "not measured (%s records counted, %d CPU ticks: is the sqlite3 tool installed?)", n, t
      exit
    }
    us = 1e6 * t / hz / n
    printf "busy %.0f%%, steal %.0f%% of core time; %.1f us of CPU per SVID, %.0f%% of the bound",
      100 * t / c, 100 * s / c, us, 100 * (1e6 / b) / us }')

cat <<REPORT
openssl speed ecdsap256 (core $SERVER_CORE): $speeds -> one-core bound ${bound} SVIDs/s
meshid ca serve (core $SERVER_CORE): $(printf "%.0f" "$rate") SVIDs/s = ${ratio}% of the bound; per call of $BATCH: p50 ${p50} ms, p99 ${p99} ms
server CPU on core $SERVER_CORE: $cpu
issuance records in the store: $recorded
raw: $result
REPORT
