#!/usr/bin/env bash
# check_test.sh - `meshid check`, `x509 inspect` and `x509 verify` on hierarchies built
# with plain openssl (lib/make_openssl_fixtures.sh) and with `meshid pki init`.
#
# Usage: check_test.sh /path/to/meshid
# Needs bash, coreutils, grep, sed, awk and openssl. Works in its own temp directory.

set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/assert.sh"

setup_test "$@"

FX="$TEST_TMP/fx"
bash "$HERE/lib/make_openssl_fixtures.sh" "$FX" || fail "make_openssl_fixtures.sh failed"
cd "$FX"

OK='√'
WARN='‼'
FAILED='×'
WEB_ID=spiffe://example.org/ns/default/sa/web

# check_case EXIT STATUS_MARK JSON_STATUS ARGS... : run `meshid check ARGS` in text and
# in JSON; require the exit status, the final "Status check results are MARK" line and
# the top-level JSON status. Leaves the text output in text.out, the JSON in json.out.
check_case() {
  local code=$1 mark=$2 json_status=$3
  shift 3
  expect_exit "$code" "$MESHID" check "$@"
  expect_last_line_starting "$OUT_FILE" "Status check results are $mark"
  cp "$OUT_FILE" text.out
  expect_exit "$code" "$MESHID" check "$@" -o json
  expect_json_overall "$OUT_FILE" "$json_status"
  cp "$OUT_FILE" json.out
}

# expect_check MARK NAME [TEXT] : text.out has "MARK NAME:" (with TEXT on that line) and
# json.out gives the check NAME the matching status.
expect_check() {
  local mark=$1 name=$2 text=${3:-} status
  if ! awk -v p="$mark $name:" -v t="$text" '
      index($0, p) == 1 && index($0, t) > 0 { found = 1 }
      END { exit !found }' text.out; then
    local want="a line starting with \"$mark $name:\""
    [[ -z $text ]] || want+=" containing \"$text\""
    fail "expected $want"$'\n'"  got:"$'\n'"$(grep -F -- " $name:" text.out | sed 's/^/    | /' || echo "    (no $name line)")"
  fi
  case $mark in
    "$OK") status=ok ;;
    "$WARN") status=warn ;;
    "$FAILED") status=fail ;;
  esac
  expect_json_check json.out "$name" "$status"
}

# expect_clean : no failed and no warning lines in text.out.
expect_clean() {
  expect_no_line_starting text.out "$FAILED "
  expect_no_line_starting text.out "$WARN "
}

# ---------------------------------------------------------------------------
test_case "good: everything passes"
check_case 0 "$OK" ok --dir good --leaf good/leaf.pem
expect_clean
expect_check "$OK" leaf.svid

test_case "serverauth-only: the leaf cannot be an mTLS client"
check_case 2 "$FAILED" fail --dir serverauth-only --leaf serverauth-only/leaf.pem
expect_check "$FAILED" leaf.svid eku_missing_client_auth

test_case "expired-intermediate"
check_case 2 "$FAILED" fail --dir expired-intermediate
expect_check "$FAILED" intermediate.validity EXPIRED

test_case "intermediate-20d: below the critical threshold"
check_case 2 "$FAILED" fail --dir intermediate-20d
expect_check "$FAILED" intermediate.lifetime

test_case "intermediate-20d with --crit-intermediate 10d: only a warning"
check_case 1 "$WARN" warn --dir intermediate-20d --crit-intermediate 10d
expect_check "$WARN" intermediate.lifetime
expect_no_line_starting text.out "$FAILED "

test_case "missing-intermediate"
check_case 2 "$FAILED" fail --dir missing-intermediate --leaf missing-intermediate/leaf.pem
expect_check "$FAILED" chain.complete "missing intermediate"
expect_contains text.out missing_intermediate
expect_contains json.out missing_intermediate

test_case "root-100d"
check_case 2 "$FAILED" fail --dir root-100d
expect_check "$FAILED" root.lifetime

test_case "key-mismatch"
check_case 2 "$FAILED" fail --dir key-mismatch
expect_check "$FAILED" key.matches_ca

test_case "intermediate-outlives-root"
check_case 2 "$FAILED" fail --dir intermediate-outlives-root
expect_check "$FAILED" intermediate.outlives_issuer

test_case "root-key-online"
check_case 2 "$FAILED" fail --dir root-key-online
expect_check "$FAILED" root_key.offline

test_case "istio-cacerts layout"
check_case 0 "$OK" ok --dir istio-cacerts
expect_first_line_contains text.out "istio-cacerts layout"
expect_clean

test_case "linkerd layout"
check_case 0 "$OK" ok --dir linkerd
expect_first_line_contains text.out "linkerd layout"
expect_clean

test_case "secrets: istio-cacerts, linkerd-issuer, meshid-intermediate"
for s in istio-cacerts linkerd-issuer meshid-intermediate; do
  check_case 0 "$OK" ok --secret "secrets/$s.yaml"
  expect_clean
done

test_case "secrets: expired-intermediate"
check_case 2 "$FAILED" fail --secret secrets/expired-intermediate.yaml
expect_check "$FAILED" intermediate.validity EXPIRED

test_case "secret piped into --secret /dev/stdin"
expect_exit_piped 0 secrets/istio-cacerts.yaml "$MESHID" check --secret /dev/stdin
expect_last_line_starting "$OUT_FILE" "Status check results are $OK"

test_case "weak: RSA 1024 intermediate, SHA-1 leaf signature"
check_case 2 "$FAILED" fail --dir weak --leaf weak/leaf.pem
expect_check "$FAILED" intermediate.strength
expect_check "$FAILED" leaf.strength

test_case "individual files: --bundle --chain --key --leaf"
check_case 0 "$OK" ok --bundle good/bundle.pem --chain good/chain.pem --key good/ca.key \
  --leaf good/leaf.pem
expect_clean

# ---------------------------------------------------------------------------
test_case "meshid-built tree: the root key in the tree is a warning"
expect_exit 0 "$MESHID" pki init --trust-domain example.org --out T
check_case 1 "$WARN" warn --dir T
expect_check "$WARN" root_key.offline
expect_no_line_starting text.out "$FAILED "

test_case "meshid-built tree: the intermediate directory alone is clean"
check_case 0 "$OK" ok --dir T/intermediate
expect_clean

test_case "--at 350 days ahead: 15 days left on the intermediate"
at=$(date -u -d '+350 days' +%Y-%m-%dT%H:%M:%SZ)
check_case 2 "$FAILED" fail --dir T/intermediate --at "$at"
expect_check "$FAILED" intermediate.lifetime

test_case "--at 2 years ahead: the intermediate has expired"
at=$(date -u -d '+2 years' +%Y-%m-%dT%H:%M:%SZ)
check_case 2 "$FAILED" fail --dir T/intermediate --at "$at"
expect_check "$FAILED" intermediate.validity EXPIRED

# ---------------------------------------------------------------------------
test_case "x509 inspect a Secret: every source named, the key never shown"
expect_exit 0 "$MESHID" x509 inspect secrets/istio-cacerts.yaml
for src in "ca-cert.pem [1/1]" "cert-chain.pem [1/2]" "cert-chain.pem [2/2]" \
  "root-cert.pem [1/1]"; do
  expect_line_starting "$OUT_FILE" "secrets/istio-cacerts.yaml:$src"
done
expect_line_starting "$OUT_FILE" "secrets/istio-cacerts.yaml:ca-key.pem" "not shown"
expect_not_contains "$OUT_FILE" "BEGIN"
# No line of the key's base64 body (nor of its PKCS#8 form) may appear.
while read -r line; do
  expect_not_contains "$OUT_FILE" "$line"
done < <({ grep -v -- '-----' istio-cacerts/ca-key.pem
  openssl pkey -in istio-cacerts/ca-key.pem | grep -v -- '-----'; } | awk 'length($0) >= 16')
cp "$OUT_FILE" inspect.out

test_case "x509 inspect -o json"
expect_exit 0 "$MESHID" x509 inspect secrets/istio-cacerts.yaml -o json
expect_contains "$OUT_FILE" '"certificates"'
expect_not_contains "$OUT_FILE" "BEGIN"
while read -r line; do
  expect_not_contains "$OUT_FILE" "$line"
done < <(grep -v -- '-----' istio-cacerts/ca-key.pem | awk 'length($0) >= 16')

test_case "x509 verify: a serverAuth-only leaf fails mTLS, passes --usage server"
expect_exit 1 "$MESHID" x509 verify --bundle serverauth-only/bundle.pem \
  --chain serverauth-only/leaf.pem
expect_contains "$OUT_FILE" eku_missing_client_auth
expect_exit 0 "$MESHID" x509 verify --bundle serverauth-only/bundle.pem \
  --chain serverauth-only/leaf.pem --usage server
expect_contains "$OUT_FILE" "OK: $WEB_ID"

pass_all
