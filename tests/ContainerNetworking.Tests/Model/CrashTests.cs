using System.Text.RegularExpressions;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;
using Xunit.Abstractions;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// kill -9 at every fault point of every state-changing command of the model (Connect with published ports, Disconnect,
/// New- and Remove-ContainerNetwork, allowing and disallowing a pair of networks), each run by the test agent, a process
/// of its own, in a throwaway host namespace with its own state directory: first traced to learn its fault points (plan
/// steps and the moments inside them a crash can split: a namespace unmounted but not unlinked, a state file written but
/// not renamed, a removed network's directory renamed aside but not deleted; see <see cref="FaultInjection"/>), then
/// killed once before each. After each kill Repair runs, and the host must be exactly as before the command or exactly
/// as after it (links, nft ruleset, state files, namespaces; no temporary file, lease, record or namespace of the killed
/// command left), a removal that had begun is finished rather than undone, a second Repair finds nothing, and the
/// containers that survive still answer pings and their published ports still answer from outside.
/// </summary>
public sealed class CrashTests : IDisposable
{
    private readonly ModelFixture _f = new();
    private readonly ITestOutputHelper _out;
    private readonly string _outside;
    private readonly ContainerEndpoint _keep, _keep2;
    private readonly Traffic.Listener _web;

    public CrashTests(ITestOutputHelper output)
    {
        _out = output;
        _outside = Outside.Create(_f);
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        _keep = _f.Run("bridge", "keep", "9001:80");
        _keep2 = _f.Run("bridge", "keeptwo");
        _web = Traffic.Listen(_keep.Namespace!, 80, "keep");
    }

    public void Dispose()
    {
        _web.Dispose();
        _f.Dispose();
    }

    /// <summary>
    /// The host as observable (<see cref="ModelFixture.Snapshot"/>: links, the nft ruleset, state files, namespaces, plus
    /// the state directory's directories), minus what legitimately moves (nft counters, the allocation cursor) and with
    /// what differs from one run of a scenario to the next written as placeholders: ids and what is named for them
    /// (veths, owners, record files), the victims' namespace names, timestamps, inodes, pids, a new bridge's random MAC.
    /// Taken once the kernel has taken away the host ends of veths whose namespace was deleted (moments later,
    /// asynchronously): at most as many bridge ports as endpoint records, or 3 s.
    /// </summary>
    private string Snapshot()
    {
        for (var i = 0; i < 150; i++)
        {
            var ports = Cli.IpJson(_f.HostName, "link", "show", "type", "veth").EnumerateArray().Count(l => l.TryGetProperty("master", out _));
            var records = _f.Manager.State.ListAllEndpoints().Count(e => e.Mode == EndpointMode.Bridge && e.HostInterface is not null);
            if (ports <= records) break;
            Thread.Sleep(20);
        }
        var raw = Regex.Replace(_f.Snapshot(), @"counter packets \d+ bytes \d+", "counter");
        var nftAt = raw.IndexOf("\n--nft--\n", StringComparison.Ordinal);
        var stateAt = raw.IndexOf("\n--state--\n", StringComparison.Ordinal);
        var netnsAt = raw.IndexOf("\n--netns--\n", StringComparison.Ordinal);
        var links = Normalize(raw[..nftAt]).Split('\n').Order(StringComparer.Ordinal);
        var nft = Normalize(raw[nftAt..stateAt]);
        var netns = Normalize(raw[(netnsAt + "\n--netns--\n".Length)..]).Split(',').Order(StringComparer.Ordinal);
        var files = Directory.Exists(_f.StateDir)
            ? Directory.EnumerateFiles(_f.StateDir, "*", SearchOption.AllDirectories)
                .Where(f => !f.EndsWith("/.lock", StringComparison.Ordinal) && !f.Contains("last_reserved_ip", StringComparison.Ordinal) && !f.Contains(PendingDir, StringComparison.Ordinal) && !f.Contains(SpareDir, StringComparison.Ordinal))
                .Select(f => Normalize(f[_f.StateDir.Length..] + "=" + File.ReadAllText(f))).Order(StringComparer.Ordinal)
            : Enumerable.Empty<string>();
        var dirs = Directory.Exists(_f.StateDir)
            ? Directory.EnumerateDirectories(_f.StateDir, "*", SearchOption.AllDirectories).Where(d => !d.Contains(PendingDir, StringComparison.Ordinal) && !d.Contains(SpareDir, StringComparison.Ordinal))
                .Select(d => Normalize(d[_f.StateDir.Length..])).Order(StringComparer.Ordinal)
            : Enumerable.Empty<string>();
        // What ip netns exec bind-mounts for each container (name resolution): /etc/netns/NAME (a link, a dangling one
        // too, or a directory) and where its links lead.
        string Target(string e) => new FileInfo(e).LinkTarget is { } t ? t.Replace(_f.StateDir, "<state>", StringComparison.Ordinal) : "(file)";
        var etc = _f.TrackedNames.Select(n => Path.Combine("/etc/netns", n)).Where(d => Directory.Exists(d) || new FileInfo(d).LinkTarget is not null)
            .SelectMany(d => (new FileInfo(d).LinkTarget is null ? [] : new[] { Normalize(d + " => " + Target(d)) })
                .Concat(Directory.Exists(d) ? Directory.EnumerateFileSystemEntries(d).Select(e => Normalize(e + " -> " + Target(e))) : [])
                .DefaultIfEmpty(Normalize(d + " (empty)")))
            .Order(StringComparer.Ordinal);
        return string.Join("\n", links) + nft + "\n--state--\n" + string.Join("\n", files) + "\n--dirs--\n" + string.Join("\n", dirs) + "\n--netns--\n" + string.Join(",", netns)
            + "\n--etc-netns--\n" + string.Join("\n", etc);
    }

    /// <summary>
    /// The addresses and UDP host ports noted as "conntrack flush pending" (ROOT/networks/NAME/conntrack-pending/) are
    /// left out of the comparison, as the allocation cursor is: a superset is correct (a flush of entries that are not
    /// there costs a pass over the table, nothing more), and which are noted depends on which addresses earlier runs
    /// took. What must hold instead is checked by <see cref="AssertFreedAreNoted"/>: none is ever missing.
    /// </summary>
    private const string PendingDir = "/conntrack-pending";

    /// <summary>ROOT/.spare (StateStore.SpareDirectory): recycled inodes, whose number and content mean nothing.</summary>
    private const string SpareDir = "/" + StateStore.SpareDirName;

    /// <summary>The leased addresses and published UDP host ports of every network, as (network, key) with key the name a pending note has.</summary>
    private HashSet<(string Network, string Key)> Held()
    {
        var held = new HashSet<(string, string)>();
        foreach (var n in _f.Manager.State.ListNetworks())
        {
            foreach (var a in _f.Manager.State.Leases(n.Name).Keys) held.Add((n.Name, a.ToString()));
            foreach (var e in _f.Manager.State.ListEndpoints(n.Name))
                foreach (var p in e.Ports.Where(p => p.Protocol == ContainerNetworking.Netfilter.PortProtocol.Udp)) held.Add((n.Name, "udp-" + p.HostPort));
        }
        return held;
    }

    /// <summary>Every address and UDP host port held before that is free now (of a network that is still there) is noted as pending: a kill never loses one.</summary>
    private void AssertFreedAreNoted(HashSet<(string Network, string Key)> before, string at)
    {
        var now = Held();
        foreach (var (network, key) in before.Where(h => !now.Contains(h) && _f.Manager.FindNetwork(h.Network) is not null))
            Assert.True(File.Exists(Path.Combine(_f.StateDir, "networks", network, PendingDir.TrimStart('/'), key)),
                $"{at}: {key} of network {network} was freed but is not noted in {PendingDir}");
    }

    private static readonly (Regex Pattern, string Placeholder)[] Varying =
    [
        (new(@"[0-9a-f]{64}"), "<id>"),
        (new(@"veth[0-9a-f]{7}"), "<veth>"),
        (new(@"endpoint:[0-9a-f]{12}"), "endpoint:<id12>"),
        (new(@"cnt-(victim|onvictim|warmup)-\d+-\d+(x\d+)?"), "cnt-$1"),
        (new(@"""(created|namespaceId|ownerPid|bridgeMacAddress)"": [^,\n]*"), @"""$1"": <varies>"),
        (new(@"\.deleted-([^/]*)-[0-9a-f]{32}"), ".deleted-$1-<guid>"),
    ];

    private static string Normalize(string s)
    {
        foreach (var (pattern, placeholder) in Varying) s = pattern.Replace(s, placeholder);
        return s;
    }

    private string[] Agent(string verb, params string[] rest) => [verb, _f.HostName, _f.StateDir, .. rest];

    /// <summary>The fault points the command passes when nothing kills it (it runs to its end).</summary>
    private List<string> Trace(string[] command)
    {
        var r = global::ContainerNetworking.Tests.Model.Agent.RunCommand(new() { [FaultInjection.TraceVariable] = "1" }, command);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        return r.Stderr.Split('\n').Where(l => l.StartsWith("fault-point ", StringComparison.Ordinal)).Select(l => l["fault-point ".Length..].Trim()).ToList();
    }

    /// <summary>
    /// One command killed at each of its fault points in turn. <paramref name="setUp"/> builds what the command acts on
    /// (on a host that is back at the base each time) and returns the command; <paramref name="tearDown"/> brings the host
    /// back to the base from the state before or after the command (it skips what is gone). <paramref name="removal"/>: once the record says Removing, Repair
    /// must finish the removal (the host as after the command), never undo it. <paramref name="alwaysAfter"/>: the host
    /// must be as after the command whatever the point (a Repair killed, then run again).
    /// </summary>
    private void KillAtEveryPoint(Func<string[]> setUp, Action tearDown, bool removal, Action<bool>? survivorsWork = null, int minimumPoints = 3, bool alwaysAfter = false)
    {
        var before = Snapshot();
        var command = setUp();
        var start = Snapshot();
        var heldAtStart = Held();
        var points = Trace(command);
        AssertFreedAreNoted(heldAtStart, command[0] + " run to its end");
        var end = Snapshot();
        _out.WriteLine($"{command[0]}: {points.Count} fault points: {string.Join(", ", points)}");
        Assert.True(points.Count >= minimumPoints, string.Join(", ", points));
        Assert.NotEqual(start, end);
        tearDown();
        Assert.Equal(before, Snapshot());
        // A removal is decided once its mark is written: the point after the mark's rename or overwrite.
        var marked = points.FindIndex(p => p.StartsWith("Mark", StringComparison.Ordinal) && p.EndsWith("Removing", StringComparison.Ordinal));
        var decided = marked < 0 ? int.MaxValue : points.FindIndex(marked, p => p is "RenameStateFile" or "OverwriteStateFile") + 1;

        for (var i = 1; i <= points.Count; i++)
        {
            command = setUp();
            Assert.Equal(start, Snapshot());
            var held = Held();
            var r = global::ContainerNetworking.Tests.Model.Agent.RunCommand(new() { [FaultInjection.Variable] = "#" + i }, command);
            var at = $"{command[0]} killed before point {i} ({points[i - 1]})";
            Assert.True(r.ExitCode == 137, $"{at}: exit {r.ExitCode}: {r.Stderr}");
            Assert.Contains($"before step {points[i - 1]} (fault point {i})", r.Stderr);

            var findings = _f.Manager.Repair();
            _out.WriteLine($"{at}: {string.Join("; ", findings.Select(f => $"{f.Kind} {f.Action}"))}");
            Assert.All(findings, f => Assert.NotEqual("Failed", f.Action));
            Assert.Empty(_f.Manager.Repair());
            AssertFreedAreNoted(held, at);
            var after = Snapshot();
            if (alwaysAfter)
                Assert.True(after == end, $"{at}: expected the host as after the command:\n{after}");
            else if (removal)
                Assert.True(i > decided ? after == end : after == start, $"{at}: expected the host as {(i > decided ? "after" : "before")} the removal:\n{after}");
            else
                Assert.True(after == start || after == end, $"{at}: the host is neither as before nor as after the command:\n{after}");
            Assert.True(Cli.Ping(_keep.Namespace!, _keep2.IPv4Address!.ToString()), $"{at}: keep cannot reach keeptwo");
            Assert.Equal("keep " + Outside.Address, Traffic.Fetch(_outside, Outside.HostAddress, 9001));
            survivorsWork?.Invoke(after == start);
            tearDown(); // idempotent: back to the base from before or after the command
            Assert.Equal(before, Snapshot());
        }
    }

    private ContainerEndpoint? _victim;

    [Fact]
    public void Connect_KilledAtEveryPoint_RepairLeavesNothing()
    {
        string[] SetUp()
        {
            var prefix = TestNamespaces.UniqueName("victim") + "x";
            _f.Track(prefix + "0");
            return Agent("connect", "bridge", "1", prefix, "9100:80", "9200-9201:90-91/udp");
        }
        KillAtEveryPoint(SetUp, () =>
        {
            foreach (var e in _f.Manager.GetEndpoints("bridge").Where(e => e.Container.StartsWith("cnt-victim", StringComparison.Ordinal)))
                _f.Manager.Disconnect(e.Id);
            _f.Manager.WaitForTeardown();
        }, removal: false, minimumPoints: 10);
    }

    [Fact]
    public void Disconnect_KilledAtEveryPoint_RepairFinishesIt_OnceBegun()
    {
        string[] SetUp()
        {
            // A fixed address: each run's victim looks the same (the allocation cursor moves on otherwise).
            _victim = _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("victim"), CreateNamespace = true, IPv4Address = Ip("172.17.0.100"), Publish = ["9100:80", "9200-9201:90-91/udp"] });
            return Agent("disconnect", "bridge", _victim.Container);
        }
        KillAtEveryPoint(SetUp, () =>
        {
            if (_f.Manager.GetEndpoints("bridge").Any(e => e.Id == _victim!.Id)) _f.Manager.Disconnect(_victim!.Id);
            _f.Manager.WaitForTeardown();
        }, removal: true, survivorsWork: stays =>
        {
            if (!stays) return;
            // Killed before the removal began: the victim is untouched and works.
            Assert.True(Cli.Ping(_victim!.Namespace!, "172.17.0.1"));
            using var web = Traffic.Listen(_victim.Namespace!, 80, "victim");
            Assert.Equal("victim " + Outside.Address, Traffic.Fetch(_outside, Outside.HostAddress, 9100));
        });
    }

    [Fact]
    public void CreateNetwork_KilledAtEveryPoint_RepairLeavesNothing()
    {
        KillAtEveryPoint(() => Agent("new-network", "victim", "br-victim", "172.30.0.0/16"), () =>
        {
            if (_f.Manager.FindNetwork("victim") is not null) _f.Manager.RemoveNetwork("victim");
        }, removal: false, minimumPoints: 6);
    }

    [Fact]
    public void RemoveNetwork_KilledAtEveryPoint_RepairFinishesIt_OnceBegun()
    {
        string[] SetUp()
        {
            _f.Manager.CreateNetwork(new NetworkSpec { Name = "victim", BridgeName = "br-victim", Subnet = Net("172.30.0.0/16") });
            _victim = _f.Run("victim", "onvictim", "9300:80");
            _f.Manager.AllowBetweenNetworks("victim", "bridge");
            return Agent("remove-network", "victim");
        }
        KillAtEveryPoint(SetUp, () =>
        {
            if (_f.Manager.FindNetwork("victim") is not null) _f.Manager.RemoveNetwork("victim", force: true);
        }, removal: true, survivorsWork: stays =>
        {
            if (!stays) return;
            Assert.True(Cli.Ping(_victim!.Namespace!, "172.30.0.1"));
            Assert.True(Cli.Ping(_victim.Namespace!, _keep.IPv4Address!.ToString())); // the allowance holds
            using var web = Traffic.Listen(_victim.Namespace!, 80, "victim");
            Assert.Equal("victim " + Outside.Address, Traffic.Fetch(_outside, Outside.HostAddress, 9300));
        }, minimumPoints: 10);
    }

    [Fact]
    public void AllowAndDisallow_KilledAtEveryPoint_RepairLeavesThePairAllowedOrNot()
    {
        KillAtEveryPoint(() =>
        {
            _f.Manager.CreateNetwork(new NetworkSpec { Name = "victim", BridgeName = "br-victim", Subnet = Net("172.30.0.0/16") });
            return Agent("allow", "victim", "bridge");
        }, () => _f.Manager.RemoveNetwork("victim"), removal: false);
        KillAtEveryPoint(() =>
        {
            _f.Manager.CreateNetwork(new NetworkSpec { Name = "victim", BridgeName = "br-victim", Subnet = Net("172.30.0.0/16") });
            _f.Manager.AllowBetweenNetworks("victim", "bridge");
            return Agent("disallow", "victim", "bridge");
        }, () => _f.Manager.RemoveNetwork("victim"), removal: false);
    }

    /// <summary>A container on bridge (publishing 9100) and on victim, whose higher gateway priority holds its default route.</summary>
    private ContainerEndpoint OnTwoNetworks(bool joinVictim)
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "victim", BridgeName = "br-victim", Subnet = Net("172.30.0.0/16") });
        _victim = _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("victim"), CreateNamespace = true, IPv4Address = Ip("172.17.0.100"), Publish = ["9100:80"] });
        if (joinVictim) _f.Manager.Connect(new EndpointSpec { Network = "victim", Namespace = _victim.Namespace, GatewayPriority = 10, Publish = ["9300:80"] });
        return _victim;
    }

    /// <summary>The container on two networks reaches the outside through its default route, and its bridge port answers.</summary>
    private void TwoNetworkContainerWorks()
    {
        Assert.True(Cli.Ping(_victim!.Namespace!, Outside.Address), "the container's default route leads out");
        using var web = Traffic.Listen(_victim.Namespace!, 80, "victim");
        Assert.Equal("victim " + Outside.Address, Traffic.Fetch(_outside, Outside.HostAddress, 9100));
    }

    /// <summary>
    /// A container joins a second network of a higher gateway priority (its default route moves there, the first
    /// network's record gives it up): killed anywhere, Repair leaves it on the first network alone with the default
    /// route back via the first network's gateway.
    /// </summary>
    [Fact]
    public void JoiningASecondNetwork_KilledAtEveryPoint_RepairGivesTheDefaultRouteBack()
    {
        KillAtEveryPoint(() =>
        {
            OnTwoNetworks(joinVictim: false);
            return Agent("join", "victim", _victim!.Namespace!, "10", "9300:80");
        }, RemoveVictimFromBothNetworks, removal: false, survivorsWork: _ => TwoNetworkContainerWorks(), minimumPoints: 8);
    }

    /// <summary>The clean-up of the two-network cases: the victim container leaves both networks, then its network goes.</summary>
    private void RemoveVictimFromBothNetworks()
    {
        foreach (var e in _f.Manager.GetEndpoints().Where(e => e.Container.StartsWith("cnt-victim", StringComparison.Ordinal)).OrderByDescending(e => e.Network == "victim"))
            _f.Manager.Disconnect(e.Id);
        _f.Manager.WaitForTeardown();
        _f.Manager.RemoveNetwork("victim");
    }

    /// <summary>
    /// Disconnect from one of a container's two networks (the one holding its default route): killed anywhere after it
    /// began, Repair finishes it; the container stays on the other network with its default route moved there.
    /// </summary>
    [Fact]
    public void DisconnectFromOneOfTwoNetworks_KilledAtEveryPoint_RepairFinishesIt_AndTheDefaultRouteMoves()
    {
        KillAtEveryPoint(() =>
        {
            OnTwoNetworks(joinVictim: true);
            return Agent("disconnect", "victim", _victim!.Container);
        }, RemoveVictimFromBothNetworks, removal: true, survivorsWork: _ => TwoNetworkContainerWorks(), minimumPoints: 6);
    }

    /// <summary>
    /// Repair itself killed at every point: a host with a Disconnect and a network removal that were killed half-way and a
    /// rule of a network deleted by hand is repaired by the agent, killed before each of the points of that repair, and
    /// then repaired again: the host ends as one uninterrupted Repair leaves it (the removals finished, the rule back),
    /// and the survivors work.
    /// </summary>
    [Fact]
    public void Repair_KilledAtEveryPoint_ASecondRepairFinishesTheJob()
    {
        string[] SetUp()
        {
            _victim = _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("victim"), CreateNamespace = true, IPv4Address = Ip("172.17.0.100"), Publish = ["9100:80"] });
            Assert.Equal(137, global::ContainerNetworking.Tests.Model.Agent.RunCommand(new() { [FaultInjection.Variable] = "DeleteNamespace" }, Agent("disconnect", "bridge", _victim.Container)).ExitCode);
            _f.Manager.CreateNetwork(new NetworkSpec { Name = "victim", BridgeName = "br-victim", Subnet = Net("172.30.0.0/16") });
            _f.Run("victim", "onvictim", "9300:80");
            Assert.Equal(137, global::ContainerNetworking.Tests.Model.Agent.RunCommand(new() { [FaultInjection.Variable] = "DeleteBridge" }, Agent("remove-network", "victim")).ExitCode);
            var drop = Regex.Match(Cli.InNs(_f.HostName, "nft", "-a", "list", "chain", "inet", "containernetworking", "networks").Ok().Stdout,
                @"oifname ""docker0"" counter packets \d+ bytes \d+ drop comment ""[^""]*"" # handle (\d+)").Groups[1].Value;
            Cli.InNs(_f.HostName, "nft", "delete", "rule", "inet", "containernetworking", "networks", "handle", drop).Ok();
            return Agent("repair", "-");
        }
        KillAtEveryPoint(SetUp, () => { }, removal: false, minimumPoints: 8, alwaysAfter: true);
    }

    /// <summary>A container joins the victim's namespace (container mode, a pod), killed anywhere: Repair leaves the pod as before or after.</summary>
    [Fact]
    public void JoiningAPod_KilledAtEveryPoint_RepairLeavesItAsBeforeOrAfter()
    {
        KillAtEveryPoint(() =>
        {
            _victim = _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("victim"), CreateNamespace = true, IPv4Address = Ip("172.17.0.100"), Publish = ["9100:80"] });
            return Agent("share", _victim.Id, "podmate");
        }, () =>
        {
            if (_f.Manager.GetEndpoints("bridge").Any(e => e.Id == _victim!.Id)) _f.Manager.Disconnect(_victim!.Id, force: true);
            _f.Manager.WaitForTeardown();
        }, removal: false, survivorsWork: _ =>
        {
            Assert.True(Cli.Ping(_victim!.Namespace!, "172.17.0.1"));
            using var web = Traffic.Listen(_victim.Namespace!, 80, "victim");
            Assert.Equal("victim " + Outside.Address, Traffic.Fetch(_outside, Outside.HostAddress, 9100));
        }, minimumPoints: 2);
    }

    /// <summary>
    /// Disconnect -Force of a pod's owner, which takes the containers sharing its namespace with it: every record of the
    /// pod is marked Removing before anything goes, so Repair finishes the whole pod's removal once it began.
    /// </summary>
    [Fact]
    public void DisconnectingAPodWithForce_KilledAtEveryPoint_RepairFinishesItOnceBegun()
    {
        KillAtEveryPoint(() =>
        {
            _victim = _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("victim"), CreateNamespace = true, IPv4Address = Ip("172.17.0.100"), Publish = ["9100:80"] });
            _f.Manager.Connect(new EndpointSpec { ShareWith = _victim.Id, Container = "podmate" });
            return Agent("disconnect-force", "bridge", _victim.Container);
        }, () =>
        {
            if (_f.Manager.GetEndpoints("bridge").Any(e => e.Id == _victim!.Id)) _f.Manager.Disconnect(_victim!.Id, force: true);
            _f.Manager.WaitForTeardown();
        }, removal: true, minimumPoints: 8);
    }

    /// <summary>A container connected to the predefined none network (a namespace with loopback only), killed anywhere: nothing left.</summary>
    [Fact]
    public void ConnectToNone_KilledAtEveryPoint_RepairLeavesNothing()
    {
        // The first endpoint on none writes that predefined network's record, which stays: part of the base.
        _f.Manager.Disconnect(_f.Manager.Connect(new EndpointSpec { Network = "none", Namespace = _f.Container("warmup"), CreateNamespace = true }).Id);
        KillAtEveryPoint(() =>
        {
            var ns = TestNamespaces.UniqueName("victim");
            _f.Track(ns);
            return Agent("create-in", "none", ns);
        }, () =>
        {
            foreach (var e in _f.Manager.GetEndpoints("none")) _f.Manager.Disconnect(e.Id);
        }, removal: false, minimumPoints: 4);
    }

    /// <summary>
    /// The one crash the issue found that Repair could not get past: a namespace delete killed between its umount and its
    /// unlink leaves /run/netns/NAME as an empty plain file; opening it is a clear NotANetNamespace error (not an
    /// ArgumentException), and Repair and Disconnect remove the file and finish.
    /// </summary>
    [Fact]
    public void ANamespaceLeftAsAPlainFile_IsAClearError_AndRepairFinishesTheDisconnect()
    {
        var before = Snapshot();
        var victim = _f.Run("bridge", "victim", "9100:80");
        var r = global::ContainerNetworking.Tests.Model.Agent.RunCommand(new() { [FaultInjection.Variable] = "UnlinkNamespace" }, Agent("disconnect", "bridge", victim.Container));
        Assert.Equal(137, r.ExitCode);
        var file = Path.Combine(NetNamespace.RunDirectory, victim.Namespace!);
        Assert.True(File.Exists(file));
        Assert.Equal(0, new FileInfo(file).Length);
        Assert.DoesNotContain(Cli.Run("findmnt", "-rn", "-o", "TARGET").Stdout.Split('\n'), l => l == file);

        var e = Assert.Throws<NotANetNamespaceException>(() => NetNamespace.Open(victim.Namespace!));
        Assert.Equal("NotANetNamespace", e.ErrorId);
        Assert.Contains(file, e.Message);
        Assert.Contains("Remove-NetNamespace " + victim.Namespace, e.Message);

        var f = Assert.Single(_f.Manager.Repair());
        Assert.Equal(("IncompleteDisconnect", "Removed"), (f.Kind, f.Action));
        Assert.False(File.Exists(file));
        Assert.Equal(before, Snapshot());
        Assert.Empty(_f.Manager.Repair());

        // The same leftover under a Ready endpoint (a Disconnect of an older version, or a file made by hand): Repair
        // removes the endpoint and the file instead of failing for ever.
        var other = _f.Run("bridge", "other", "9100:80");
        var otherFile = Path.Combine(NetNamespace.RunDirectory, other.Namespace!);
        Cli.Run("umount", otherFile).Ok();
        Assert.Throws<NotANetNamespaceException>(() => NetNamespace.Open(other.Namespace!));
        var g = Assert.Single(_f.Manager.Repair());
        Assert.Equal(("EndpointNamespaceGone", "Removed"), (g.Kind, g.Action));
        Assert.False(File.Exists(otherFile));
        for (var i = 0; i < 200 && _f.Host.Rtnl.FindLink(other.HostInterface!) is not null; i++) Thread.Sleep(20);
        Assert.Equal(before, Snapshot());
    }
}
