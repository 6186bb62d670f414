#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmarks need on a fresh machine (Debian), and nothing when it is there.
# Needs root: the module creates network namespaces, links and nf_tables rules.
#   build/setup.sh [PACKAGE…]   also installs the Debian packages named (build/bench.sh --install-peers does).
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "ContainerNetworking needs root (or CAP_NET_ADMIN + CAP_SYS_ADMIN): run this as root." >&2
  exit 1
fi
# iproute2 and nftables are oracles in tests (ip -j, nft -j); the rest make traffic inside test namespaces.
# etcd-server: the cluster tests start their own etcd (127.0.0.1, free ports, a temporary data directory).
# containernetworking-plugins (/usr/lib/cni) and iptables: the CNI plugin's tests run the reference plugins side by
# side. Installing them starts nothing (no systemd here, and Debian's policy-rc.d; where systemd runs, only the
# cni-dhcp socket unit is enabled) and nothing touches the network until a runtime execs a plugin.
# podman, runc, busybox-static and curl: the Podman runbook (S005) runs Podman 4.3 on its CNI backend with runc (crun
# is not installed) on an image imported from busybox-static's /bin/busybox, and fetches its page with curl. Nothing is
# started while installing (a policy-rc.d that refuses every start, where none exists), and Podman's units
# (podman.socket, podman.service, podman-restart.service, podman-auto-update.timer), which its postinst enables, are
# disabled below; Podman touches no network until someone runs it, and the runbook runs it with a configuration of
# its own inside a throwaway namespace. The package drops /etc/cni/net.d/87-podman-bridge.conflist (cni-podman0,
# 10.88.0.0/16), which only a Podman run without such a configuration would use, on the namespace it runs in.
pkgs=(iproute2 nftables iputils-ping conntrack ncat socat procps graphviz etcd-server containernetworking-plugins iptables
      podman runc busybox-static curl "$@")
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# build/setup.sh: start no service while packages are installed\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$(trap -p EXIT)" ]; then rm -f "$policy"; trap - EXIT; fi
fi
# Podman's service, socket, restart service and auto-update timer: disabled (and stopped where systemd runs), so
# nothing of Podman starts at boot either.
if dpkg -s podman >/dev/null 2>&1; then
  units=(podman.socket podman.service podman-restart.service podman-auto-update.timer podman-auto-update.service)
  if command -v systemctl >/dev/null 2>&1; then
    if [ -d /run/systemd/system ]; then systemctl disable --now "${units[@]}" >/dev/null 2>&1 || true
    else systemctl --no-reload disable "${units[@]}" >/dev/null 2>&1 || true; fi   # offline: removes the links
  fi
fi
# The etcd-server package enables a system etcd on 127.0.0.1:2379; the tests need none (they start their own on free
# ports), so it is stopped and disabled where an init system runs it.
if dpkg -s etcd-server >/dev/null 2>&1; then
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now etcd >/dev/null 2>&1 || true
  elif [ -x /etc/init.d/etcd ]; then
    /etc/init.d/etcd stop >/dev/null 2>&1 || true
  fi
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET SDK (8.0 or later) is required: install it and run again." >&2
  exit 1
fi
# PowerShell: the .NET global tool (lands in ~/.dotnet/tools, which the callers put on PATH) unless a pwsh exists.
PWSH_VERSION=7.6.9
PESTER_VERSION=5.9.1
export PATH="$PATH:$HOME/.dotnet/tools"
if ! command -v pwsh >/dev/null 2>&1; then
  echo "setup: installing PowerShell $PWSH_VERSION (dotnet tool install --global PowerShell)"
  dotnet tool install --global PowerShell --version "$PWSH_VERSION" >/dev/null
fi
# Pester from NuGet (its package's tools/ folder is the module) into pwsh's user module path.
pester_dir="$HOME/.local/share/powershell/Modules/Pester/$PESTER_VERSION"
if [ ! -f "$pester_dir/Pester.psd1" ]; then
  echo "setup: installing Pester $PESTER_VERSION from NuGet"
  dotnet restore "$(dirname "$0")/tools/tools.csproj" --nologo -v quiet >/dev/null
  pkg="${NUGET_PACKAGES:-$HOME/.nuget/packages}/pester/$PESTER_VERSION/tools"
  mkdir -p "$pester_dir"
  cp -R "$pkg/." "$pester_dir/"
fi
