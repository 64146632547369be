#!/usr/bin/env bash
# pki_openssl_test.sh - `meshid pki` builds hierarchies and SVIDs that plain OpenSSL
# accepts and that follow the X509-SVID rules (see REFERENCE.md "X509-SVID").
#
# Usage: pki_openssl_test.sh /path/to/meshid
# Needs bash, coreutils, grep, sed, awk and openssl. Works in its own temp directory.

set -euo pipefail

. "$(dirname -- "${BASH_SOURCE[0]}")/lib/assert.sh"

setup_test "$@"

TD=example.org
WEB_ID=spiffe://example.org/ns/default/sa/web
TREE_FILES=(root/root.crt root/root.key intermediate/ca.crt intermediate/ca.key
  intermediate/chain.pem intermediate/bundle.pem)

# cert_text FILE : `openssl x509 -text` of the first certificate in FILE.
cert_text() { openssl x509 -in "$1" -noout -text; }

# ext_block TEXT_FILE HEADER : the line HEADER (prefix match after indentation) and
# the value line under it, e.g. ext_block t "X509v3 Key Usage" -> "X509v3 Key Usage:
# critical|Digital Signature".
ext_block() {
  awk -v h="$2" '
    found { sub(/^[[:space:]]+/, ""); print hdr "|" $0; exit }
    { line = $0; sub(/^[[:space:]]+/, "", line) }
    index(line, h) == 1 { found = 1; hdr = line }' "$1"
}

# expect_openssl_verify PURPOSE CAFILE UNTRUSTED CERT : strict RFC 5280 path
# validation by OpenSSL itself prints "CERT: OK".
expect_openssl_verify() {
  local purpose=$1 cafile=$2 untrusted=$3 cert=$4
  local -a args=(verify -x509_strict -CAfile "$cafile")
  [[ $purpose != - ]] && args+=(-purpose "$purpose")
  [[ $untrusted != - ]] && args+=(-untrusted "$untrusted")
  expect_exit 0 openssl "${args[@]}" "$cert"
  expect_contains "$OUT_FILE" "$cert: OK"
}

# sha_tree DIR : sha256sum of every file of a `pki init` tree in DIR.
sha_tree() { (cd -- "$1" && sha256sum -- "${TREE_FILES[@]}"); }

# ---------------------------------------------------------------------------
test_case "pki init writes root/ and intermediate/ with 0600 keys"
expect_exit 0 "$MESHID" pki init --trust-domain "$TD" --out D
for f in "${TREE_FILES[@]}"; do
  expect_file "D/$f"
  expect_contains "$OUT_FILE" "D/$f"
done
expect_mode D/root/root.key 600
expect_mode D/intermediate/ca.key 600
expect_contains_i "$ERR_FILE" offline
expect_contains "$ERR_FILE" "D/root"

test_case "pki init refuses to overwrite without --force"
before=$(sha_tree D)
expect_exit 2 "$MESHID" pki init --trust-domain "$TD" --out D
expect_contains "$ERR_FILE" "already exists"
expect_contains "$ERR_FILE" "--force"
expect_eq "$before" "$(sha_tree D)" "sha256 of the tree after a refused re-init"

test_case "pki init --force replaces every file"
mkdir -p F
cp -r D/root D/intermediate F/
expect_exit 0 "$MESHID" pki init --trust-domain "$TD" --out F --force
for f in "${TREE_FILES[@]}"; do
  expect_ne "$(sha256sum <"D/$f")" "$(sha256sum <"F/$f")" "sha256 of $f after --force"
done
expect_mode F/root/root.key 600
expect_mode F/intermediate/ca.key 600

test_case "pki csr: OpenSSL accepts the CSR and sees the SPIFFE ID"
expect_exit 0 "$MESHID" pki csr --spiffe-id "$WEB_ID" --key-out web.key --out web.csr
expect_mode web.key 600
expect_exit 0 openssl req -in web.csr -noout -verify
expect_exit 0 openssl req -in web.csr -noout -text
expect_contains "$OUT_FILE" "URI:$WEB_ID"

test_case "pki sign: leaf + intermediate, never the root"
t_before=$(date -u +%s)
expect_exit 0 "$MESHID" pki sign --ca D/intermediate --csr web.csr --spiffe-id "$WEB_ID" \
  --dns web.default.svc --ttl 24h --out web.pem
expect_cert_count web.pem 2
split_certs web.pem web
cp web-1.pem leaf.pem
expect_eq "$(fingerprint D/intermediate/ca.crt)" "$(fingerprint web-2.pem)" \
  "second certificate of web.pem (the intermediate)"
expect_ne "$(fingerprint D/root/root.crt)" "$(fingerprint web-1.pem)" "leaf vs root"
expect_ne "$(fingerprint D/root/root.crt)" "$(fingerprint web-2.pem)" "chain vs root"

test_case "pki sign: openssl verify -x509_strict for sslclient and sslserver"
expect_openssl_verify sslclient D/intermediate/bundle.pem D/intermediate/chain.pem leaf.pem
expect_openssl_verify sslserver D/intermediate/bundle.pem D/intermediate/chain.pem leaf.pem

test_case "pki sign: the leaf follows X509-SVID"
cert_text leaf.pem >leaf.txt
expect_eq "X509v3 Basic Constraints: critical|CA:FALSE" \
  "$(ext_block leaf.txt "X509v3 Basic Constraints")" "leaf basicConstraints"
ku=$(ext_block leaf.txt "X509v3 Key Usage")
[[ $ku == "X509v3 Key Usage: critical|"*"Digital Signature"* ]] ||
  fail "leaf keyUsage: expected critical with Digital Signature, got '$ku'"
[[ $ku != *"Certificate Sign"* && $ku != *"CRL Sign"* ]] ||
  fail "leaf keyUsage: expected no Certificate Sign / CRL Sign, got '$ku'"
eku=$(ext_block leaf.txt "X509v3 Extended Key Usage")
[[ ${eku#*|} == "TLS Web Server Authentication, TLS Web Client Authentication" ]] ||
  fail "leaf extendedKeyUsage: expected serverAuth + clientAuth, got '$eku'"
san=$(ext_block leaf.txt "X509v3 Subject Alternative Name")
[[ ${san%%|*} == "X509v3 Subject Alternative Name: critical" ]] ||
  fail "leaf SAN: expected a critical extension (empty subject), got '$san'"
mapfile -t uris < <(printf '%s\n' "${san#*|}" | tr ',' '\n' | sed 's/^ *//' | grep '^URI:' || true)
expect_eq 1 "${#uris[@]}" "number of URI SANs in the leaf (${uris[*]:-none})"
expect_eq "URI:$WEB_ID" "${uris[0]}" "the leaf's URI SAN"
[[ ${san#*|} == *"DNS:web.default.svc"* ]] || fail "leaf SAN: expected DNS:web.default.svc, got '$san'"
subject=$(openssl x509 -in leaf.pem -noout -subject -nameopt RFC2253)
expect_eq "subject=" "$subject" "leaf subject (empty)"
expect_contains leaf.txt "X509v3 Subject Key Identifier"
expect_contains leaf.txt "X509v3 Authority Key Identifier"

test_case "pki sign: positive serial of at most 16 bytes"
serial=$(openssl x509 -in leaf.pem -noout -serial)
serial=${serial#serial=}
[[ $serial =~ ^[0-9A-F]+$ ]] || fail "serial: expected positive hex, got '$serial'"
[[ $serial =~ [1-9A-F] ]] || fail "serial: expected non-zero, got '$serial'"
((${#serial} <= 32)) || fail "serial: expected at most 32 hex digits, got ${#serial}: $serial"

test_case "pki sign: notBefore backdated about 10 s"
nb=$(openssl x509 -in leaf.pem -noout -startdate)
nb_s=$(date -u -d "${nb#notBefore=}" +%s)
((nb_s < t_before)) ||
  fail "notBefore: expected earlier than $t_before (taken before signing), got $nb_s (${nb#notBefore=})"
((t_before - nb_s <= 15)) ||
  fail "notBefore: expected at most 15 s before $t_before, got $((t_before - nb_s)) s"

test_case "pki init: the intermediate and the root are proper CAs"
cert_text D/intermediate/ca.crt >int.txt
expect_eq "X509v3 Basic Constraints: critical|CA:TRUE, pathlen:1" \
  "$(ext_block int.txt "X509v3 Basic Constraints")" "intermediate basicConstraints"
expect_eq "X509v3 Key Usage: critical|Certificate Sign, CRL Sign" \
  "$(ext_block int.txt "X509v3 Key Usage")" "intermediate keyUsage"
expect_eq "X509v3 Subject Alternative Name:|URI:spiffe://example.org" \
  "$(ext_block int.txt "X509v3 Subject Alternative Name" | sed 's/: *|/:|/')" \
  "intermediate SAN"
cert_text D/root/root.crt >root.txt
expect_eq "X509v3 Basic Constraints: critical|CA:TRUE" \
  "$(ext_block root.txt "X509v3 Basic Constraints" | sed 's/,.*//')" "root basicConstraints"
expect_openssl_verify - D/root/root.crt - D/root/root.crt
expect_eq "$(openssl x509 -in D/root/root.crt -noout -subject)" \
  "$(openssl x509 -in D/root/root.crt -noout -issuer | sed 's/^issuer=/subject=/')" \
  "root subject vs issuer"

test_case "x509 verify accepts the SVID and rejects a wrong ID or a missing intermediate"
expect_exit 0 "$MESHID" x509 verify --bundle D/intermediate/bundle.pem --chain web.pem
expect_contains "$OUT_FILE" "OK: $WEB_ID"
expect_exit 1 "$MESHID" x509 verify --bundle D/intermediate/bundle.pem --chain web.pem \
  --expect-id spiffe://example.org/other
expect_contains "$OUT_FILE" "FAIL id_mismatch"
expect_exit 1 "$MESHID" x509 verify --bundle D/intermediate/bundle.pem --chain leaf.pem
expect_contains "$OUT_FILE" "missing_intermediate"

test_case "pki sign -o json reports spiffe_id and serial"
expect_exit 0 "$MESHID" pki sign --ca D/intermediate --csr web.csr --spiffe-id "$WEB_ID" \
  --out web-json.pem -o json
expect_contains "$OUT_FILE" '"spiffe_id"'
expect_contains "$OUT_FILE" '"serial"'
expect_contains "$OUT_FILE" "$WEB_ID"

test_case "pki sign refuses a root directory as --ca"
expect_exit 2 "$MESHID" pki sign --ca D/root --csr web.csr --spiffe-id "$WEB_ID" --out by-root.pem
expect_no_path by-root.pem

# ---------------------------------------------------------------------------
test_case "pki init --tiers 3: environment CA between root and intermediate"
expect_exit 0 "$MESHID" pki init --trust-domain "$TD" --out D3 --tiers 3
for f in ca.crt ca.key chain.pem bundle.pem; do
  expect_file "D3/environment/$f"
  expect_file "D3/intermediate/$f"
done
expect_mode D3/environment/ca.key 600
expect_cert_count D3/intermediate/chain.pem 2
split_certs D3/intermediate/chain.pem d3chain
expect_eq "$(fingerprint D3/intermediate/ca.crt)" "$(fingerprint d3chain-1.pem)" \
  "first certificate of D3/intermediate/chain.pem"
expect_eq "$(fingerprint D3/environment/ca.crt)" "$(fingerprint d3chain-2.pem)" \
  "second certificate of D3/intermediate/chain.pem"

test_case "pki init --tiers 3: a leaf verifies with openssl -x509_strict"
expect_exit 0 "$MESHID" pki sign --ca D3/intermediate --csr web.csr --spiffe-id "$WEB_ID" \
  --ttl 24h --out web3.pem
split_certs web3.pem web3
expect_openssl_verify sslclient D3/intermediate/bundle.pem D3/intermediate/chain.pem web3-1.pem
expect_openssl_verify sslserver D3/intermediate/bundle.pem D3/intermediate/chain.pem web3-1.pem

# ---------------------------------------------------------------------------
test_case "--key-type rsa-2048 for the CAs and the leaf"
expect_exit 0 "$MESHID" pki init --trust-domain "$TD" --out DR --key-type rsa-2048
cert_text DR/intermediate/ca.crt >rsa-int.txt
expect_contains rsa-int.txt "Public-Key: (2048 bit)"
cert_text DR/root/root.crt >rsa-root.txt
expect_contains rsa-root.txt "Public-Key: (2048 bit)"
expect_exit 0 "$MESHID" pki csr --key-type rsa-2048 --spiffe-id "$WEB_ID" --key-out rsa.key \
  --out rsa.csr
expect_mode rsa.key 600
expect_exit 0 "$MESHID" pki sign --ca DR/intermediate --csr rsa.csr --spiffe-id "$WEB_ID" \
  --out rsa.pem
split_certs rsa.pem rsa
cert_text rsa-1.pem >rsa-leaf.txt
expect_contains rsa-leaf.txt "Public-Key: (2048 bit)"
expect_eq "X509v3 Key Usage: critical|Digital Signature, Key Encipherment" \
  "$(ext_block rsa-leaf.txt "X509v3 Key Usage")" "RSA leaf keyUsage"
expect_openssl_verify sslclient DR/intermediate/bundle.pem DR/intermediate/chain.pem rsa-1.pem
expect_openssl_verify sslserver DR/intermediate/bundle.pem DR/intermediate/chain.pem rsa-1.pem

# ---------------------------------------------------------------------------
test_case "--encrypt-root-key: OpenSSL decrypts root.key with the passphrase file"
printf 'correct horse battery staple\n' >pass.txt
printf 'not the passphrase\n' >wrong.txt
expect_exit 0 "$MESHID" pki init --trust-domain "$TD" --out DE --encrypt-root-key \
  --passphrase-file pass.txt
expect_contains DE/root/root.key "ENCRYPTED PRIVATE KEY"
expect_mode DE/root/root.key 600
expect_exit 0 openssl pkey -in DE/root/root.key -passin file:pass.txt -noout

test_case "pki intermediate under an encrypted root needs --passphrase-file"
expect_exit 2 "$MESHID" pki intermediate --root DE/root --trust-domain "$TD" --out D2
expect_contains "$ERR_FILE" "--passphrase-file"
expect_no_path D2

test_case "pki intermediate with the passphrase"
expect_exit 0 "$MESHID" pki intermediate --root DE/root --trust-domain "$TD" --out D2 \
  --passphrase-file pass.txt
for f in ca.crt ca.key chain.pem bundle.pem; do expect_file "D2/$f"; done
expect_mode D2/ca.key 600
expect_openssl_verify - DE/root/root.crt - D2/ca.crt

test_case "pki intermediate with a wrong passphrase"
expect_exit 2 "$MESHID" pki intermediate --root DE/root --trust-domain "$TD" --out D4 \
  --passphrase-file wrong.txt
expect_contains "$ERR_FILE" "wrong passphrase"
expect_no_path D4

test_case "--encrypt-root-key without --passphrase-file"
expect_exit 2 "$MESHID" pki init --trust-domain "$TD" --out DX --encrypt-root-key
expect_contains "$ERR_FILE" "--passphrase-file"
expect_no_path DX

test_case "pki intermediate for another trust domain"
expect_exit 2 "$MESHID" pki intermediate --root D/root --trust-domain other.org --out D5
expect_no_path D5

pass_all
