#!/usr/bin/env bash
# Configures (RelWithDebInfo) and builds everything into build/.
# BUILD_DIR and CMAKE_BUILD_TYPE may be overridden; extra args go to cmake --build.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${BUILD_DIR:-build}"
BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}"
JOBS="${JOBS:-$(nproc)}"

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE"
cmake --build "$BUILD_DIR" -j"$JOBS" "$@"
