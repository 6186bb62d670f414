#!/usr/bin/env bash
# The benchmark, without pwsh: "attach N containers" through ContainerNetworking and through the tools users would
# pick instead (one ip/iptables command per step, ip -batch + nft -f, the CNI plugins, netavark), port scale, and a
# raw-netlink C floor, in one run. Everything happens inside network namespaces the bench creates and removes
# (also on Ctrl-C); the root namespace is compared before/after and never changed.
#
#   build/bench.sh [--install-peers] [--quick] [--n 1,10,100,1000] [--runs R] [--peers all|none|seeds,batch,cni,cni-ours,netavark]
#                  [--ports 1,100,1000,5000] [--json FILE]
#
# --install-peers installs from Debian, through build/setup.sh, what the tests need plus the peers: iptables,
# containernetworking-plugins, netavark, gcc (only what is missing). Every other argument goes to the bench. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "bench: needs root (it creates network namespaces, links and nf_tables rules inside namespaces of its own)." >&2
  exit 1
fi
args=()
install=0
for a in "$@"; do
  if [ "$a" = "--install-peers" ]; then install=1; else args+=("$a"); fi
done
if [ "$install" = 1 ]; then
  bash build/setup.sh iptables containernetworking-plugins netavark gcc libc6-dev
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "bench: the .NET SDK is required (build/setup.sh)." >&2
  exit 1
fi
exec dotnet run -c Release --project tests/ContainerNetworking.Bench -- "${args[@]}"
