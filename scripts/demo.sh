#!/usr/bin/env bash
# meshid's main job until the local mesh exists: install the dependencies, build an
# optimized meshid, and run the tour (scripts/tour.sh) in ./demo-out.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset release
cmake --build --preset release
./scripts/tour.sh build/release/apps/meshid/meshid demo-out
