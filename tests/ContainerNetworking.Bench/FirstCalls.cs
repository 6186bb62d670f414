using System.Globalization;
using System.Text.Json;

namespace ContainerNetworking.Bench;

/// <summary>
/// The first calls of a session, as a script meets them: in a fresh pwsh after Import-Module, New-ContainerNetwork,
/// then Connect-ContainerNetwork -CreateNamespace -Publish 80, then a second Connect of another container (which the
/// JIT no longer delays), each timed in the script; and how many methods the runtime compiled for the first two
/// (<c>JitInfo.GetCompiledMethodCount</c>: pwsh's and the framework's included). One pwsh process per run, in the
/// bench's throwaway host namespace with a state directory of its own; the containers are the bench's
/// "cnb-PID-firstK" namespaces, which the script removes again (and Cleanup sweeps, should pwsh die).
/// </summary>
public static class FirstCalls
{
    public sealed record Run(double NewNetworkMs, double ConnectMs, double SecondConnectMs, long JitMethods);

    public sealed record Result(string Status, List<Run> Runs)
    {
        public double? NewNetworkMs => Median(r => r.NewNetworkMs);
        public double? ConnectMs => Median(r => r.ConnectMs);
        public double? SecondConnectMs => Median(r => r.SecondConnectMs);
        public double? JitMethods => Median(r => r.JitMethods);

        private double? Median(Func<Run, double> f) => Runs.Count == 0 ? null : Stats.Median(Runs.Select(f));

        public string Line() => Runs.Count == 0
            ? $"First calls in a fresh pwsh: {Status}"
            : string.Create(CultureInfo.InvariantCulture,
                $"First calls in a fresh pwsh (median of {Runs.Count}): New-ContainerNetwork {NewNetworkMs:F1} ms, Connect-ContainerNetwork -CreateNamespace -Publish 80 {ConnectMs:F1} ms, a second Connect {SecondConnectMs:F1} ms; the runtime compiled {JitMethods:F0} methods for the first two");
    }

    public static Result Measure(int runs = 3)
    {
        var (pwsh, module, why) = ImportModule.Find();
        if (pwsh is null || module is null) return new($"skipped ({why})", []);
        var script = Path.Combine(Cleanup.TempDir, "first-calls.ps1");
        File.WriteAllText(script, Script);
        var result = new Result("measured", []);
        try
        {
            using var t = new Topology();
            for (var k = 0; k < runs; k++)
            {
                Cleanup.ThrowIfStopping();
                var r = Sh.Run(pwsh, ["-NoProfile", "-NonInteractive", "-File", script, "-Module", module, "-HostNs", t.Host,
                    "-State", Path.Combine(Cleanup.TempDir, $"state-first-{k}"), "-Prefix", Cleanup.Name("first")], check: false, timeoutMs: 120_000);
                var line = r.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("FIRST ", StringComparison.Ordinal));
                if (r.ExitCode != 0 || line is null)
                    return result with { Status = $"failed ({r.ExitCode}): {(r.Stderr + r.Stdout).Trim().Split('\n').LastOrDefault()}" };
                using var j = JsonDocument.Parse(line[6..]);
                var e = j.RootElement;
                result.Runs.Add(new(e.GetProperty("newNetwork").GetDouble(), e.GetProperty("connect").GetDouble(),
                    e.GetProperty("secondConnect").GetDouble(), e.GetProperty("jit").GetInt64()));
                Thread.Sleep(300);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException and not RootNamespaceChangedException)
        {
            return result with { Status = "ERROR " + e.Message };
        }
        finally
        {
            Cleanup.RemoveEtcNetns("first");
        }
        return result;
    }

    /// <summary>The pwsh side: prints one line "FIRST {json}" (ms, and the compiled methods); exit 1 on any error.</summary>
    private const string Script = """
        param([string]$Module, [string]$HostNs, [string]$State, [string]$Prefix)
        $ErrorActionPreference = 'Stop'
        Import-Module $Module
        $common = @{ NetNamespace = $HostNs; StateDirectory = $State }
        $eps = @()
        try {
            $m0 = [System.Runtime.JitInfo]::GetCompiledMethodCount($false)
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $null = New-ContainerNetwork cnfirst -Subnet 10.124.0.0/24 @common
            $a = $sw.Elapsed.TotalMilliseconds
            $sw.Restart()
            $eps += Connect-ContainerNetwork cnfirst -Container "${Prefix}0" -CreateNamespace -Publish 80 @common
            $b = $sw.Elapsed.TotalMilliseconds
            $m1 = [System.Runtime.JitInfo]::GetCompiledMethodCount($false)
            $sw.Restart()
            $eps += Connect-ContainerNetwork cnfirst -Container "${Prefix}1" -CreateNamespace -Publish 80 @common
            $c = $sw.Elapsed.TotalMilliseconds
            'FIRST ' + (@{ newNetwork = $a; connect = $b; secondConnect = $c; jit = $m1 - $m0 } | ConvertTo-Json -Compress)
        }
        finally {
            $eps | Disconnect-ContainerNetwork -ErrorAction Continue
            Remove-ContainerNetwork cnfirst @common -ErrorAction Continue
        }
        """;
}
