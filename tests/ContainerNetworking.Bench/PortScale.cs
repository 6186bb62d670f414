using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ContainerNetworking.Bench;

/// <summary>An implementation that can publish many host ports to one container (for the port-scale part).</summary>
public interface IPortPublisher
{
    string PublishMethod { get; }
    void PublishPorts(Topology t, IReadOnlyList<(int HostPort, string Ip, int Port)> ports);
}

/// <summary>A publisher that can also publish all K ports in one request (measured separately, as "NAME-batch").</summary>
public interface IBatchPortPublisher : IPortPublisher
{
    string BatchPublishMethod { get; }
    void PublishPortsBatch(Topology t, IReadOnlyList<(int HostPort, string Ip, int Port)> ports);
}

/// <summary>
/// Port scale: with one container, the time to publish K host ports (30000…) to container:80, and the TCP connect
/// latency from the client namespace to the first and the last of them (each connect is a new conntrack entry, so
/// it goes through the nat prerouting lookup: a map lookup for us, K rules in a row for one-rule-per-port).
/// </summary>
public static class PortScale
{
    public const int FirstPort = 30000;
    private static readonly int[] LatencyAt = [1, 1000, 5000];

    public static void Run(Options opt, Report report, IEnumerable<Impl> impls)
    {
        var ks = opt.Ports.OrderBy(x => x).ToArray();
        if (ks.Length == 0) return;
        var latencyKs = ks.Where(k => LatencyAt.Contains(k)).Append(ks[^1]).Distinct().ToHashSet();
        foreach (var impl in impls)
        {
            if (impl is not IPortPublisher pub) continue;
            RunOne(opt, report, impl, pub, ks, latencyKs, batch: false);
            if (pub is IBatchPortPublisher) RunOne(opt, report, impl, pub, ks, latencyKs, batch: true);
        }
    }

    private static void RunOne(Options opt, Report report, Impl impl, IPortPublisher pub, int[] ks, HashSet<int> latencyKs, bool batch)
    {
        {
            var bp = pub as IBatchPortPublisher;
            var name = batch ? impl.Name + "-batch" : impl.Name;
            var method = batch ? bp!.BatchPublishMethod : pub.PublishMethod;
            var res = new PortScaleResult(name, method);
            report.Ports.Add(res);
            try
            {
                foreach (var k in ks)
                {
                    Cleanup.ThrowIfStopping();
                    using var t = new Topology();
                    impl.SetupNetwork(t);
                    impl.SetupContainers(t, 1);
                    var ports = Enumerable.Range(0, k).Select(i => (FirstPort + i, Topology.ContainerIp(0), Topology.ContainerPort)).ToList();
                    var sw = Stopwatch.StartNew();
                    if (batch) bp!.PublishPortsBatch(t, ports);
                    else pub.PublishPorts(t, ports);
                    res.PublishMs[k] = sw.Elapsed.TotalMilliseconds;
                    Console.WriteLine($"{name,-10} ports: published {k} in {sw.Elapsed.TotalMilliseconds:F1} ms ({method})");
                    // (the batch variant fills the same maps: its latency is the sequential variant's)
                    if (!batch && latencyKs.Contains(k))
                    {
                        var (first, last) = Latency(t, k, opt.Connects);
                        res.Latency.Add(first);
                        if (k > 1) res.Latency.Add(last);
                        Console.WriteLine($"{impl.Name,-10} ports: {k} published: connect first {first.MedianUs:F0} µs, last {last.MedianUs:F0} µs");
                    }
                    impl.TeardownContainers(t, 1);
                    impl.TeardownNetwork(t);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException and not RootNamespaceChangedException)
            {
                res.Error = e.Message;
                Console.WriteLine($"{name,-10} ports: ERROR {e.Message}");
            }
            Thread.Sleep(300);
        }
    }

    private static (LatencySample First, LatencySample Last) Latency(Topology t, int k, int connects)
    {
        using var listener = new Net.Listener(Topology.ContainerNs(0), "0.0.0.0", Topology.ContainerPort, _ => "");
        var firstPort = FirstPort;
        var lastPort = FirstPort + k - 1;
        const int warm = 20;
        var sockets = Net.SocketsIn(t.Client, 2 * (connects + warm));
        var a = new List<double>();
        var b = new List<double>();
        int failA = 0, failB = 0;
        var target = IPAddress.Parse(Topology.HostClientAddress);
        for (var i = 0; i < sockets.Count; i++)
        {
            var s = sockets[i];
            var toLast = i % 2 == 1;
            var port = toLast ? lastPort : firstPort;
            var sw = Stopwatch.StartNew();
            var ok = true;
            try { s.Connect(new IPEndPoint(target, port)); }
            catch (SocketException) { ok = false; }
            var us = sw.Elapsed.TotalMicroseconds;
            try
            {
                s.LingerState = new LingerOption(true, 0); // RST on close: no TIME_WAIT pile-up in the client
                s.Dispose();
            }
            catch (Exception) { }
            if (i < 2 * warm) continue;
            if (!ok) { if (toLast) failB++; else failA++; continue; }
            (toLast ? b : a).Add(us);
        }
        LatencySample S(string which, int port, List<double> xs, int fails) =>
            new(k, which, port, xs.Count, Stats.Median(xs), Stats.Percentile(xs, 10), Stats.Percentile(xs, 90), fails);
        return (S("first", firstPort, a, failA), S("last", lastPort, b, failB));
    }
}
