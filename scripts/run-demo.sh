#!/usr/bin/env bash
# Installs dependencies, builds, and runs the demo: a local origin registry, a
# shoal scheduler, one seed and three peers on loopback, and containerd pulling a
# generated 3-layer image through each peer in turn, then a summary table.
# Arguments are passed to shoal-demo (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh
exec "${BUILD_DIR:-build}/bin/shoal-demo" "$@"
