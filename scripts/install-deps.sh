#!/usr/bin/env bash
# Installs every Debian 12 package meshid needs to build, test and run. Idempotent and
# non-interactive: when everything is already installed it changes nothing and touches no
# network. Runs apt as root directly, or through sudo when available.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config clang-format clang-tidy
  # clang + libFuzzer (libclang_rt.fuzzer) for the `fuzz` preset (scripts/fuzz.sh)
  clang libclang-rt-14-dev
  # libraries (DESIGN.md, "Chosen dependencies")
  libssl-dev libabsl-dev libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc libsqlite3-dev
  libcpp-httplib-dev prometheus-cpp-dev
  # Boost.URL: request-path normalization for policy matching (src/policy/path.cc)
  libboost-url1.81-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # peers and tools the integration tests drive (python3-jwt: an independent JWT-SVID
  # implementation for pki_test, importable by /usr/bin/python3)
  openssl curl prometheus python3-jwt python3-cryptography
  # jq: the Istio-documentation corpus test reads `policy eval -o json` with it
  jq
  # sqlite3: bench/ca_sign counts the issuance records the server wrote
  sqlite3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
