using System.Globalization;
using System.Text.Json;

namespace ContainerNetworking.Bench;

/// <summary>
/// One run of the bulk-pipeline figure at one N, ms per container: Connect-/Disconnect-ContainerNetwork as one pipeline
/// and as N single calls; the progress records the two pipelines wrote.
/// </summary>
public sealed record BulkRun(double BulkConnectMs, double BulkDisconnectMs, double SingleConnectMs, double SingleDisconnectMs, int ConnectProgress, int DisconnectProgress);

public sealed class BulkResult(int n)
{
    public int N { get; } = n;
    public List<BulkRun> Runs { get; } = [];
    public double BulkConnectMs => Stats.Median(Runs.Select(r => r.BulkConnectMs));
    public double BulkDisconnectMs => Stats.Median(Runs.Select(r => r.BulkDisconnectMs));
    public double SingleConnectMs => Stats.Median(Runs.Select(r => r.SingleConnectMs));
    public double SingleDisconnectMs => Stats.Median(Runs.Select(r => r.SingleDisconnectMs));
    /// <summary>Median over runs of pipeline ÷ single calls, each run's two figures taken minutes apart at most: on a
    /// shared machine the load drifts less between the two halves of one run than between runs.</summary>
    public double ConnectRatio => Stats.Median(Runs.Select(r => r.BulkConnectMs / r.SingleConnectMs));
    public double DisconnectRatio => Stats.Median(Runs.Select(r => r.BulkDisconnectMs / r.SingleDisconnectMs));
    public int ConnectProgress => Runs.Min(r => r.ConnectProgress);
    public int DisconnectProgress => Runs.Min(r => r.DisconnectProgress);

    public string Line() => string.Create(CultureInfo.InvariantCulture,
        $"{"pwsh-bulk",-10} N={N,-5} runs={Runs.Count}  Connect: pipeline {BulkConnectMs,8:F3} / single calls {SingleConnectMs,8:F3} ms/container ({ConnectRatio:F2}×, {ConnectProgress} progress records)  Disconnect: pipeline {BulkDisconnectMs,8:F3} / single calls {SingleDisconnectMs,8:F3} ms/container ({DisconnectRatio:F2}×, {DisconnectProgress} progress records)");
}

/// <summary>
/// Issue 14's bulk target: <c>names | Connect-ContainerNetwork pods -CreateNamespace -Publish 80</c> at least as fast
/// per container as N single calls in a foreach loop, with progress shown; and the same for Disconnect-ContainerNetwork
/// (the pipeline's endpoints piped in, against one call per container name). Everything runs in ONE pwsh process after
/// Import-Module, in a runspace of its own whose Streams.Progress collects the progress records (so the bench can say
/// that progress was written). The network lives in the bench's throwaway host namespace with a private state
/// directory; the containers are the bench's "cnb-PID-ctrI" namespaces, which the cmdlets create and delete. Each
/// published port is '80' (the cmdlet picks a free host port per container): the cmdlet takes one -Publish for the
/// whole pipeline, so that is how every item of a pipeline gets a port of its own. Runs alternate which of the two
/// goes first; after each step the bridge's ports are counted (N after Connect, 0 after Disconnect).
/// </summary>
public static class PwshBulk
{
    private const string Network = "cnbulk";

    public static void Run(Options opt, Report report)
    {
        var ns = opt.Ns.Where(n => n >= 10).ToArray();
        if (ns.Length == 0) return;
        var (pwsh, module, why) = ImportModule.Find();
        if (pwsh is null || module is null)
        {
            report.BulkStatus = "skipped: " + why;
            Console.WriteLine($"{"pwsh-bulk",-10} skipped: {why}");
            return;
        }
        Cleanup.ThrowIfStopping();
        var script = Path.Combine(Cleanup.TempDir, "bulk.ps1");
        File.WriteAllText(script, Script);
        var state = Path.Combine(Cleanup.TempDir, "state-bulk");
        var results = ns.ToDictionary(n => n, n => new BulkResult(n));
        try
        {
            using var t = new Topology();
            // Small N: more runs (a pipeline of 10 takes a tenth of a second, a noisy second can double it), so that
            // each N has at least 200 containers' worth of runs; the paired ratios' median decides. --quick keeps its
            // few runs (20 runs at N = 10 take half a minute or more).
            var runs = ns.Select(n => opt.Runs ?? (opt.Quick ? opt.RunsFor(n) : Math.Max(opt.RunsFor(n), (200 + n - 1) / n))).ToArray();
            var r = Sh.Run(pwsh, ["-NoProfile", "-NonInteractive", "-File", script,
                "-Module", module, "-HostNs", t.Host, "-State", state, "-Network", Network, "-Bridge", Topology.Bridge, "-Subnet", Topology.Subnet,
                "-Prefix", Cleanup.Name("ctr"), "-N", string.Join(',', ns), "-Runs", string.Join(',', runs)],
                check: false, timeoutMs: 3_600_000);
            foreach (var line in r.Stdout.Split('\n').Where(l => l.StartsWith("BULK ", StringComparison.Ordinal)))
            {
                using var j = JsonDocument.Parse(line[5..]);
                var e = j.RootElement;
                double D(string k) => e.GetProperty(k).GetDouble();
                var n = e.GetProperty("n").GetInt32();
                results[n].Runs.Add(new BulkRun(D("bulkConnect") / n, D("bulkDisconnect") / n, D("singleConnect") / n, D("singleDisconnect") / n,
                    e.GetProperty("connectProgress").GetInt32(), e.GetProperty("disconnectProgress").GetInt32()));
            }
            if (r.ExitCode != 0)
                throw new CommandFailedException($"pwsh failed ({r.ExitCode}): {(r.Stderr + r.Stdout.Split('\n').LastOrDefault(l => l.Length > 0 && !l.StartsWith("BULK ", StringComparison.Ordinal))).Trim()}");
        }
        catch (Exception e) when (e is not OperationCanceledException and not RootNamespaceChangedException)
        {
            report.BulkStatus = "ERROR " + e.Message;
            Console.WriteLine($"{"pwsh-bulk",-10} ERROR {e.Message}");
        }
        finally
        {
            // A pwsh that died half-way may leave the containers' /etc/netns files (the namespaces go with Topology).
            Cleanup.RemoveEtcNetns("ctr");
        }
        foreach (var res in results.Values.Where(x => x.Runs.Count > 0))
        {
            report.Bulk.Add(res);
            Console.WriteLine(res.Line());
        }
        report.BulkStatus ??= "measured";
    }

    /// <summary>The pwsh side. Prints one line "BULK {json}" per run (totals in ms); throws (exit 1) on any error.</summary>
    private const string Script = """
        param([string]$Module, [string]$HostNs, [string]$State, [string]$Network, [string]$Bridge, [string]$Subnet, [string]$Prefix, [string]$N, [string]$Runs)
        $ErrorActionPreference = 'Stop'
        $ns = [int[]]($N -split ','); $rc = [int[]]($Runs -split ',')
        $rs = [runspacefactory]::CreateRunspace(); $rs.Open()
        $ps = [powershell]::Create(); $ps.Runspace = $rs
        # One step in the work runspace; returns its output and the progress records it wrote. Any error ends the run.
        function Step([string]$Code, [hashtable]$Arguments = @{}) {
            $ps.Commands.Clear(); $ps.Streams.ClearStreams()
            $out = $ps.AddScript($Code).AddParameters($Arguments).Invoke()
            if ($ps.Streams.Error.Count -gt 0) { throw "step failed: $($ps.Streams.Error[0]) ($($ps.Streams.Error.Count) error(s))" }
            [pscustomobject]@{ Out = $out; Progress = $ps.Streams.Progress.Count }
        }
        function Ports { @(& ip -n $HostNs -o link show master $Bridge).Count }
        function Expect([int]$Want, [string]$After) { $got = Ports; if ($got -ne $Want) { throw "after $After the bridge has $got ports, not $Want" } }
        $common = @{ h = $HostNs; s = $State; net = $Network }
        $bulkConnect = 'param($names, $h, $s, $net) $sw = [Diagnostics.Stopwatch]::StartNew(); $global:eps = $names | Connect-ContainerNetwork $net -CreateNamespace -Publish 80 -NetNamespace $h -StateDirectory $s; $sw.Elapsed.TotalMilliseconds'
        $bulkDisconnect = 'param($names, $h, $s, $net) $sw = [Diagnostics.Stopwatch]::StartNew(); $global:eps | Disconnect-ContainerNetwork; $sw.Elapsed.TotalMilliseconds'
        $singleConnect = 'param($names, $h, $s, $net) $sw = [Diagnostics.Stopwatch]::StartNew(); $global:eps = foreach ($x in $names) { Connect-ContainerNetwork $net -Container $x -CreateNamespace -Publish 80 -NetNamespace $h -StateDirectory $s }; $sw.Elapsed.TotalMilliseconds'
        $singleDisconnect = 'param($names, $h, $s, $net) $sw = [Diagnostics.Stopwatch]::StartNew(); foreach ($x in $names) { Disconnect-ContainerNetwork $net $x -NetNamespace $h -StateDirectory $s }; $sw.Elapsed.TotalMilliseconds'
        function Pair([string]$Connect, [string]$Disconnect, [string[]]$Names, [string]$What) {
            $c = Step $Connect ($common + @{ names = $Names })
            Expect $Names.Count "$What Connect"
            $d = Step $Disconnect ($common + @{ names = $Names })
            Expect 0 "$What Disconnect"
            # The kernel frees deleted namespaces asynchronously (cleanup_net): let it finish before the next step, as
            # the scenario does between runs, so that it does not slow whichever step comes next.
            Start-Sleep -Milliseconds (300 + $Names.Count)
            [pscustomobject]@{ C = [double]$c.Out[-1]; D = [double]$d.Out[-1]; CP = $c.Progress; DP = $d.Progress }
        }
        try {
            $null = Step 'param($m) Import-Module $m' @{ m = $Module }
            $null = Step 'param($h, $s, $net, $b, $sub) $null = New-ContainerNetwork $net -Subnet $sub -BridgeName $b -NetNamespace $h -StateDirectory $s' ($common + @{ b = $Bridge; sub = $Subnet })
            # Warm-up (JIT, caches) of both ways, untimed.
            $w = 0..2 | ForEach-Object { "$Prefix$_" }
            $null = Pair $bulkConnect $bulkDisconnect $w 'the warm-up pipeline'
            $null = Pair $singleConnect $singleDisconnect $w 'the warm-up single calls'
            for ($i = 0; $i -lt $ns.Count; $i++) {
                $count = $ns[$i]
                $names = [string[]](0..($count - 1) | ForEach-Object { "$Prefix$_" })
                for ($k = 0; $k -lt $rc[$i]; $k++) {
                    # Alternate which goes first, so that neither always pays for the other's leftovers.
                    if ($k % 2 -eq 0) { $b = Pair $bulkConnect $bulkDisconnect $names 'the pipeline'; $s = Pair $singleConnect $singleDisconnect $names 'the single calls' }
                    else { $s = Pair $singleConnect $singleDisconnect $names 'the single calls'; $b = Pair $bulkConnect $bulkDisconnect $names 'the pipeline' }
                    'BULK ' + (@{ n = $count; bulkConnect = $b.C; bulkDisconnect = $b.D; singleConnect = $s.C; singleDisconnect = $s.D; connectProgress = $b.CP; disconnectProgress = $b.DP } | ConvertTo-Json -Compress)
                }
            }
        }
        finally {
            # Whatever is left (a failed step): the containers out (their namespaces go with them), then the network.
            try {
                $ps.Commands.Clear()
                $null = $ps.AddScript('param($h, $s, $net) Get-ContainerEndpoint -NetNamespace $h -StateDirectory $s -ErrorAction SilentlyContinue | Disconnect-ContainerNetwork -ErrorAction Continue; Remove-ContainerNetwork $net -NetNamespace $h -StateDirectory $s -ErrorAction Continue').AddParameters($common).Invoke()
            } catch { Write-Warning "clean-up: $_" }
            $ps.Dispose(); $rs.Dispose()
        }
        """;
}
