using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>Hairpin on the container's bridge port, the namespace-only teardown of Disconnect, and the conntrack entries it leaves pending.</summary>
public sealed class HairpinAndTeardownTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    [Fact]
    public void Container_ReachesItsOwnPublishedPort_ThroughTheHostsAddress()
    {
        Outside.Create(_f);
        Bridge();
        var c = _f.Run("bridge", "self", "9001:80");
        using var web = Traffic.Listen(c.Namespace!, 80, "self-web");

        // The bridge port has hairpin mode on (what lets the translated packet go back out of the port it came in on).
        var port = Cli.IpJson(_f.HostName, "-d", "link", "show", c.HostInterface!)[0];
        Assert.True(port.GetProperty("linkinfo").GetProperty("info_slave_data").GetProperty("hairpin").GetBoolean());

        // The container connects to the host's uplink address and its gateway, on its own published port, and gets its
        // own listener (the hairpin masquerade makes the connection come from the gateway).
        Assert.Equal("self-web 172.17.0.1", Traffic.Fetch(c.Namespace!, Outside.HostAddress, 9001));
        Assert.Equal("self-web 172.17.0.1", Traffic.Fetch(c.Namespace!, "172.17.0.1", 9001));
    }

    [Fact]
    public void Disconnect_DeletesTheNamespace_TheVethGoesWithIt_AndRepairFindsNothing()
    {
        Bridge();
        var keep = _f.Run("bridge", "keep", "9001:80");
        var baseline = Regex(_f.Snapshot());
        var names = new List<ContainerEndpoint>();
        for (var i = 0; i < 5; i++) names.Add(_f.Run("bridge", "gone" + i, $"{9100 + i}:80"));
        var plan = _f.Manager.PlanDisconnect(names[0].Container, "bridge");
        Assert.DoesNotContain(plan.Steps, s => s.Name == "DeleteVeth");
        Assert.Contains(plan.Steps, s => s.Name == "DeleteNamespace" && s.Description.Contains(names[0].HostInterface!));
        foreach (var e in names) _f.Manager.Disconnect(e.Container, "bridge");
        foreach (var e in names) Assert.False(NetNamespace.Exists(e.Namespace!));
        // Right away, Repair does not call the veths the kernel is still taking down orphans.
        Assert.Empty(_f.Manager.Repair());
        Assert.Equal(baseline, Regex(_f.Snapshot()));
        Assert.True(Cli.Ping(keep.Namespace!, "172.17.0.1"));
    }

    [Fact]
    public void Disconnect_LeavesTheFlowsPending_AndTheConnectThatTakesTheAddress_FlushesExactlyThemFirst()
    {
        Bridge();
        var c = _f.Run("bridge", "ct", "9001:80");
        var other = _f.Run("bridge", "ctother");
        string ip = c.IPv4Address!.ToString(), otherIp = other.IPv4Address!.ToString();
        LoadFlows(10_000, [
            $"-I -s {ip} -d 10.2.0.9 -p tcp --sport 5000 --dport 443 --state ESTABLISHED -t 600",            // from it
            $"-I -s {ip} -d 10.2.0.9 -p udp --sport 5001 --dport 53 -t 600",
            $"-I -s {otherIp} -d {ip} -p tcp --sport 6000 --dport 5432 --state ESTABLISHED -t 600",          // to it
            $"-I -s 10.99.0.2 -d 10.99.0.1 -r {ip} -q 10.99.0.2 -p tcp --sport 40000 --dport 9001 --reply-port-src 80 --reply-port-dst 40000 --state ESTABLISHED -t 600", // its published port
            $"-I -s {otherIp} -d 10.2.0.9 -p tcp --sport 7000 --dport 443 --state ESTABLISHED -t 600",       // the other container's
        ]);
        Assert.Equal(2, Listed("-s", ip));
        Assert.Equal(2, Listed("-r", ip));

        // Disconnect walks no conntrack table: the entries stay, and the address is noted as pending (before its lease went).
        _f.Manager.Disconnect(c.Container, "bridge");
        Assert.Equal(2, Listed("-s", ip));
        Assert.Equal(2, Listed("-r", ip));
        Assert.Equal([ip], Pending("bridge"));
        Assert.DoesNotContain(_f.Manager.State.Leases("bridge"), l => l.Key.ToString() == ip);

        // A Connect that takes another address flushes nothing (and the plan of one that takes it says it would).
        var next = _f.Run("bridge", "ctnext");
        Assert.NotEqual(ip, next.IPv4Address!.ToString());
        Assert.Equal(2, Listed("-s", ip));
        Assert.Equal([ip], Pending("bridge"));
        var again = new EndpointSpec { Network = "bridge", Namespace = _f.Container("ctagain"), CreateNamespace = true, IPv4Address = c.IPv4Address };
        Assert.Contains("conntrack -D for " + ip, Assert.Single(_f.Manager.PlanConnect(again).Steps, s => s.Name == "LeaseAddress").Description);

        // The Connect that takes the address again: the old container's flows are gone once it returns, nothing else.
        var reused = _f.Manager.Connect(again);
        Assert.Equal(ip, reused.IPv4Address!.ToString());
        Assert.Equal(0, Listed("-s", ip));
        Assert.Equal(0, Listed("-r", ip));
        Assert.Equal(1, Listed("-s", otherIp));
        Assert.Equal(10_000, Listed("-d", "10.2.0.1"));
        Assert.Empty(Pending("bridge"));
        // The new container's own flows are its own: a Disconnect and Connect of someone else leaves them alone.
        LoadFlows(0, [$"-I -s {ip} -d 10.2.0.9 -p tcp --sport 5002 --dport 443 --state ESTABLISHED -t 600"]);
        _f.Manager.Disconnect(next.Container, "bridge");
        _f.Run("bridge", "ctlast");
        Assert.Equal(1, Listed("-s", ip));
        Assert.True(Cli.Ping(reused.Namespace!, otherIp));
    }

    [Fact]
    public void Disconnect_OfANamespaceItDidNotCreate_DeletesTheVeth_AndNotesTheFlows_FlushedWhenTheAddressComesBack()
    {
        // A runtime's namespace (the CNI case): Disconnect deletes the veth itself and leaves the flows, noted; the next
        // ADD of the runtime that gets the same address (a static one here) flushes them before the address is the
        // container's again.
        Bridge();
        var ns = _f.Namespaces.Create("runtime");
        var c = _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = ns.Name, Publish = ["9002:80"] });
        var other = _f.Run("bridge", "ctother2");
        string ip = c.IPv4Address!.ToString(), otherIp = other.IPv4Address!.ToString();
        LoadFlows(2_000, [
            $"-I -s {ip} -d 10.2.0.9 -p tcp --sport 5000 --dport 443 --state ESTABLISHED -t 600",
            $"-I -s {otherIp} -d {ip} -p tcp --sport 6000 --dport 5432 --state ESTABLISHED -t 600",
            $"-I -s {otherIp} -d 10.2.0.9 -p tcp --sport 7000 --dport 443 --state ESTABLISHED -t 600",
        ]);

        var plan = _f.Manager.PlanDisconnect(c.Container, "bridge").Steps;
        Assert.Equal("ip link del " + c.HostInterface, Assert.Single(plan, s => s.Name == "DeleteVeth").Description);
        Assert.Contains("conntrack-pending", Assert.Single(plan, s => s.Name == "ReleaseAddress").Description);
        _f.Manager.Disconnect(c.Container, "bridge");

        Assert.DoesNotContain(Cli.IpJson(_f.HostName, "link", "show", "type", "veth").EnumerateArray(), l => l.GetProperty("ifname").GetString() == c.HostInterface);
        Assert.DoesNotContain(Cli.IpJson(ns.Name!, "link", "show").EnumerateArray(), l => l.GetProperty("ifname").GetString() == "eth0");
        Assert.Equal(1, Listed("-s", ip));
        Assert.Equal(1, Listed("-r", ip));
        Assert.Equal([ip], Pending("bridge"));
        Assert.DoesNotContain(_f.Manager.State.Leases("bridge"), l => l.Key.ToString() == ip);

        _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = ns.Name, IPv4Address = c.IPv4Address });
        Assert.Equal(0, Listed("-s", ip));
        Assert.Equal(0, Listed("-r", ip));
        Assert.Equal(1, Listed("-s", otherIp));
        Assert.Equal(2_000, Listed("-d", "10.2.0.1"));
        Assert.Empty(Pending("bridge"));
    }

    [Fact]
    public void AUdpHostPortPublishedAgain_LosesTheOldContainersFlows_BeforeTheConnectReturns()
    {
        // moby #8795: a UDP client that sends from a fixed port keeps its flow, translated to the removed container's
        // address, for as long as it keeps sending; the port published again for another container must reach that one.
        Bridge();
        var dns = _f.Run("bridge", "udpold", "5353:53/udp", "5354:54/udp");
        string ip = dns.IPv4Address!.ToString();
        LoadFlows(1_000, [
            $"-I -s 10.99.0.2 -d 10.99.0.1 -r {ip} -q 10.99.0.2 -p udp --sport 40000 --dport 5353 --reply-port-src 53 --reply-port-dst 40000 -t 600", // the client's, translated
            $"-I -s 10.99.0.3 -d 10.99.0.1 -p udp --sport 40001 --dport 5353 -t 600",                                                              // untranslated, to the host
            $"-I -s 10.99.0.2 -d 10.99.0.1 -r {ip} -q 10.99.0.2 -p udp --sport 40002 --dport 5354 --reply-port-src 54 --reply-port-dst 40002 -t 600", // the other port
            $"-I -s 10.99.0.2 -d 10.99.0.1 -p tcp --sport 40003 --dport 5353 --state ESTABLISHED -t 600",                                          // tcp to 5353
        ]);
        _f.Manager.Disconnect(dns.Container, "bridge");
        Assert.Equal(2, Listed("-p", "udp", "--orig-port-dst", "5353"));
        Assert.Equal([ip, "udp-5353", "udp-5354"], Pending("bridge"));

        // Another container (another address) publishes 5353/udp: its flows to the port are gone once Connect returns.
        var again = _f.Run("bridge", "udpnew", "5353:53/udp");
        Assert.NotEqual(ip, again.IPv4Address!.ToString());
        Assert.Equal(0, Listed("-p", "udp", "--orig-port-dst", "5353"));
        Assert.Equal(1, Listed("-p", "udp", "--orig-port-dst", "5354"));       // not published again: still pending
        Assert.Equal(1, Listed("-p", "tcp", "--orig-port-dst", "5353"));
        Assert.Equal(1_000, Listed("-d", "10.2.0.1"));
        Assert.Equal([ip, "udp-5354"], Pending("bridge"));
    }

    [Fact]
    public void RemoveNetwork_FlushesWhatItsDisconnectedContainersLeft()
    {
        Bridge();
        var gone = _f.Run("bridge", "rmgone", "5355:53/udp");
        var forced = _f.Run("bridge", "rmforced");
        string ip = gone.IPv4Address!.ToString(), ip2 = forced.IPv4Address!.ToString();
        LoadFlows(1_000, [
            $"-I -s {ip} -d 10.2.0.9 -p tcp --sport 5000 --dport 443 --state ESTABLISHED -t 600",
            $"-I -s 10.99.0.3 -d 10.99.0.1 -p udp --sport 40001 --dport 5355 -t 600",
            $"-I -s {ip2} -d 10.2.0.9 -p tcp --sport 5001 --dport 443 --state ESTABLISHED -t 600",
        ]);
        _f.Manager.Disconnect(gone.Container, "bridge");
        Assert.Equal(1, Listed("-s", ip));
        // Removed with a container still on it (-Force): that one's flows go too (its Disconnect notes them first).
        _f.Manager.RemoveNetwork("bridge", force: true);
        Assert.Equal(0, Listed("-s", ip));
        Assert.Equal(0, Listed("-s", ip2));
        Assert.Equal(0, Listed("-p", "udp", "--orig-port-dst", "5355"));
        Assert.Equal(1_000, Listed("-d", "10.2.0.1"));
        Assert.False(Directory.Exists(Path.Combine(_f.StateDir, "networks", "bridge")));
    }

    private void Bridge() => _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });

    /// <summary>Loads <paramref name="unrelated"/> entries that involve no container, and <paramref name="lines"/>, into the host's conntrack table.</summary>
    private void LoadFlows(int unrelated, string[] lines) =>
        ContainerNetworking.Tests.Netfilter.ConntrackFilterTests.Load(_f.HostName, ContainerNetworking.Tests.Netfilter.ConntrackFilterTests.Unrelated(unrelated).Concat(lines));

    private int Listed(params string[] filter) =>
        Cli.InNs(_f.HostName, ["conntrack", "-L", .. filter]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>The network's addresses and UDP ports noted as "conntrack flush pending" (ROOT/networks/NAME/conntrack-pending/).</summary>
    private string[] Pending(string network)
    {
        var dir = Path.Combine(_f.StateDir, "networks", network, "conntrack-pending");
        return Directory.Exists(dir) ? [.. Directory.EnumerateFiles(dir).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal)] : [];
    }

    // Links and the ruleset (the state directory differs by design: last_reserved_ip moved on).
    private static string Regex(string s) =>
        System.Text.RegularExpressions.Regex.Replace(s[..s.IndexOf("\n--state--\n", StringComparison.Ordinal)], @"counter packets \d+ bytes \d+", "counter");
}
