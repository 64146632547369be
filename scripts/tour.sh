#!/usr/bin/env bash
# The meshid tour: builds a three-tier CA hierarchy (root → environment CA → intermediate)
# offline, issues a workload SVID under it, shows what an operator sees with
# `meshid x509 inspect`, `meshid x509 verify` and `meshid check`, then runs the CA server on
# the intermediate and administers it.
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
for _ in $(seq 1 200); do
  grep -q "CA serving" ca.log && break
  kill -0 "$ca_pid" 2>/dev/null || { cat ca.log >&2; exit 1; }
  sleep 0.05
done
grep -q "CA serving" ca.log || { echo "tour: the CA did not start" >&2; cat ca.log >&2; exit 1; }
cat ca.log
http=$(sed -n 's/.*http=[^ ]* (port \([0-9]*\)).*/\1/p' ca.log)
run token create --node node1 --ttl 10m --admin-socket run/ca-admin.sock
run node list --admin-socket run/ca-admin.sock
echo
echo "\$ curl -s http://127.0.0.1:$http/metrics | grep -E '^meshid_ca_(certificate|issuing_slot|bundle)'"
curl -s "http://127.0.0.1:$http/metrics" | grep -E '^meshid_ca_(certificate|issuing_slot|bundle)'
kill -TERM "$ca_pid"
wait "$ca_pid"
echo "(the CA stopped cleanly; agents that attest with the token arrive with the next issue)"

echo
echo "tour complete: files are in $work"
