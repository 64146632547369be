#!/usr/bin/env bash
# The meshid tour: builds a three-tier CA hierarchy (root → environment CA → intermediate)
# offline, issues a workload SVID under it, shows what an operator sees with
# `meshid x509 inspect`, `meshid x509 verify` and `meshid check`, then runs the CA server on
# the intermediate, a node agent attested to it, and fetches a workload SVID over the SPIFFE
# Workload API.
#
# Usage: scripts/tour.sh MESHID_BINARY WORKDIR
set -euo pipefail

meshid=$(realpath "$1")
work=$2
id=spiffe://example.org/ns/default/sa/web

rm -rf "$work"
mkdir -p "$work"
cd "$work"

run() {
  echo
  echo "\$ meshid $*"
  "$meshid" "$@"
}

# run_check EXPECTED ARGS... runs `meshid check` and stops the tour unless it exits with
# EXPECTED (0 all pass, 1 warnings, 2 failures).
run_check() {
  local expected=$1 rc=0
  shift
  run "$@" || rc=$?
  echo "(exit status $rc)"
  [ "$rc" -eq "$expected" ] || { echo "tour: expected exit $expected, got $rc" >&2; exit 1; }
}

# wait_for_log LOG TEXT PID waits up to 10 s for TEXT in LOG, while PID lives.
wait_for_log() {
  for _ in $(seq 1 200); do
    grep -q "$2" "$1" && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.05
  done
  echo "tour: no \"$2\" in $1" >&2
  cat "$1" >&2
  exit 1
}

echo "== 1. Offline, on the operator's workstation: a root, an environment CA, an intermediate"
run pki init --trust-domain example.org --out pki --tiers 3

echo
echo "== 2. A workload key and CSR, signed by the intermediate (the CA server will do this)"
run pki csr --spiffe-id "$id" --key-out web.key --out web.csr
run pki sign --ca pki/intermediate --csr web.csr --spiffe-id "$id" --dns web.default.svc \
  --ttl 24h --out web.pem

echo
echo "== 3. What the workload presents"
run x509 inspect web.pem
run x509 verify --bundle pki/intermediate/bundle.pem --chain web.pem --expect-id "$id"

echo
echo "== 4. The health of every level, as a CA server would be handed it"
run_check 0 check --dir pki/intermediate --leaf web.pem

echo
echo "== 5. The whole tree still holds the root key: check says so"
run_check 1 check --dir pki

echo
echo "== 6. A year from now, without a rotation"
run_check 2 check --dir pki/intermediate --at "$(date -u -d '+350 days' +%Y-%m-%dT%H:%M:%SZ)"
echo
echo "== 7. The CA server, on the intermediate (the root goes offline first)"
mv pki/root offline-root
cat > ca.yaml <<YAML
trust_domain: example.org
listen: 127.0.0.1:0
http_listen: 127.0.0.1:0
admin_socket: $PWD/run/ca-admin.sock
data_dir: $PWD/ca-data
upstream_dir: $PWD/pki/intermediate
YAML
echo "\$ meshid ca serve --config ca.yaml &"
"$meshid" ca serve --config ca.yaml 2>ca.log &
ca_pid=$!
trap 'kill $ca_pid 2>/dev/null || true' EXIT
wait_for_log ca.log "CA serving" "$ca_pid"
cat ca.log
http=$(sed -n 's/.*http=[^ ]* (port \([0-9]*\)).*/\1/p' ca.log)
echo "\$ meshid token create --node node1 --ttl 10m --admin-socket run/ca-admin.sock"
token=$("$meshid" token create --node node1 --ttl 10m --admin-socket run/ca-admin.sock)
echo "$token"
echo
echo "\$ curl -s http://127.0.0.1:$http/metrics | grep -E '^meshid_ca_(certificate|issuing_slot|bundle)'"
curl -s "http://127.0.0.1:$http/metrics" | grep -E '^meshid_ca_(certificate|issuing_slot|bundle)'

echo
echo "== 8. The node agent: attests with the token, serves the SPIFFE Workload API"
cat > agent.yaml <<YAML
trust_domain: example.org
ca_address: 127.0.0.1:$(sed -n 's/.*agents=[^ ]* (port \([0-9]*\)).*/\1/p' ca.log)
data_dir: $PWD/agent-data
join_token: $token
trust_bundle: $PWD/pki/intermediate/bundle.pem
socket_path: $PWD/run/agent.sock
http_listen: 127.0.0.1:0
node_name: node1
YAML
echo "\$ meshid agent run --config agent.yaml &"
"$meshid" agent run --config agent.yaml 2>agent.log &
agent_pid=$!
trap 'kill $ca_pid $agent_pid 2>/dev/null || true' EXIT
wait_for_log agent.log "agent running" "$agent_pid"
cat agent.log
run node list --admin-socket run/ca-admin.sock
# An identity for every process of this user, on node1.
run entry create --spiffe-id "$id" --parent-id spiffe://example.org/meshid/node/node1 \
  --selector "unix:uid:$(id -u)" --dns web.default.svc --admin-socket run/ca-admin.sock
export SPIFFE_ENDPOINT_SOCKET=unix://$PWD/run/agent.sock
for _ in $(seq 1 100); do
  "$meshid" svid fetch -o svid --timeout 5s >/dev/null 2>&1 && break
  sleep 0.1
done
run svid fetch -o svid
run x509 verify --bundle svid/bundle.pem --chain svid/svid.pem --expect-id "$id"
echo
echo "\$ openssl verify -x509_strict -purpose sslclient -CAfile svid/bundle.pem -untrusted <chain> <leaf>"
awk '/BEGIN/{n++} {print > ("svid/part" n ".pem")}' svid/svid.pem
cat svid/part[2-9].pem > svid/intermediates.pem
openssl verify -x509_strict -purpose sslclient -CAfile svid/bundle.pem \
  -untrusted svid/intermediates.pem svid/part1.pem
kill -TERM "$agent_pid" "$ca_pid"
wait "$agent_pid" "$ca_pid"
echo "(the agent and the CA stopped cleanly)"
echo
echo "tour complete: files are in $work"
