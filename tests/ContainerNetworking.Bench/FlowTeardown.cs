using System.Diagnostics;

namespace ContainerNetworking.Bench;

/// <summary>
/// The teardown figure with and without unrelated conntrack entries in the host namespace: wall time, and the CPU time
/// of this process (user + system) alone, which the kernel's own work elsewhere does not move.
/// </summary>
public sealed record FlowTeardownResult(int N, int Flows, double PerContainerMs, double PerContainerWithFlowsMs, double CpuMs = 0, double CpuWithFlowsMs = 0);

/// <summary>
/// Teardown with a busy conntrack table: N containers through the network model (ours-model), torn down with an
/// empty conntrack table and after <c>conntrack -R</c> loaded K unrelated entries (10.200.x.y → 10.201.0.1:80)
/// into the host namespace, in alternating rounds. Disconnect walks no conntrack table: it notes the container's address and UDP host ports
/// as pending, and the Connect that uses one again flushes its entries first, so its cost should not grow with K (it
/// did when every Disconnect dumped the whole table, and still 4× when the kernel flushed with a filter, one pass over
/// the occupied buckets per filter). What still grows with K is the kernel's: each veth that goes down in the host
/// namespace makes nf_nat's masquerade notifier walk the host's conntrack table in a kworker (iterate_cleanup_work,
/// skipped while the table is empty), which on a busy machine takes CPU from the teardown; hence the CPU time of this
/// process beside the wall time.
/// </summary>
public static class FlowTeardown
{
    public static void Run(Options opt, Report report, IEnumerable<Impl> impls)
    {
        if (opt.Flows <= 0) return;
        if (impls.OfType<OursModel>().FirstOrDefault() is not { } model) return;
        if (Sh.Which("conntrack") is null)
        {
            report.Notes.Add("teardown with flows: skipped, conntrack(8) is not installed");
            return;
        }
        var n = opt.FlowsN;
        try
        {
            // Alternating rounds, the median of each: on a shared machine one round of either is noise.
            var rounds = Enumerable.Range(0, Rounds).Select(_ => (Without: Measure(model, n, 0), With: Measure(model, n, opt.Flows))).ToList();
            static double Median(IEnumerable<double> xs) { var l = xs.Order().ToList(); return l[l.Count / 2]; }
            double without = Median(rounds.Select(r => r.Without.Wall)), cpu = Median(rounds.Select(r => r.Without.Cpu));
            double with = Median(rounds.Select(r => r.With.Wall)), cpuWith = Median(rounds.Select(r => r.With.Cpu));
            report.FlowTeardown = new FlowTeardownResult(n, opt.Flows, without / n, with / n, cpu / n, cpuWith / n);
            Console.WriteLine($"{model.Name,-10} teardown N={n}: {without / n:F3} ms per container, {with / n:F3} ms with {opt.Flows} unrelated conntrack entries " +
                $"(CPU of this process {cpu / n:F3} / {cpuWith / n:F3} ms)");
        }
        catch (Exception e) when (e is not OperationCanceledException and not RootNamespaceChangedException)
        {
            report.Notes.Add($"teardown with flows: ERROR {e.Message}");
            Console.WriteLine($"{model.Name,-10} teardown with flows: ERROR {e.Message}");
        }
    }

    /// <summary>Loads <paramref name="flows"/> unrelated entries (10.200.x.y → 10.201.0.1:80) into the host namespace's conntrack table.</summary>
    public static void LoadUnrelated(Topology t, int flows)
    {
        var lines = string.Join('\n', Enumerable.Range(0, flows).Select(i =>
            $"-I -s 10.200.{i / 250 % 250}.{i % 250 + 1} -d 10.201.0.1 -p tcp --sport {1024 + i % 60000} --dport 80 --state ESTABLISHED -t 600")) + "\n";
        Sh.InNs(t.Host, "conntrack", ["-R", "-"], stdin: lines);
    }

    /// <summary>Rounds of the two measurements, alternating (the median of each is the figure).</summary>
    private const int Rounds = 3;

    /// <summary>The teardown's wall time and this process's CPU time (ms, all N containers).</summary>
    private static (double Wall, double Cpu) Measure(OursModel model, int n, int flows)
    {
        Cleanup.ThrowIfStopping();
        using var t = new Topology();
        model.SetupNetwork(t);
        model.SetupContainers(t, n);
        if (flows > 0) LoadUnrelated(t, flows);
        var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        model.TeardownContainers(t, n);
        var ms = sw.Elapsed.TotalMilliseconds;
        self.Refresh();
        var cpuMs = (self.TotalProcessorTime - cpu).TotalMilliseconds;
        t.WaitForEmptyBridge(TimeSpan.FromSeconds(60), sw);
        model.TeardownNetwork(t);
        t.Dispose();
        Thread.Sleep(300 + n);
        return (ms, cpuMs);
    }
}
