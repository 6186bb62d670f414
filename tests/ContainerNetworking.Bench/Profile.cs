using System.Diagnostics;
using System.Net;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Route;

namespace ContainerNetworking.Bench;

/// <summary>
/// --profile N: where one "ours" container's time goes, step by step (summed over N containers), beside the floor's
/// total. Each step is one library call.
/// </summary>
public static class Profile
{
    public static void Run(int n, int flows = 0)
    {
        using var t = new Topology();
        var ours = new OursLowLevel();
        ours.SetupNetwork(t);
        var host = t.HostNs.Rtnl;
        var fw = new ContainerFirewall(t.HostNs);
        var steps = new Dictionary<string, double>();
        var order = new List<string>();
        void Step(string name, Action a)
        {
            var sw = Stopwatch.StartNew();
            a();
            var ms = sw.Elapsed.TotalMilliseconds;
            if (!steps.TryAdd(name, ms)) steps[name] += ms;
            else order.Add(name);
        }
        var gw = IPAddress.Parse(Topology.Gateway);
        var veth = new VethOptions { Up = true, Master = Topology.Bridge };
        var nss = new List<NetNamespace>();
        var bridgeIndex = host.GetLink(Topology.Bridge).Index;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            NetNamespace c = null!;
            Step("NetNamespace.Create (thread + unshare + bind mount + socket)", () => c = NetNamespace.Create(Topology.ContainerNs(i)));
            nss.Add(c);
            if (i % 2 == 0) Step("host.CreateVeth (master lookup, create, read back) [even i]", () => host.CreateVeth(Topology.HostVeth(i), "eth0", c.Handle, veth));
            else Step("host.CreateVethIndex (master by index, create with echo) [odd i]", () => host.CreateVethIndex(Topology.HostVeth(i), "eth0", c.Handle, veth, bridgeIndex));
            var r = c.Rtnl;
            Step("c.SetLinkUp(lo)", () => r.SetLinkUp("lo"));
            Step("c.SetLink(eth0: addrgenmode none, up)", () => r.SetLink("eth0", new LinkChanges { Up = true, IPv6AddressGeneration = IPv6AddressGeneration.None }));
            Step("c.AddAddress(eth0)", () => r.AddAddress("eth0", IPAddress.Parse(Topology.ContainerIp(i)), Topology.PrefixLength));
            Step("c.AddDefaultRoute", () => r.AddDefaultRoute(gw, "eth0"));
            Step("fw.Publish(1 port)", () => fw.Publish(new PortMappingSpec(PortProtocol.Tcp, Topology.HostPort(i), IPAddress.Parse(Topology.ContainerIp(i)), Topology.ContainerPort)));
        }
        var setup = total.Elapsed.TotalMilliseconds;
        total.Restart();
        for (var i = 0; i < n; i++)
        {
            if (i < 3)
            {
                var ct = new ConntrackClient(t.HostNs.NetfilterConnection);
                Step("  of which: conntrack count (teardown, first 3 only)", () => ct.Count());
                if (i == 0)
                    Console.WriteLine($"  (conntrack entries in the host namespace: {ct.Count()}: " + string.Join(", ", ct.List(System.Net.Sockets.AddressFamily.InterNetwork).Concat(ct.List(System.Net.Sockets.AddressFamily.InterNetworkV6)).Take(4).Select(e => $"{e.Original.Protocol} {e.Original.Source}>{e.Original.Destination}:{e.Original.DestinationPort}")) + ")");
                Step("  of which: conntrack dump (teardown, first 3 only)", () => ct.List(System.Net.Sockets.AddressFamily.InterNetwork));
                Step("  of which: nft get element (teardown, first 3 only)", () => fw.Nft.GetElement(ContainerFirewall.Family, ContainerFirewall.TableName, "ports4", [6, 0, 0, 0, (byte)(Topology.HostPort(i) >> 8), (byte)Topology.HostPort(i), 0, 0]));
                Step("  of which: nft generation (teardown, first 3 only)", () => fw.Nft.GetGeneration());
                var dummy = 40000 + i;
                fw.Publish(new PortMappingSpec(PortProtocol.Tcp, dummy, IPAddress.Parse(Topology.ContainerIp(i)), 80));
                Step("  of which: nft delete element batch (teardown, first 3 only)", () => fw.Nft.Commit(new NftBatch().DeleteElements(ContainerFirewall.Family, ContainerFirewall.TableName, "ports4",
                    [new NftSetElement([6, 0, 0, 0, (byte)(dummy >> 8), (byte)dummy, 0, 0])])));
                Step("  of which: nft add element batch (teardown, first 3 only)", () => fw.Nft.Commit(new NftBatch().AddElements(ContainerFirewall.Family, ContainerFirewall.TableName, "ports4",
                    [new NftSetElement([6, 0, 0, 0, (byte)(dummy >> 8), (byte)dummy, 0, 0]) { Data = [192, 168, 0, 9, 0, 80, 0, 0] }])));
                fw.Unpublish(PortProtocol.Tcp, dummy);
            }
            Step("fw.Unpublish (teardown)", () => fw.Unpublish(PortProtocol.Tcp, Topology.HostPort(i)));
            // Even containers: the veth explicitly, then the namespace; odd ones: the namespace only (takes the veth along).
            if (i % 2 == 0) Step("host.DeleteLink(veth) (teardown) [even i]", () => host.DeleteLink(Topology.HostVeth(i)));
            Step("NetNamespace.Delete (teardown)", () => { nss[i].Dispose(); NetNamespace.Delete(Topology.ContainerNs(i)); });
        }
        var teardown = total.Elapsed.TotalMilliseconds;
        ours.TeardownNetwork(t);
        Console.WriteLine($"profile of ours, N={n} (ms per container, load {File.ReadAllText("/proc/loadavg").Trim()}):");
        foreach (var k in order) Console.WriteLine($"  {steps[k] / (k.EndsWith(" i]", StringComparison.Ordinal) ? Math.Max(1, n / 2) : k.EndsWith("first 3 only)", StringComparison.Ordinal) ? Math.Min(3, n) : n),8:F3}  {k}");
        Console.WriteLine($"  setup {setup / n:F3} ms/container, teardown {teardown / n:F3} ms/container (lines marked [even i]/[odd i]: per container that did it)");
        Thread.Sleep(300 + n);
        CompareNamespaceThreads(n);
        RunModel(n, flows);
    }

    /// <summary>
    /// NetNamespace.Create (unshare, bind mount, the namespace's socket: one job inside it) and one more job inside it
    /// (Run), on the long-lived worker and on a thread per job, alternating, so that both see the same load.
    /// </summary>
    private static void CompareNamespaceThreads(int n)
    {
        double worker = 0, own = 0;
        for (var i = 0; i < n; i++)
        {
            var useWorker = i % 2 == 0;
            NamespaceThread.UseWorkers = useWorker;
            try
            {
                var name = Topology.ContainerNs(i);
                var sw = Stopwatch.StartNew();
                using (var c = NetNamespace.Create(name)) c.Run(() => 0);
                var ms = sw.Elapsed.TotalMilliseconds;
                NetNamespace.Delete(name);
                if (useWorker) worker += ms; else own += ms;
            }
            finally { NamespaceThread.UseWorkers = true; }
        }
        var half = Math.Max(1, n / 2);
        Console.WriteLine($"namespace work, N={n} alternating (ms per namespace: Create + one Run inside; load {File.ReadAllText("/proc/loadavg").Trim()}):");
        Console.WriteLine($"  {worker / half,8:F3}  on the long-lived worker");
        Console.WriteLine($"  {own / half,8:F3}  on a thread per job");
        Thread.Sleep(300 + n);
    }

    /// <summary>
    /// The model: Connect and Disconnect per container, the first and the last tenth apart (growth with N); with
    /// <paramref name="flows"/> (--flows K) that many unrelated conntrack entries in the host namespace before the
    /// Disconnects, to see which step grows with them. With <paramref name="warmUp"/> (--profile-model), afterwards
    /// Connect's two ways taking turns (<see cref="CompareNamespaceFirst"/>).
    /// </summary>
    public static void RunModel(int n, int flows, bool warmUp = false)
    {
        using var t = new Topology();
        var model = new OursModel();
        model.SetupNetwork(t);
        if (warmUp)
        {
            // The same Connects and Disconnects once on the same network, untimed: the JIT's tier-1 code and the caches,
            // as in the bench's later runs, and a store that has connected and disconnected containers before, as a host's has.
            model.SetupContainers(t, 0, n);
            model.TeardownContainers(t, 0, n);
            t.WaitForEmptyBridge(TimeSpan.FromSeconds(60));
            Thread.Sleep(300 + n);
        }
        var connect = new double[n];
        var disconnect = new double[n];
        // The plans' steps, summed per name (Connect's and Disconnect's apart), the time outside them too.
        var stepMs = new Dictionary<string, double>();
        var stepOrder = new List<string>();
        // And per tenth: the first and the last tenth of the containers apart (which step grows with N).
        var stepFirst = new Dictionary<string, double>();
        var stepLast = new Dictionary<string, double>();
        var tenth = Math.Max(1, n / 10);
        var phase = "Connect";
        var current = 0;
        ContainerNetworking.Model.OperationPlan.StepTimes = (name, ms) =>
        {
            var key = phase + " " + name;
            if (!stepMs.TryAdd(key, ms)) stepMs[key] += ms;
            else stepOrder.Add(key);
            var part = current < tenth ? stepFirst : current >= n - tenth ? stepLast : null;
            if (part is not null && !part.TryAdd(key, ms)) part[key] += ms;
        };
        var busy0 = CpuBusyMs();
        var own0 = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
        var wall = Stopwatch.StartNew();
        double busy, own, wallMs;
        try
        {
            for (var i = 0; i < n; i++)
            {
                current = i;
                var sw = Stopwatch.StartNew();
                model.SetupContainers(t, i, i + 1);
                connect[i] = sw.Elapsed.TotalMilliseconds;
            }
            wallMs = wall.Elapsed.TotalMilliseconds;
            busy = CpuBusyMs() - busy0;
            own = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds - own0;
            if (flows > 0) FlowTeardown.LoadUnrelated(t, flows);
            phase = "Disconnect";
            for (var i = 0; i < n; i++)
            {
                current = i;
                var sw = Stopwatch.StartNew();
                model.TeardownContainers(t, i, i + 1);
                disconnect[i] = sw.Elapsed.TotalMilliseconds;
            }
        }
        finally { ContainerNetworking.Model.OperationPlan.StepTimes = null; }
        var settle = Stopwatch.StartNew();
        t.WaitForEmptyBridge(TimeSpan.FromSeconds(60), settle);
        var settled = settle.Elapsed.TotalMilliseconds;
        var compared = warmUp ? CompareNamespaceFirst(t, model, n) : null;
        model.TeardownNetwork(t);
        double Med(double[] xs, int from, int count) => xs.Skip(from).Take(count).Order().ElementAt(count / 2);
        Console.WriteLine($"profile of ours-model, N={n}{(flows > 0 ? $", teardown with {flows} unrelated conntrack entries" : "")} (ms per container, median of the first / last {tenth}; load {File.ReadAllText("/proc/loadavg").Trim()}):");
        Console.WriteLine($"  {Med(connect, 0, tenth),8:F3} / {Med(connect, n - tenth, tenth),8:F3}  Connect (namespace, veth + hairpin, addresses, route, 1 port, IPAM + state)");
        Console.WriteLine($"  {Med(disconnect, 0, tenth),8:F3} / {Med(disconnect, n - tenth, tenth),8:F3}  Disconnect (port, namespace — the veth goes with it —, lease noted conntrack-pending, record)");
        Console.WriteLine("  mean of every container, and of the first / last tenth:");
        foreach (var k in stepOrder)
            Console.WriteLine($"  {stepMs[k] / n,8:F3}  ({stepFirst.GetValueOrDefault(k) / tenth,6:F3} / {stepLast.GetValueOrDefault(k) / tenth,6:F3})  {k}");
        foreach (var (what, total, prefix) in new[] { ("Connect", connect.Sum(), "Connect "), ("Disconnect", disconnect.Sum(), "Disconnect ") })
            Console.WriteLine($"  {(total - stepOrder.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Sum(k => stepMs[k])) / n,8:F3}  {what}: the rest (outside the steps and the spans in parentheses)");
        Console.WriteLine($"  mean Connect {connect.Average():F3} ms, mean Disconnect {disconnect.Average():F3} ms; the kernel finished removing the veths {settled:F0} ms after the last Disconnect");
        Console.WriteLine($"  CPU during the Connects: {busy / wallMs:F2} of {Environment.ProcessorCount} cores busy; per Connect {own / n:F3} ms in this process (user and kernel), {(busy - own) / n:F3} ms elsewhere (kernel workers, other processes)");
        if (compared is not null) Console.Write(compared);
    }

    /// <summary>The machine's busy CPU time so far, all cores, in ms: user, nice, system, irq and softirq of /proc/stat (ticks of 10 ms).</summary>
    private static double CpuBusyMs()
    {
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        return (f[0] + f[1] + f[2] + f[5] + f[6]) * 10.0;
    }

    /// <summary>
    /// Connect with its namespace begun before the plan (as it is) and by the CreateNamespace step (as it was:
    /// EndpointService.BeginNamespaceFirst), taking turns container by container on the same network, so that the
    /// machine's drift, which moves these figures by a fifth within minutes here, is shared by both.
    /// </summary>
    private static string CompareNamespaceFirst(Topology t, OursModel model, int n)
    {
        var ms = new[] { new List<double>(), new List<double>() };
        try
        {
            for (var i = 0; i < n; i++)
            {
                ContainerNetworking.Model.EndpointService.BeginNamespaceFirst = i % 2 == 0;
                var sw = Stopwatch.StartNew();
                model.SetupContainers(t, i, i + 1);
                ms[i % 2].Add(sw.Elapsed.TotalMilliseconds);
            }
        }
        finally { ContainerNetworking.Model.EndpointService.BeginNamespaceFirst = true; }
        model.TeardownContainers(t, 0, n);
        t.WaitForEmptyBridge(TimeSpan.FromSeconds(60));
        var sb = new System.Text.StringBuilder($"Connect, the two ways taking turns (N={n}, ms per container, median / mean; load {File.ReadAllText("/proc/loadavg").Trim()}):\n");
        foreach (var (k, what) in new[] { (0, "its namespace begun before the plan (unnamed; named after the intent record)"), (1, "its namespace begun by the CreateNamespace step") })
        {
            var xs = ms[k].Order().ToList();
            sb.Append($"  {xs[xs.Count / 2],8:F3} / {xs.Average(),6:F3}  {what}\n");
        }
        return sb.ToString();
    }
}
