#!/usr/bin/env bash
# bad_input_test.sh - every meshid command that reads files answers malformed input
# with exit status 2 and one line "meshid: <path>: ..." on stderr, prints nothing on
# stdout, writes nothing, and never crashes. Also: unknown commands, missing options,
# invalid trust domains / SPIFFE IDs, and --help on every command.
#
# Usage: bad_input_test.sh /path/to/meshid
# Needs bash, coreutils, grep, sed, awk and openssl. Works in its own temp directory.

set -euo pipefail

. "$(dirname -- "${BASH_SOURCE[0]}")/lib/assert.sh"

setup_test "$@"

WEB_ID=spiffe://example.org/ns/default/sa/web

# ---------------------------------------------------------------------------
# Good material, built once.
# ---------------------------------------------------------------------------
"$MESHID" pki init --trust-domain example.org --out pki >/dev/null 2>&1 ||
  fail "setup: pki init failed"
"$MESHID" pki csr --spiffe-id "$WEB_ID" --key-out web.key --out web.csr >/dev/null ||
  fail "setup: pki csr failed"
"$MESHID" pki sign --ca pki/intermediate --csr web.csr --spiffe-id "$WEB_ID" --out web.pem \
  >/dev/null || fail "setup: pki sign failed"
printf 'correct horse battery staple\n' >pass.txt
"$MESHID" pki init --trust-domain example.org --out encpki --encrypt-root-key \
  --passphrase-file pass.txt >/dev/null 2>&1 || fail "setup: encrypted pki init failed"
GOOD_BUNDLE=pki/intermediate/bundle.pem
GOOD_CHAIN=pki/intermediate/chain.pem

# ---------------------------------------------------------------------------
# Malformed inputs, one per kind. "missing" names a path that does not exist.
# ---------------------------------------------------------------------------
KINDS=(empty truncated garbage key dir missing big)
mkdir bad
declare -A BAD=(
  [empty]=bad/empty.pem
  [truncated]=bad/truncated.pem
  [garbage]=bad/garbage.bin
  [key]=bad/private-key.pem
  [dir]=bad/a-directory
  [missing]=bad/does-not-exist.pem
  [big]=bad/big.bin
)
: >"${BAD[empty]}"
head -c 300 pki/intermediate/ca.crt >"${BAD[truncated]}"
head -c 2000 /dev/urandom >"${BAD[garbage]}"
cp web.key "${BAD[key]}"
mkdir "${BAD[dir]}"
head -c $((10 * 1024 * 1024)) /dev/urandom >"${BAD[big]}"
# Where a private key belongs, the wrong thing is a certificate.
cp pki/intermediate/ca.crt bad/certificate.pem

# A CA directory and a root directory whose certificate file is the malformed input,
# so that the error has to name the file inside the directory.
for kind in "${KINDS[@]}"; do
  for d in "ca-$kind:pki/intermediate:ca.crt" "root-$kind:pki/root:root.crt"; do
    IFS=: read -r name src file <<<"$d"
    cp -r "$src" "bad/$name"
    rm -f "bad/$name/$file"
    case $kind in
      dir) mkdir "bad/$name/$file" ;;
      missing) ;;
      *) cp "${BAD[$kind]}" "bad/$name/$file" ;;
    esac
  done
done

# A Secret with one damaged data entry.
istio_secret() {
  local cert_b64=$1
  cat <<EOF
apiVersion: v1
data:
  ca-cert.pem: $cert_b64
  ca-key.pem: $(base64 -w0 <pki/intermediate/ca.key)
  cert-chain.pem: $(base64 -w0 <pki/intermediate/chain.pem)
  root-cert.pem: $(base64 -w0 <pki/intermediate/bundle.pem)
kind: Secret
metadata:
  name: cacerts
  namespace: istio-system
type: Opaque
EOF
}
istio_secret "$(base64 -w0 <pki/intermediate/ca.crt)" >good-secret.yaml
istio_secret "$(base64 -w0 <"${BAD[truncated]}")" >bad/secret-truncated.yaml
istio_secret "$(base64 -w0 <"${BAD[garbage]}")" >bad/secret-garbage.yaml
istio_secret "'@@@ not base64 @@@'" >bad/secret-badbase64.yaml

# The reference Secret must be fine, or the damaged ones prove nothing.
expect_exit 0 "$MESHID" check --secret good-secret.yaml
expect_exit 0 "$MESHID" x509 inspect good-secret.yaml

# expect_bad_input OFFENDING_PATH OUT_PATH CMD... : exit 2; exactly one stderr line
# "meshid: ..." naming OFFENDING_PATH; empty stdout; OUT_PATH (or "-") not created;
# the work directory's recursive `ls -la` listing unchanged. run() already fails on
# signals and sanitizer reports.
expect_bad_input() {
  local offending=$1 out_path=$2 before
  shift 2
  before=$(snapshot "$W")
  expect_exit 2 "$@"
  expect_one_line "$ERR_FILE"
  expect_line_starting "$ERR_FILE" "meshid: "
  expect_contains "$ERR_FILE" "$offending"
  expect_empty "$OUT_FILE"
  [[ $out_path == - ]] || expect_no_path "$out_path"
  expect_same_snapshot "$before" "$W"
}

# for_kinds "KIND..." TEMPLATE... : expect_bad_input for each kind, with @F@ in the
# template replaced by that kind's path; @OUT@ marks the output path, if any.
for_kinds() {
  local kinds=$1 kind f out_path
  shift
  for kind in $kinds; do
    f=${BAD[$kind]}
    local -a cmd=("${@//@F@/$f}")
    out_path=-
    if [[ " $* " == *" @OUT@ "* ]]; then
      out_path=bad-output
      cmd=("${cmd[@]//@OUT@/$out_path}")
    fi
    ASSERT_DETAIL="$kind input: meshid ${cmd[*]}"
    expect_bad_input "$f" "$out_path" "$MESHID" "${cmd[@]}"
  done
}

ALL=${KINDS[*]}

# ---------------------------------------------------------------------------
test_case "x509 inspect FILE"
for_kinds "$ALL" x509 inspect @F@

test_case "x509 verify --bundle FILE"
for_kinds "$ALL" x509 verify --bundle @F@ --chain web.pem

test_case "x509 verify --chain FILE"
for_kinds "$ALL" x509 verify --bundle "$GOOD_BUNDLE" --chain @F@

test_case "check --bundle good --chain FILE"
for_kinds "$ALL" check --bundle "$GOOD_BUNDLE" --chain @F@

test_case "check --bundle good --chain good --leaf FILE"
for_kinds "$ALL" check --bundle "$GOOD_BUNDLE" --chain "$GOOD_CHAIN" --leaf @F@

test_case "check --bundle good --chain good --key FILE"
# A certificate where the key belongs replaces the "private key" kind here.
BAD[cert]=bad/certificate.pem
for_kinds "empty truncated garbage cert dir missing big" \
  check --bundle "$GOOD_BUNDLE" --chain "$GOOD_CHAIN" --key @F@

test_case "check --dir FILE"
# Every file kind is "a file where a directory belongs"; the directory kind is an
# empty directory, which has no known layout. Damaged files inside a CA directory
# are covered by "check --dir CA-DIR" below.
for_kinds "$ALL" check --dir @F@

test_case "check --secret FILE"
for_kinds "$ALL" check --secret @F@

test_case "pki sign --csr FILE (a private key where the CSR belongs)"
for_kinds "$ALL" pki sign --ca pki/intermediate --csr @F@ --spiffe-id "$WEB_ID" --out @OUT@

test_case "pki sign --ca FILE"
# Files where a CA directory belongs, an empty directory, a missing path.
for_kinds "$ALL" pki sign --ca @F@ --csr web.csr --spiffe-id "$WEB_ID" --out @OUT@

test_case "pki intermediate --root FILE"
for_kinds "$ALL" pki intermediate --root @F@ --trust-domain example.org --out @OUT@

# ---------------------------------------------------------------------------
# The malformed input as the certificate inside a CA / root directory. The
# offending path is DIR/ca.crt (DIR/root.crt); when it is missing, it is DIR.
inner_path() {
  if [[ $2 == missing ]]; then echo "$1"; else echo "$1/$3"; fi
}

test_case "pki sign --ca DIR with a damaged DIR/ca.crt"
for kind in "${KINDS[@]}"; do
  d=bad/ca-$kind
  ASSERT_DETAIL="$kind ca.crt: meshid pki sign --ca $d"
  expect_bad_input "$(inner_path "$d" "$kind" ca.crt)" bad-output \
    "$MESHID" pki sign --ca "$d" --csr web.csr --spiffe-id "$WEB_ID" --out bad-output
done

test_case "check --dir DIR with a damaged DIR/ca.crt"
for kind in "${KINDS[@]}"; do
  d=bad/ca-$kind
  ASSERT_DETAIL="$kind ca.crt: meshid check --dir $d"
  expect_bad_input "$(inner_path "$d" "$kind" ca.crt)" - "$MESHID" check --dir "$d"
done

test_case "pki intermediate --root DIR with a damaged DIR/root.crt"
for kind in "${KINDS[@]}"; do
  d=bad/root-$kind
  ASSERT_DETAIL="$kind root.crt: meshid pki intermediate --root $d"
  expect_bad_input "$(inner_path "$d" "$kind" root.crt)" bad-output \
    "$MESHID" pki intermediate --root "$d" --trust-domain example.org --out bad-output
done

# ---------------------------------------------------------------------------
# Passphrase files: any bytes are a possible passphrase, so only the empty file, a
# directory, a missing path and an oversized file are malformed.
test_case "pki init --encrypt-root-key --passphrase-file FILE"
for_kinds "empty dir missing big" \
  pki init --trust-domain example.org --out @OUT@ --encrypt-root-key --passphrase-file @F@

test_case "pki intermediate --passphrase-file FILE"
for_kinds "empty dir missing big" \
  pki intermediate --root encpki/root --trust-domain example.org --out @OUT@ \
  --passphrase-file @F@

# ---------------------------------------------------------------------------
# A Secret whose ca-cert.pem entry is damaged: the error names the Secret (and the
# entry); inspect must not silently skip the entry and succeed.
test_case "check --secret / x509 inspect with a damaged Secret entry"
for s in bad/secret-truncated.yaml bad/secret-garbage.yaml bad/secret-badbase64.yaml; do
  for cmd in "check --secret" "x509 inspect"; do
    ASSERT_DETAIL="meshid $cmd $s"
    # shellcheck disable=SC2086 # $cmd is two words on purpose
    expect_bad_input "$s" - "$MESHID" $cmd "$s"
    expect_contains "$ERR_FILE" "ca-cert.pem"
  done
done

# ---------------------------------------------------------------------------
test_case "unknown command"
expect_exit 2 "$MESHID" bogus
expect_one_line "$ERR_FILE"
expect_contains "$ERR_FILE" bogus
expect_empty "$OUT_FILE"

test_case "unknown subcommand"
for parent in pki x509; do
  expect_exit 2 "$MESHID" "$parent" bogus
  expect_one_line "$ERR_FILE"
  expect_contains "$ERR_FILE" bogus
done

test_case "missing required options"
# command | the option left out
while IFS='|' read -r missing args; do
  read -r -a argv <<<"$args"
  before=$(snapshot "$W")
  expect_exit 2 "$MESHID" "${argv[@]}"
  expect_one_line "$ERR_FILE"
  expect_contains "$ERR_FILE" "$missing"
  expect_empty "$OUT_FILE"
  expect_same_snapshot "$before" "$W"
done <<EOF
--trust-domain|pki init --out new-pki
--out|pki init --trust-domain example.org
--spiffe-id|pki csr --key-out new.key --out new.csr
--key-out|pki csr --spiffe-id $WEB_ID --out new.csr
--csr|pki sign --ca pki/intermediate --spiffe-id $WEB_ID --out new.pem
--root|pki intermediate --trust-domain example.org --out new-int
--chain|x509 verify --bundle $GOOD_BUNDLE
--bundle|x509 verify --chain web.pem
EOF

test_case "pki init --trust-domain Bad.Org"
before=$(snapshot "$W")
expect_exit 2 "$MESHID" pki init --trust-domain Bad.Org --out new-pki
expect_one_line "$ERR_FILE"
expect_contains "$ERR_FILE" "Bad.Org"
expect_contains "$ERR_FILE" "lowercase"
expect_no_path new-pki
expect_same_snapshot "$before" "$W"

test_case "pki csr --spiffe-id with an empty path segment"
before=$(snapshot "$W")
expect_exit 2 "$MESHID" pki csr --spiffe-id spiffe://example.org/a//b --key-out new.key \
  --out new.csr
expect_one_line "$ERR_FILE"
expect_contains "$ERR_FILE" "empty segments"
expect_no_path new.key
expect_no_path new.csr
expect_same_snapshot "$before" "$W"

test_case "agent run --config FILE"
for_kinds "$ALL" agent run --config @F@

test_case "agent run: a configuration with an unknown key, and one without trust_bundle"
# The configurations live outside the work directory, which must stay untouched.
CONFIGS="$TEST_TMP/configs"
mkdir -p "$CONFIGS"
before=$(snapshot "$W")
printf 'trust_domain: example.org\ncaaddress: x\n' > "$CONFIGS/agent-typo.yaml"
expect_exit 2 "$MESHID" agent run --config "$CONFIGS/agent-typo.yaml"
expect_one_line "$ERR_FILE"
expect_contains "$ERR_FILE" 'agent-typo.yaml: unknown key "caaddress"'
printf 'trust_domain: example.org\ndata_dir: %s/agent-data\nsocket_path: %s/a.sock\n' \
  "$W" "$W" > "$CONFIGS/agent-nobundle.yaml"
expect_exit 2 "$MESHID" agent run --config "$CONFIGS/agent-nobundle.yaml"
expect_one_line "$ERR_FILE"
expect_contains "$ERR_FILE" "trust_bundle: required"
expect_contains "$ERR_FILE" "--insecure-bootstrap"
expect_no_path agent-data
expect_same_snapshot "$before" "$W"
rm -rf "$CONFIGS"

test_case "svid fetch with a malformed or absent Workload API address"
expect_exit 2 "$MESHID" svid fetch --socket unix://relative.sock
expect_one_line "$ERR_FILE"
expect_contains "$ERR_FILE" "absolute path"
expect_exit 2 "$MESHID" svid fetch --socket "unix://$W/no-agent.sock" --timeout 2s
expect_one_line "$ERR_FILE"
expect_contains "$ERR_FILE" "is meshid agent running"

test_case "--help on every command shows examples"
for cmd in "pki init" "pki intermediate" "pki csr" "pki sign" "x509 inspect" "x509 verify" \
  check "agent run" "agent config" "svid fetch" "svid watch" "svid sync" "node reissue"; do
  # shellcheck disable=SC2086 # $cmd is one or two words on purpose
  expect_exit 0 "$MESHID" $cmd --help
  expect_contains "$OUT_FILE" "Examples:"
done

pass_all
