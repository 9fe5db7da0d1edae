#!/usr/bin/env bash
# Installs every Debian package shoal needs to build, test, demo and benchmark.
# Idempotent: when all packages are already installed it does nothing (no apt-get
# update), so reruns cost a dpkg-query.
set -euo pipefail

PACKAGES=(
  # build (TESTBED.md)
  cmake g++ pkg-config make libtorrent-rasterbar-dev libgrpc++-dev protobuf-compiler-grpc
  libprotobuf-dev protobuf-compiler libabsl-dev libspdlog-dev libgtest-dev libgmock-dev
  libbenchmark-dev libssl-dev libsqlite3-dev libyaml-cpp-dev nlohmann-json3-dev
  libcpp-httplib-dev libcurl4-openssl-dev
  # real parts for integration tests, demo and benchmarks
  docker-registry containerd skopeo apache2-utils curl iproute2 iperf3
  # tooling
  ccache clang-format gnuplot-nox git
)

missing=()
for p in "${PACKAGES[@]}"; do
  if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != "installed" ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null; then
    SUDO=(sudo)
  else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
