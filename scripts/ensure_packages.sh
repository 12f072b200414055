#!/usr/bin/env bash
# Installs the Debian packages the test suite and the artifact builds need, only when missing.
# Usage: scripts/ensure_packages.sh [test|bench]   (bench adds the benchmark baselines)
# Needs root for apt-get; prints what it installs. Idempotent and quick when all are present.
set -euo pipefail

# Tests: netns routers (iproute2, iptables), XDP (libbpf1; clang/llvm/libbpf-dev rebuild the
# committed objects), the WASM rebuild (Debian's rustc with the wasm32 std), real peers
# (yggdrasil; qemu + Debian's kernel + busybox + batctl for batman-adv in a guest), openssl
# (certificate checks), protoc + grpcio (the stand-in SPIFFE Workload API server).
packages=(iproute2 iptables iputils-ping procps util-linux kmod openssl libbpf1 libbpf-dev clang llvm
  protobuf-compiler python3-grpcio python3-protobuf
  rustc cargo libstd-rust-dev-wasm32 lld-14 yggdrasil
  qemu-system-x86 linux-image-amd64 busybox-static batctl cpio xz-utils)
if [ "${1:-test}" = "bench" ]; then
  # Side-by-side baselines and traffic generators for the benchmarks.
  packages+=(babeld iperf3 python3-igraph python3-sklearn python3-networkx python3-numpy hyperfine util-linux)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "ensure_packages: missing ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "ensure_packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
