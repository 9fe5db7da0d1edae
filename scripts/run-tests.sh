#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit and integration, long
# ones included). SHOAL_TEST_FAST=1 skips tests labelled "long".
# Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh

BUILD_DIR="${BUILD_DIR:-build}"
args=(--test-dir "$BUILD_DIR" --output-on-failure --no-tests=error)
if [[ "${SHOAL_TEST_FAST:-0}" == "1" ]]; then
  args+=(-LE long)
fi
# Integration tests start several daemons each: run tests one at a time on this
# 2-core machine unless told otherwise.
args+=(-j "${CTEST_PARALLEL_LEVEL:-1}")
exec ctest "${args[@]}"
