#!/usr/bin/env bash
# policy_eval_test.sh - `meshid policy eval`: exit status 0 ALLOW / 1 DENY / 2 bad input,
# the text and JSON answers for a small set of Istio policies, and malformed policy files
# and arguments answered with exit 2 and one line on stderr that names the problem, with
# nothing on stdout and no crash.
#
# Usage: policy_eval_test.sh /path/to/meshid
# Needs bash, coreutils, grep, sed and awk. Works in its own temporary directory.

set -euo pipefail

. "$(dirname -- "${BASH_SOURCE[0]}")/lib/assert.sh"

setup_test "$@"

mkdir policies
cat >policies/pa.yaml <<'YAML'
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: legacy-port
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  portLevelMtls:
    9000:
      mode: PERMISSIVE
YAML
cat >policies/authz.yaml <<'YAML'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/bar/sa/sleep"]
    to:
    - operation:
        methods: ["GET"]
        paths: ["/info*"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-private
  namespace: foo
spec:
  action: DENY
  rules:
  - to:
    - operation:
        ports: ["8000"]
        paths: ["/private*"]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: unrelated
YAML

SLEEP=cluster.local/ns/bar/sa/sleep
EVAL=("$MESHID" policy eval -f policies --namespace foo --labels app=httpbin,version=v1)

# ---------------------------------------------------------------------------
test_case "help documents the JSON keys and has examples"
expect_exit 0 "$MESHID" policy eval --help
expect_contains "$OUT_FILE" "Examples:"
for key in decision policy reason mtls_mode mtls_policy audit notes; do
  expect_contains "$OUT_FILE" "  $key "
done

test_case "a matching ALLOW: exit 0"
expect_exit 0 "${EVAL[@]}" --port 8000 --peer-principal "$SLEEP" --method GET --path /info/x
expect_first_line_contains "$OUT_FILE" "ALLOW"
expect_contains "$OUT_FILE" "foo/httpbin"
expect_contains "$OUT_FILE" "STRICT (istio-system/default)"
expect_contains "$OUT_FILE" "kind ConfigMap (v1) skipped"
expect_empty "$ERR_FILE"

test_case "no ALLOW matches: exit 1, JSON"
expect_exit 1 "${EVAL[@]}" --port 8000 --peer-principal "$SLEEP" --method POST --path /info -o json
expect_contains "$OUT_FILE" '"decision": "DENY"'
expect_contains "$OUT_FILE" '"reason": "no_allow_match"'
expect_contains "$OUT_FILE" '"policy": "default"'
expect_contains "$OUT_FILE" '"protocol": "http"'

test_case "plaintext under STRICT is plaintext_rejected"
expect_exit 1 "${EVAL[@]}" --port 8000 --plaintext -o json
expect_contains "$OUT_FILE" '"reason": "plaintext_rejected"'
expect_contains "$OUT_FILE" '"mtls_mode": "STRICT"'
expect_contains "$OUT_FILE" '"policy": "istio-system/default"'

test_case "plaintext on the PERMISSIVE port reaches authorization"
expect_exit 1 "${EVAL[@]}" --port 9000 -o json
expect_contains "$OUT_FILE" '"mtls_mode": "PERMISSIVE"'
expect_contains "$OUT_FILE" '"reason": "no_allow_match"'
expect_contains "$OUT_FILE" '"protocol": "tcp"'

test_case "an encoded ../ does not get past the DENY"
expect_exit 1 "${EVAL[@]}" --port 8000 --peer-principal "$SLEEP" --path '/info/%2E%2E/private/key' -o json
expect_contains "$OUT_FILE" '"policy": "foo/deny-private"'
expect_contains "$OUT_FILE" '"path": "/private/key"'

test_case "a path above the root is denied"
expect_exit 1 "${EVAL[@]}" --port 8000 --peer-principal "$SLEEP" --path '/info/../../etc/passwd'
expect_contains "$OUT_FILE" "path_escapes_root"

test_case "HTTP-only ALLOW rule never matches TCP"
expect_exit 1 "${EVAL[@]}" --port 9000 --peer-principal "$SLEEP"
expect_contains "$OUT_FILE" "no_allow_match"
expect_contains "$OUT_FILE" "never matches a TCP connection"

test_case "HTTP-only fields of a DENY rule are ignored on TCP: it denies more"
expect_exit 1 "${EVAL[@]}" --port 8000 --peer-principal "$SLEEP"
expect_contains "$OUT_FILE" "denied_by_policy"
expect_contains "$OUT_FILE" "foo/deny-private"

test_case "a workload without the label is not selected"
expect_exit 0 "$MESHID" policy eval -f policies/authz.yaml --namespace foo --port 9000 --plaintext
expect_contains "$OUT_FILE" "no_allow_policies"

# ---------------------------------------------------------------------------
# Bad input: exit 2, exactly one line on stderr starting "meshid: " and containing TEXT,
# nothing on stdout.
expect_bad() {
  local text=$1
  shift
  expect_exit 2 "$@"
  expect_one_line "$ERR_FILE"
  expect_line_starting "$ERR_FILE" "meshid: "
  expect_contains "$ERR_FILE" "$text"
  expect_empty "$OUT_FILE"
}

mkdir bad
: >bad/empty.yaml
printf '{ not: [yaml\n' >bad/not-yaml.yaml
head -c $((5 * 1024 * 1024)) /dev/urandom >bad/random.bin
head -c 300000 /dev/zero | tr '\0' '[' >bad/deep.yaml
cat >bad/wrong-type.yaml <<'YAML'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: a, namespace: foo}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: b, namespace: foo}
spec:
  rules:
  - from:
    - source:
        principals: cluster.local/ns/bar/sa/sleep
YAML
cat >bad/unknown-field.yaml <<'YAML'
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: p, namespace: foo}
spec:
  mtls: {mode: STRICT}
  portLevelMTLS: {}
YAML
cat >bad/when-key.yaml <<'YAML'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: w, namespace: foo}
spec:
  rules:
  - when:
    - key: request.method
      values: ["GET"]
YAML
cat >bad/cidr.yaml <<'YAML'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: c, namespace: foo}
spec:
  rules:
  - from:
    - source:
        ipBlocks: ["10.0.0.0/40"]
YAML
cat >bad/custom.yaml <<'YAML'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: foo}
spec:
  action: CUSTOM
  provider: {name: opa}
  rules: [{}]
YAML
mkdir bad/no-yaml-here

BASE=(--namespace foo --port 8000)

test_case "malformed policy files"
ASSERT_DETAIL="empty file"
expect_bad "bad/empty.yaml: is empty" "$MESHID" policy eval -f bad/empty.yaml "${BASE[@]}"
ASSERT_DETAIL="not YAML"
expect_bad "bad/not-yaml.yaml: not valid YAML" "$MESHID" policy eval -f bad/not-yaml.yaml "${BASE[@]}"
ASSERT_DETAIL="5 MB of random bytes"
expect_bad "bad/random.bin" "$MESHID" policy eval -f bad/random.bin "${BASE[@]}"
ASSERT_DETAIL="300k-deep flow nesting"
expect_bad "nested too deeply" "$MESHID" policy eval -f bad/deep.yaml "${BASE[@]}"
ASSERT_DETAIL="wrong type"
expect_bad "bad/wrong-type.yaml doc 2: spec.rules[0].from[0].source.principals: expected a list of strings" \
  "$MESHID" policy eval -f bad/wrong-type.yaml "${BASE[@]}"
ASSERT_DETAIL="unknown field"
expect_bad "bad/unknown-field.yaml doc 1: spec.portLevelMTLS: unknown field" \
  "$MESHID" policy eval -f bad/unknown-field.yaml "${BASE[@]}"
ASSERT_DETAIL="unknown when key"
expect_bad 'spec.rules[0].when[0].key: unknown condition key "request.method"' \
  "$MESHID" policy eval -f bad/when-key.yaml "${BASE[@]}"
ASSERT_DETAIL="invalid CIDR"
expect_bad 'spec.rules[0].from[0].source.ipBlocks[0]: "10.0.0.0/40" is not an IP address or CIDR block' \
  "$MESHID" policy eval -f bad/cidr.yaml "${BASE[@]}"
ASSERT_DETAIL="CUSTOM action"
expect_bad "spec.action: CUSTOM is not supported" "$MESHID" policy eval -f bad/custom.yaml "${BASE[@]}"
ASSERT_DETAIL="a good file and a bad one: nothing half-loaded"
expect_bad "bad/cidr.yaml" "$MESHID" policy eval -f policies -f bad/cidr.yaml "${BASE[@]}"
ASSERT_DETAIL="missing file"
expect_bad "bad/missing.yaml" "$MESHID" policy eval -f bad/missing.yaml "${BASE[@]}"
ASSERT_DETAIL="directory without YAML"
expect_bad "holds no .yaml" "$MESHID" policy eval -f bad/no-yaml-here "${BASE[@]}"

test_case "malformed arguments"
ASSERT_DETAIL="both --peer-principal and --plaintext"
expect_bad "not both" "${EVAL[@]}" --port 8000 --peer-principal "$SLEEP" --plaintext
ASSERT_DETAIL="bad principal"
expect_bad "--peer-principal" "${EVAL[@]}" --port 8000 --peer-principal "Cluster.Local//ns"
ASSERT_DETAIL="bad source IP"
expect_bad '--source-ip "10.0.0.300"' "${EVAL[@]}" --port 8000 --source-ip 10.0.0.300
ASSERT_DETAIL="bad label"
expect_bad '--labels "=x"' "${EVAL[@]}" --port 8000 --labels =x
expect_bad '--labels: "app" given twice' "${EVAL[@]}" --port 8000 --labels app=a,app=b
ASSERT_DETAIL="bad header"
expect_bad '--header "x-token"' "${EVAL[@]}" --port 8000 --header x-token
ASSERT_DETAIL="relative path"
expect_bad "--path \"info\" must start with '/'" "${EVAL[@]}" --port 8000 --path info
ASSERT_DETAIL="port out of range"
expect_bad "--port" "${EVAL[@]}" --port 70000
ASSERT_DETAIL="no port"
expect_bad "--port is required" "${EVAL[@]}"
ASSERT_DETAIL="no file"
expect_bad "--file is required" "$MESHID" policy eval "${BASE[@]}"

pass_all
