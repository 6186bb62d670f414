#!/usr/bin/env bash
# The README's main job: sets up a fresh machine, then builds Docker's bridge network with NAT and a published port
# (scenarios S001 and S000) inside namespaces it creates, proves it with real packets, draws it, and removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/setup.sh
exec dotnet run -c Release --project tests/ContainerNetworking.Demo -- "$@"
