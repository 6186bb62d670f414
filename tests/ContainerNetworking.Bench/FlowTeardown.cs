using System.Diagnostics;

namespace ContainerNetworking.Bench;

/// <summary>The teardown figure with and without unrelated conntrack entries in the host namespace.</summary>
public sealed record FlowTeardownResult(int N, int Flows, double PerContainerMs, double PerContainerWithFlowsMs);

/// <summary>
/// Teardown with a busy conntrack table: N containers through the network model (ours-model), torn down once with an
/// empty conntrack table and once after <c>conntrack -R</c> loaded K unrelated entries (10.200.x.y → 10.201.0.1:80)
/// into the host namespace. Disconnect has the kernel delete the container's flows (a flush with a filter, one pass
/// over the occupied buckets; kernel-filtered dumps before 6.5), so its cost should not grow with K (it did when every
/// Disconnect dumped the whole table).
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
            var without = Measure(model, n, 0);
            var with = Measure(model, n, opt.Flows);
            report.FlowTeardown = new FlowTeardownResult(n, opt.Flows, without / n, with / n);
            Console.WriteLine($"{model.Name,-10} teardown N={n}: {without / n:F3} ms per container, {with / n:F3} ms with {opt.Flows} unrelated conntrack entries");
        }
        catch (Exception e) when (e is not OperationCanceledException and not RootNamespaceChangedException)
        {
            report.Notes.Add($"teardown with flows: ERROR {e.Message}");
            Console.WriteLine($"{model.Name,-10} teardown with flows: ERROR {e.Message}");
        }
    }

    private static double Measure(OursModel model, int n, int flows)
    {
        Cleanup.ThrowIfStopping();
        using var t = new Topology();
        model.SetupNetwork(t);
        model.SetupContainers(t, n);
        if (flows > 0)
        {
            var lines = string.Join('\n', Enumerable.Range(0, flows).Select(i =>
                $"-I -s 10.200.{i / 250 % 250}.{i % 250 + 1} -d 10.201.0.1 -p tcp --sport {1024 + i % 60000} --dport 80 --state ESTABLISHED -t 600")) + "\n";
            Sh.InNs(t.Host, "conntrack", ["-R", "-"], stdin: lines);
        }
        var sw = Stopwatch.StartNew();
        model.TeardownContainers(t, n);
        var ms = sw.Elapsed.TotalMilliseconds;
        while (t.BridgePorts() != 0 && sw.Elapsed.TotalSeconds < 60) Thread.Sleep(10);
        model.TeardownNetwork(t);
        t.Dispose();
        Thread.Sleep(300 + n);
        return ms;
    }
}
