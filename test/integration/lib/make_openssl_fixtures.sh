#!/usr/bin/env bash
# make_openssl_fixtures.sh - build certificate hierarchies for `meshid check`
# integration tests using only the plain `openssl` CLI (OpenSSL 3.0.x).
#
# Usage: make_openssl_fixtures.sh OUTDIR
#   OUTDIR is removed and recreated. Needs bash, openssl, GNU coreutils
#   (date -d, base64 -w0). No network, no faketime. Quiet on success.
#
# Unless noted, each OUTDIR/<scenario>/ uses the meshid CA directory layout:
#   ca.crt (issuing CA), ca.key (0600), chain.pem (ca.crt + CAs above it,
#   root excluded), bundle.pem (root), leaf.pem (leaf SVID + chain.pem),
#   leaf.key (0600).
# Keys are EC P-256 unless stated. Validity: root 10y, intermediate 1y,
# leaf 1d, all starting "now", unless stated.
#
# Scenarios:
#   good                        root -> intermediate -> leaf, all valid.
#   serverauth-only             like good, leaf EKU is serverAuth only.
#   expired-intermediate        intermediate 2020-01-01..2021-01-01, leaf 2020-06-01..2020-06-02, root 2020-01-01..now+10y.
#   intermediate-20d            intermediate notAfter = now + 20 days.
#   missing-intermediate        root -> int1 -> int2 -> leaf; chain.pem/leaf.pem omit int1 (int1.crt kept for reference).
#   root-100d                   root notAfter = now + 100 days; intermediate now + 90 days.
#   key-mismatch                ca.key is a fresh key that does not match ca.crt.
#   intermediate-outlives-root  root notAfter = now + 365 days; intermediate notAfter = now + 730 days.
#   root-key-online             like good, plus root.key next to ca.key.
#   istio-cacerts               Istio plug-in CA files: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem (+ leaf.pem, leaf.key).
#   linkerd                     Linkerd files: ca.crt (trust anchor), issuer.crt, issuer.key.
#   secrets                     kubectl-style Secret YAMLs: istio-cacerts, linkerd-issuer, meshid-intermediate, expired-intermediate.
#   weak                        like good, but intermediate has an RSA-1024 key and signs the leaf with SHA-1.

set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi

OUT=$1
rm -rf -- "$OUT"
mkdir -p -- "$OUT"
OUT=$(cd -- "$OUT" && pwd)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/meshid-fixtures.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT

# Do not let a user/system OPENSSL_CONF influence `openssl req`/`openssl ca`.
export OPENSSL_CONF=/dev/null

SPIFFE_TD="spiffe://example.org"
SPIFFE_LEAF="spiffe://example.org/ns/default/sa/web"

# ---------------------------------------------------------------------------
# Extension profiles (one file, one section per profile).
# ---------------------------------------------------------------------------
EXT="$WORK/ext.cnf"
cat >"$EXT" <<EOF
[root]
basicConstraints       = critical,CA:TRUE
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = URI:${SPIFFE_TD}

[int_pathlen1]
basicConstraints       = critical,CA:TRUE,pathlen:1
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = URI:${SPIFFE_TD}

[int_pathlen0]
basicConstraints       = critical,CA:TRUE,pathlen:0
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = URI:${SPIFFE_TD}

[leaf]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = serverAuth,clientAuth
subjectAltName         = URI:${SPIFFE_LEAF}
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[leaf_serveronly]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = URI:${SPIFFE_LEAF}
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# Linkerd: mirrors "step certificate create --profile root-ca | intermediate-ca"
# (step puts the subject CN in a DNS SAN).
[linkerd_root]
basicConstraints       = critical,CA:TRUE,pathlen:1
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = DNS:root.linkerd.cluster.local

[linkerd_issuer]
basicConstraints       = critical,CA:TRUE,pathlen:0
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = DNS:identity.linkerd.cluster.local
EOF

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

# All relative dates are computed from one fixed instant so that e.g. every
# "+365 days" in a run yields the same notAfter.
BASE=$(date -u '+%Y-%m-%d %H:%M:%S UTC')

# date_in OFFSET -> YYYYMMDDHHMMSSZ (UTC) for BASE + OFFSET ("+20 days", ...).
date_in() { date -u -d "$BASE $1" +%Y%m%d%H%M%SZ; }
NOW=$(date_in '+0 days')

# quiet CMD... : run CMD with its output discarded, but show it if CMD fails.
quiet() {
  local log
  log=$(mktemp "$WORK/log.XXXXXX")
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "failed: $*" >&2
    return 1
  fi
}

# gen_ec_key OUT : EC P-256 private key (PKCS#8 PEM), mode 0600.
gen_ec_key() {
  (umask 077 && quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$1")
  chmod 0600 "$1"
}

# gen_rsa_key OUT BITS : RSA private key (PKCS#8 PEM), mode 0600.
gen_rsa_key() {
  (umask 077 && quiet openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" \
    -out "$1")
  chmod 0600 "$1"
}

# sign_with_dates CSR OUT ISSUER_CRT|self ISSUER_KEY EXT_SECTION START END [MD]
# Issues a v3 certificate with explicit notBefore/notAfter using `openssl ca`
# and a throwaway CA state directory under $WORK (never in the output dirs).
# ISSUER_CRT "self" makes a self-signed cert (-selfsign) with ISSUER_KEY.
sign_with_dates() {
  local csr=$1 out=$2 issuer=$3 ikey=$4 section=$5 start=$6 end=$7 md=${8:-sha256}
  local st
  st=$(mktemp -d "$WORK/ca.XXXXXX")
  mkdir "$st/newcerts"
  : >"$st/index.txt"
  echo "unique_subject = no" >"$st/index.txt.attr"
  # Random positive 127-bit serial (leading nibble 0-7 keeps it <= 16 octets).
  printf '%x%s\n' $((RANDOM % 8)) "$(openssl rand -hex 16 | cut -c2-)" >"$st/serial"
  cat >"$st/ca.cnf" <<EOF
[ca]
default_ca = throwaway

[throwaway]
dir              = $st
database         = \$dir/index.txt
serial           = \$dir/serial
new_certs_dir    = \$dir/newcerts
default_md       = $md
policy           = policy_anything
copy_extensions  = none
preserve         = yes
email_in_dn      = no
unique_subject   = no

[policy_anything]
countryName            = optional
stateOrProvinceName    = optional
localityName           = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = optional
emailAddress           = optional
EOF
  local -a args=(ca -batch -notext -config "$st/ca.cnf" -md "$md"
    -startdate "$start" -enddate "$end"
    -extfile "$EXT" -extensions "$section"
    -keyfile "$ikey" -in "$csr" -out "$out")
  if [[ $issuer == self ]]; then
    args+=(-selfsign)
  else
    args+=(-cert "$issuer")
  fi
  quiet openssl "${args[@]}"
}

# make_csr KEY SUBJECT OUT
make_csr() {
  quiet openssl req -new -key "$1" -subj "$2" -out "$3"
}

# make_root DIR NAME [END] [SUBJECT] [SECTION] [START]
# Writes DIR/NAME.key and DIR/NAME.crt (self-signed root CA).
make_root() {
  local dir=$1 name=$2 end=${3:-$(date_in '+3650 days')}
  local subj=${4:-"/O=fixture/CN=$SCEN root"} section=${5:-root} start=${6:-$NOW}
  gen_ec_key "$dir/$name.key"
  make_csr "$dir/$name.key" "$subj" "$WORK/$SCEN-$name.csr"
  sign_with_dates "$WORK/$SCEN-$name.csr" "$dir/$name.crt" self "$dir/$name.key" \
    "$section" "$start" "$end"
}

# make_ca DIR NAME ISSUER_CRT ISSUER_KEY [SECTION] [START] [END] [KEYTYPE] [SUBJECT]
# Writes DIR/NAME.key and DIR/NAME.crt (intermediate CA). KEYTYPE: ec | rsa1024.
make_ca() {
  local dir=$1 name=$2 icrt=$3 ikey=$4 section=${5:-int_pathlen1}
  local start=${6:-$NOW} end=${7:-$(date_in '+365 days')} ktype=${8:-ec}
  local subj=${9:-"/O=fixture/CN=$SCEN intermediate"}
  case $ktype in
    ec) gen_ec_key "$dir/$name.key" ;;
    rsa1024) gen_rsa_key "$dir/$name.key" 1024 ;;
    *) echo "make_ca: bad key type $ktype" >&2; return 1 ;;
  esac
  make_csr "$dir/$name.key" "$subj" "$WORK/$SCEN-$name.csr"
  sign_with_dates "$WORK/$SCEN-$name.csr" "$dir/$name.crt" "$icrt" "$ikey" \
    "$section" "$start" "$end"
}

# make_leaf DIR NAME ISSUER_CRT ISSUER_KEY [SECTION] [START] [END] [MD]
# Writes DIR/NAME.key and DIR/NAME.crt (leaf SVID, subject /O=fixture).
make_leaf() {
  local dir=$1 name=$2 icrt=$3 ikey=$4 section=${5:-leaf}
  local start=${6:-$NOW} end=${7:-$(date_in '+1 day')} md=${8:-sha256}
  gen_ec_key "$dir/$name.key"
  make_csr "$dir/$name.key" "/O=fixture" "$WORK/$SCEN-$name.csr"
  sign_with_dates "$WORK/$SCEN-$name.csr" "$dir/$name.crt" "$icrt" "$ikey" \
    "$section" "$start" "$end" "$md"
}

# Temporary per-scenario material (root keys etc. that must not leak out).
tmpdir_for() { mkdir -p "$WORK/s/$1" && echo "$WORK/s/$1"; }

# new_scenario NAME : sets SCEN, D (output dir), T (private work dir).
new_scenario() {
  SCEN=$1
  D="$OUT/$SCEN"
  mkdir -p "$D"
  T=$(tmpdir_for "$SCEN")
}

# finish_meshid_dir : assemble the meshid CA-directory layout from
#   $T/root.crt, $T/int.crt, $T/int.key, $T/leaf.crt, $T/leaf.key
finish_meshid_dir() {
  cp "$T/int.crt" "$D/ca.crt"
  install -m 0600 "$T/int.key" "$D/ca.key"
  cat "$T/int.crt" >"$D/chain.pem"
  cp "$T/root.crt" "$D/bundle.pem"
  cat "$T/leaf.crt" "$D/chain.pem" >"$D/leaf.pem"
  install -m 0600 "$T/leaf.key" "$D/leaf.key"
}

# standard_scenario NAME [LEAF_SECTION] : root 10y -> int 1y -> leaf 1d.
standard_scenario() {
  new_scenario "$1"
  make_root "$T" root
  make_ca "$T" int "$T/root.crt" "$T/root.key"
  make_leaf "$T" leaf "$T/int.crt" "$T/int.key" "${2:-leaf}"
  finish_meshid_dir
}

# yaml_secret OUT NAME NAMESPACE TYPE KEY=FILE... : kubectl-style Secret YAML
# (kubectl prints top-level fields and data keys sorted alphabetically).
yaml_secret() {
  local out=$1 name=$2 ns=$3 type=$4
  shift 4
  local kv k f
  local -a sorted
  mapfile -t sorted < <(printf '%s\n' "$@" | LC_ALL=C sort)
  {
    echo "apiVersion: v1"
    echo "data:"
    for kv in "${sorted[@]}"; do
      k=${kv%%=*}
      f=${kv#*=}
      printf '  %s: %s\n' "$k" "$(base64 -w0 <"$f")"
    done
    echo "kind: Secret"
    echo "metadata:"
    echo "  name: $name"
    echo "  namespace: $ns"
    echo "type: $type"
  } >"$out"
}

# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------

# 1. good
standard_scenario good

# 2. serverauth-only
standard_scenario serverauth-only leaf_serveronly

# 3. expired-intermediate: int 2020-01-01..2021-01-01, leaf inside that window.
#    The root is backdated to 2020-01-01 (ending now + 10y) so that the chain
#    was fully valid inside that window and expiry is the only fault.
new_scenario expired-intermediate
make_root "$T" root "$(date_in '+3650 days')" "" root 20200101000000Z
make_ca "$T" int "$T/root.crt" "$T/root.key" int_pathlen1 \
  20200101000000Z 20210101000000Z
make_leaf "$T" leaf "$T/int.crt" "$T/int.key" leaf \
  20200601000000Z 20200602000000Z
finish_meshid_dir

# 4. intermediate-20d
new_scenario intermediate-20d
make_root "$T" root
make_ca "$T" int "$T/root.crt" "$T/root.key" int_pathlen1 "$NOW" "$(date_in '+20 days')"
make_leaf "$T" leaf "$T/int.crt" "$T/int.key"
finish_meshid_dir

# 5. missing-intermediate: root -> int1 (pathlen:1) -> int2 (pathlen:0) -> leaf,
#    int1 deliberately left out of chain.pem and leaf.pem.
new_scenario missing-intermediate
make_root "$T" root
make_ca "$T" int1 "$T/root.crt" "$T/root.key" int_pathlen1 "$NOW" "$(date_in '+365 days')" ec \
  "/O=fixture/CN=$SCEN intermediate 1"
make_ca "$T" int "$T/int1.crt" "$T/int1.key" int_pathlen0 "$NOW" "$(date_in '+365 days')" ec \
  "/O=fixture/CN=$SCEN intermediate 2"
make_leaf "$T" leaf "$T/int.crt" "$T/int.key"
finish_meshid_dir
cp "$T/int1.crt" "$D/int1.crt"

# 6. root-100d: root ends in 100 days, intermediate capped at 90 days.
new_scenario root-100d
make_root "$T" root "$(date_in '+100 days')"
make_ca "$T" int "$T/root.crt" "$T/root.key" int_pathlen1 "$NOW" "$(date_in '+90 days')"
make_leaf "$T" leaf "$T/int.crt" "$T/int.key"
finish_meshid_dir

# 7. key-mismatch: ca.key replaced by an unrelated key (leaf signed by the real one).
new_scenario key-mismatch
make_root "$T" root
make_ca "$T" int "$T/root.crt" "$T/root.key"
make_leaf "$T" leaf "$T/int.crt" "$T/int.key"
finish_meshid_dir
rm -f "$D/ca.key"
gen_ec_key "$D/ca.key"

# 8. intermediate-outlives-root: root 365 days, intermediate 730 days.
new_scenario intermediate-outlives-root
make_root "$T" root "$(date_in '+365 days')"
make_ca "$T" int "$T/root.crt" "$T/root.key" int_pathlen1 "$NOW" "$(date_in '+730 days')"
make_leaf "$T" leaf "$T/int.crt" "$T/int.key"
finish_meshid_dir

# 9. root-key-online: like good, plus the root private key in the CA dir.
standard_scenario root-key-online
install -m 0600 "$T/root.key" "$D/root.key"

# 10. istio-cacerts: Istio plug-in CA layout (tools/certs Makefile style).
new_scenario istio-cacerts
make_root "$T" root
make_ca "$T" int "$T/root.crt" "$T/root.key"
make_leaf "$T" leaf "$T/int.crt" "$T/int.key"
cp "$T/int.crt" "$D/ca-cert.pem"
# Traditional SEC1 "EC PRIVATE KEY" form.
(umask 077 && quiet openssl ec -in "$T/int.key" -out "$D/ca-key.pem")
chmod 0600 "$D/ca-key.pem"
cp "$T/root.crt" "$D/root-cert.pem"
cat "$D/ca-cert.pem" "$D/root-cert.pem" >"$D/cert-chain.pem"
cat "$T/leaf.crt" "$D/ca-cert.pem" >"$D/leaf.pem"
install -m 0600 "$T/leaf.key" "$D/leaf.key"

# 11. linkerd: trust anchor (ca.crt) + identity issuer (issuer.crt/issuer.key).
new_scenario linkerd
make_root "$T" root "$(date_in '+3650 days')" "/CN=root.linkerd.cluster.local" linkerd_root
make_ca "$T" issuer "$T/root.crt" "$T/root.key" linkerd_issuer "$NOW" "$(date_in '+365 days')" ec \
  "/CN=identity.linkerd.cluster.local"
cp "$T/root.crt" "$D/ca.crt"
cp "$T/issuer.crt" "$D/issuer.crt"
install -m 0600 "$T/issuer.key" "$D/issuer.key"

# 12. secrets: Kubernetes Secret manifests built from the scenarios above.
SCEN=secrets
S="$OUT/secrets"
mkdir -p "$S"
I="$OUT/istio-cacerts"
yaml_secret "$S/istio-cacerts.yaml" cacerts istio-system Opaque \
  "ca-cert.pem=$I/ca-cert.pem" "ca-key.pem=$I/ca-key.pem" \
  "root-cert.pem=$I/root-cert.pem" "cert-chain.pem=$I/cert-chain.pem"
L="$OUT/linkerd"
yaml_secret "$S/linkerd-issuer.yaml" linkerd-identity-issuer linkerd kubernetes.io/tls \
  "tls.crt=$L/issuer.crt" "tls.key=$L/issuer.key" "ca.crt=$L/ca.crt"
for pair in good:meshid-intermediate expired-intermediate:expired-intermediate; do
  src="$OUT/${pair%%:*}"
  yaml_secret "$S/${pair#*:}.yaml" "${pair#*:}" meshid-system Opaque \
    "ca.crt=$src/ca.crt" "ca.key=$src/ca.key" \
    "chain.pem=$src/chain.pem" "bundle.pem=$src/bundle.pem"
done
chmod 0600 "$S"/*.yaml  # they contain private keys

# 13. weak: RSA-1024 intermediate, leaf signed with SHA-1.
# OpenSSL 3.0 (default provider, default security level) signs with
# `openssl ca -md sha1` without extra options: security levels only gate
# TLS and verification, not signing, so nothing special is needed here.
new_scenario weak
make_root "$T" root
make_ca "$T" int "$T/root.crt" "$T/root.key" int_pathlen1 "$NOW" "$(date_in '+365 days')" rsa1024
make_leaf "$T" leaf "$T/int.crt" "$T/int.key" leaf "$NOW" "$(date_in '+1 day')" sha1
finish_meshid_dir
