using System.Diagnostics;
using System.Globalization;
using ContainerNetworking.Bench;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

Options opt;
try { opt = Options.Parse(args); }
catch (ArgumentException e)
{
    Console.Error.WriteLine("bench: " + e.Message);
    return 2;
}
if (Environment.UserName != "root" && Sh.Run("id", ["-u"]).Stdout.Trim() != "0")
{
    Console.Error.WriteLine("bench: needs root (it creates network namespaces, links and nf_tables rules, only in namespaces of its own).");
    return 1;
}
if (Sh.Which("ip") is null)
{
    Console.Error.WriteLine("bench: iproute2 (ip) is required for the scaffolding: run build/bench.sh --install-peers.");
    return 1;
}

Cleanup.InstallHandlers();
var stale = Cleanup.SweepStale();
if (stale > 0) Console.WriteLine($"bench: removed {stale} stale namespace(s) of an earlier, killed bench run");

if (opt.ProfileN is { } pn)
{
    try { if (opt.ProfileModelOnly) Profile.RunModel(pn, opt.Flows, warmUp: true); else Profile.Run(pn, opt.Flows); }
    finally { Cleanup.SweepOwn(); Cleanup.RemoveTemp(); }
    return 0;
}

var report = new Report(opt);
try
{
    RootGuard.Baseline();
    new Bench(opt, report).Run();
    RootGuard.Verify("the whole run");
    report.RootUnchanged = true;
    return report.Finish();
}
catch (RootNamespaceChangedException e)
{
    Console.Error.WriteLine(e.Message);
    report.Error = e.Message;
    report.Finish();
    return 3;
}
catch (OperationCanceledException)
{
    return 130;
}
finally
{
    var n = Cleanup.SweepOwn();
    if (n > 0) Console.WriteLine($"bench: removed {n} leftover namespace(s) of this run");
    Cleanup.RemoveTemp();
}

namespace ContainerNetworking.Bench
{
    /// <summary>The whole run: correctness checks, the scenario for every implementation, port scale, floor, Import-Module.</summary>
    public sealed class Bench(Options opt, Report report)
    {
        public void Run()
        {
            var impls = Implementations();
            report.Load("start");

            // 1. Correctness first: a fast wrong setup cannot win.
            var runnable = new List<Impl>();
            foreach (var impl in impls)
            {
                if (impl.Unavailable is { } why)
                {
                    report.Skipped[impl.Name] = why;
                    Console.WriteLine($"{impl.Name,-10} skipped: {why}");
                    continue;
                }
                var checks = Checks.Run(impl);
                report.Checks[impl.Name] = checks;
                var ok = checks.All(c => c.Ok);
                Console.WriteLine($"{impl.Name,-10} checks: {(ok ? "ok" : "FAILED")}  {string.Join("; ", checks.Select(c => (c.Ok ? "✓ " : "✗ ") + c.Name + (c.Ok ? "" : ": " + c.Detail)))}");
                RootGuard.Verify($"the checks of {impl.Name}");
                if (ok) runnable.Add(impl);
                else report.Skipped[impl.Name] = "correctness checks failed (not timed)";
            }

            // 2. The scenario, N by N, every implementation in the same run.
            foreach (var n in opt.Ns)
            {
                foreach (var impl in runnable)
                {
                    if (impl.Slow && n > opt.SlowPeerMaxN) continue;
                    Cleanup.ThrowIfStopping();
                    var runs = opt.RunsFor(n, impl.Slow);
                    var r = new ScenarioResult(impl.Name, n);
                    try
                    {
                        for (var k = 0; k < runs; k++) r.Runs.Add(Measure(impl, n));
                    }
                    catch (Exception e) when (e is not OperationCanceledException and not RootNamespaceChangedException)
                    {
                        r.Error = e.Message;
                        Console.WriteLine($"{impl.Name,-10} N={n}: ERROR {e.Message}");
                    }
                    report.Scenario.Add(r);
                    if (r.Runs.Count > 0) Console.WriteLine(r.Line());
                    RootGuard.Verify($"{impl.Name} N={n}");
                }
            }

            // 3. Port scale.
            if (runnable.Any(i => i.Slow) && opt.Ns.Any(n => n > opt.SlowPeerMaxN))
                report.Notes.Add($"seeds/cni/netavark ran only up to N={opt.SlowPeerMaxN} (--slow-peer-max-n / --slow-peers-all to go further)");
            if (!opt.SkipPorts) PortScale.Run(opt, report, runnable);
            RootGuard.Verify("the port scale");

            // 4. Teardown with a busy conntrack table.
            FlowTeardown.Run(opt, report, runnable);
            RootGuard.Verify("the teardown with flows");

            // 5. The bulk pipeline against single calls, through pwsh.
            if (!opt.CniOnly && !opt.SkipBulk) PwshBulk.Run(opt, report);
            RootGuard.Verify("the bulk pipeline");

            // 6. Import-Module, and the first calls of a session.
            if (!opt.CniOnly)
            {
                report.ImportModule = ImportModule.Measure();
                report.FirstCalls = FirstCalls.Measure();
                RootGuard.Verify("the first calls");
            }
            report.Load("end");
        }

        private List<Impl> Implementations()
        {
            var l = new List<Impl>();
            if (!opt.CniOnly) l.AddRange(Ours.Create());
            if (!opt.SkipFloor)
            {
                l.Add(new FloorImpl());
                l.Add(new FloorImpl(batched: true));
            }
            if (opt.Peers.Contains("batch")) l.Add(new BatchPeer());
            if (opt.Peers.Contains("seeds")) l.Add(new SeedsPeer());
            if (opt.Peers.Contains("cni")) l.Add(new CniPeer());
            if (opt.Peers.Contains("cni-ours")) l.Add(new CniPeer(ours: true));
            if (opt.Peers.Contains("netavark")) l.Add(new NetavarkPeer());
            return l;
        }

        /// <summary>One timed run in a fresh topology: network, containers, (verified), teardown of both.</summary>
        private RunTimes Measure(Impl impl, int n)
        {
            using var t = new Topology();
            impl.ClearSelfTimes();
            var sw = Stopwatch.StartNew();
            impl.SetupNetwork(t);
            var netUp = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            impl.SetupContainers(t, n);
            var ctrUp = impl.SelfSetupMs ?? sw.Elapsed.TotalMilliseconds;
            var ports = t.BridgePorts();
            if (ports != n) throw new InvalidOperationException($"after setup the bridge has {ports} ports, not {n}");
            sw.Restart();
            impl.TeardownContainers(t, n);
            var ctrDown = impl.SelfTeardownMs ?? sw.Elapsed.TotalMilliseconds;
            // Namespace deletion finishes in the kernel asynchronously: wait until the bridge has no ports left.
            t.WaitForEmptyBridge(TimeSpan.FromSeconds(60), sw);
            var settled = Math.Max(ctrDown, sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            impl.TeardownNetwork(t);
            var netDown = sw.Elapsed.TotalMilliseconds;
            var left = Topology.ContainerNamespaces();
            var leftPorts = t.BridgePorts();
            if (left != 0 || leftPorts != 0)
                throw new InvalidOperationException($"teardown left {left} container namespace(s) and {leftPorts} bridge port(s)");
            var plugin = (impl as CniPeer)?.TakeExecTimes();
            t.Dispose();
            // Namespaces are freed by the kernel asynchronously (cleanup_net): let it finish before the next run.
            Thread.Sleep(300 + n);
            return new RunTimes(netUp, ctrUp, ctrDown, netDown, settled, plugin?.AddMs, plugin?.DelMs, plugin?.ExecFloorMs, plugin?.VethDelMs);
        }
    }

    /// <summary>The correctness checks, on N = 3 containers, for every implementation before it is timed.</summary>
    public static class Checks
    {
        public sealed record Check(string Name, bool Ok, string Detail);

        public static List<Check> Run(Impl impl, int n = 3)
        {
            var l = new List<Check>();
            try
            {
                using var t = new Topology();
                impl.ClearSelfTimes();
                impl.SetupNetwork(t);
                impl.SetupContainers(t, n);
                try
                {
                    var ports = t.BridgePorts();
                    l.Add(new("bridge ports", ports == n, $"{ports} of {n}"));
                    var last = Topology.ContainerIp(n - 1);
                    l.Add(new("container→container ping", Net.Ping(Topology.ContainerNs(0), last), $"c0 → {last}"));
                    l.Add(new("container→gateway ping", Net.Ping(Topology.ContainerNs(1), Topology.Gateway), $"c1 → {Topology.Gateway}"));
                    if (impl.Complete)
                    {
                        using (new Net.Listener(t.Outside, Topology.OutsideAddress, Topology.OutsidePort, ep => ep.Address.ToString()))
                        {
                            var seen = Try(() => Net.Ask(Topology.ContainerNs(n - 1), Topology.OutsideAddress, Topology.OutsidePort));
                            l.Add(new("outside sees the host's address", seen == Topology.HostUplinkAddress, $"saw {seen}"));
                        }
                        var token = "hello from c" + (n - 1);
                        using (new Net.Listener(Topology.ContainerNs(n - 1), "0.0.0.0", Topology.ContainerPort, _ => token))
                        {
                            var got = Try(() => Net.Ask(t.Client, Topology.HostClientAddress, Topology.HostPort(n - 1)));
                            l.Add(new("published port answers from the client", got == token, $"{Topology.HostClientAddress}:{Topology.HostPort(n - 1)} → '{got}'"));
                        }
                    }
                }
                finally
                {
                    impl.TeardownContainers(t, n);
                    t.WaitForEmptyBridge(TimeSpan.FromSeconds(30));
                    impl.TeardownNetwork(t);
                }
                var left = Topology.ContainerNamespaces();
                var leftPorts = t.BridgePorts();
                l.Add(new("teardown leaves nothing", left == 0 && leftPorts == 0, $"{left} namespaces, {leftPorts} bridge ports left"));
            }
            catch (Exception e) when (e is not OperationCanceledException and not RootNamespaceChangedException)
            {
                l.Add(new("setup/teardown", false, e.Message));
            }
            return l;
        }

        private static string Try(Func<string> f)
        {
            try { return f(); }
            catch (Exception e) { return "error: " + e.Message; }
        }
    }

    /// <summary>Import-Module time with pwsh, if there is one and the module is built.</summary>
    public static class ImportModule
    {
        public sealed record Result(string Status, double? MedianMs, double? BaselineMs, double? ImportMs, int Runs);

        public static Result Measure(int runs = 7)
        {
            var (pwsh, module, why) = Find();
            if (pwsh is null || module is null) return new($"skipped ({why})", null, null, null, 0);
            var withImport = new List<double>();
            var without = new List<double>();
            for (var i = 0; i < runs + 1; i++)
            {
                var sw = Stopwatch.StartNew();
                var r = Sh.Run(pwsh, ["-NoProfile", "-NonInteractive", "-c", "$null"], check: false);
                var a = sw.Elapsed.TotalMilliseconds;
                sw.Restart();
                var r2 = Sh.Run(pwsh, ["-NoProfile", "-NonInteractive", "-c", $"Import-Module '{module}' -ErrorAction Stop"], check: false);
                var b = sw.Elapsed.TotalMilliseconds;
                if (r2.ExitCode != 0) return new("failed: " + (r2.Stderr + r2.Stdout).Trim().Split('\n')[0], null, null, null, 0);
                if (i == 0) continue; // warm the file cache
                without.Add(a);
                withImport.Add(b);
            }
            // Fastest of each: on a shared machine the noise only ever adds time, and pwsh's own start varies by
            // hundreds of ms under load, so a difference of medians can even come out negative.
            var bm = without.Min();
            var im = withImport.Min();
            return new("measured (fastest of each)", im - bm, bm, im, runs);
        }

        /// <summary>pwsh and the built module's manifest, or why not (no pwsh, or the module not built).</summary>
        public static (string? Pwsh, string? Module, string? Why) Find()
        {
            // The .NET global tool's pwsh is not on PATH by default (build/setup.sh installs it there).
            var tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", "pwsh");
            var pwsh = Sh.Which("pwsh") ?? (File.Exists(tool) ? tool : null);
            if (pwsh is null) return (null, null, "no pwsh on PATH nor in ~/.dotnet/tools");
            var root = RepoRoot();
            if (root is null || !File.Exists(Path.Combine(root, "bin", "ContainerNetworking.dll")) || !File.Exists(Path.Combine(root, "ContainerNetworking.psd1")))
                return (pwsh, null, "module not built: no ./bin/ContainerNetworking.dll; run build.ps1 -Task Build");
            return (pwsh, Path.Combine(root, "ContainerNetworking.psd1"), null);
        }

        public static string? RepoRoot()
        {
            var d = new DirectoryInfo(Directory.GetCurrentDirectory());
            while (d is not null && !File.Exists(Path.Combine(d.FullName, "ContainerNetworking.slnx"))) d = d.Parent;
            return d?.FullName;
        }
    }
}
