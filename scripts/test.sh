#!/usr/bin/env bash
# Installs the dependencies, builds meshid with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs every unit and integration test through CTest; then
# fuzzes the policy YAML loader for 30 seconds (scripts/fuzz.sh, clang + libFuzzer).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset asan
cmake --build --preset asan
ctest --preset asan "$@"
./scripts/fuzz.sh 30
