#!/usr/bin/env bash
# The README's test command: sets up a fresh machine, then runs every test: the xunit suite against the real kernel
# (in throwaway namespaces only), which includes the help check, then the whole Pester suite (runbooks included) in
# pwsh. setup.sh installs pwsh (the .NET global tool) and Pester (from NuGet) where they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/setup.sh
export PATH="$PATH:$HOME/.dotnet/tools"
# No diagnostics server in the .NET processes of the run (the test hosts, the agents the crash tests kill, pwsh): each
# makes two pipes and a socket in /tmp, which a process killed with SIGKILL never removes (the crash tests left
# about 450 per run of theirs).
export DOTNET_EnableDiagnostics=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test ContainerNetworking.slnx -c Release 2>&1 | tee "$log" || status=$?
if command -v pwsh >/dev/null 2>&1; then
  pwsh -NoProfile -NonInteractive -File ./build.ps1 -Task Pester 2>&1 | tee -a "$log" || status=$?
fi
# Pester must have run and reported: a run where it could not start is a failure, not a skip.
if ! sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -Eq '^Tests Passed: [0-9]+, Failed: [0-9]+'; then
  echo "the Pester suite did not run (pwsh or Pester missing, or it failed to start): that is a failure" >&2
  status=1
fi
# One closing line for the whole run: "N passed, N failed, N skipped".
read -r passed failed skipped < <(awk '
  /^(Passed|Failed)!  - Failed:/ { gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
  /^Tests Passed: [0-9]+, Failed: [0-9]+/ { gsub(",", ""); p += $3; f += $5; s += $7 }
  END { print p+0, f+0, s+0 }' < <(sed 's/\x1b\[[0-9;]*m//g' "$log"))
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "no test ran: that is a failure" >&2
  status=1
fi
echo "Tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
