using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>Hairpin on the container's bridge port, and the namespace-only teardown of Disconnect.</summary>
public sealed class HairpinAndTeardownTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    [Fact]
    public void Container_ReachesItsOwnPublishedPort_ThroughTheHostsAddress()
    {
        Outside.Create(_f);
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
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
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
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
    public void Disconnect_FlushesExactlyTheContainersFlows_WithoutReadingTenThousandOthers()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var c = _f.Run("bridge", "ct", "9001:80");
        var other = _f.Run("bridge", "ctother");
        string ip = c.IPv4Address!.ToString(), otherIp = other.IPv4Address!.ToString();
        ContainerNetworking.Tests.Netfilter.ConntrackFilterTests.Load(_f.HostName, ContainerNetworking.Tests.Netfilter.ConntrackFilterTests.Unrelated(10_000).Concat(
        [
            $"-I -s {ip} -d 10.2.0.9 -p tcp --sport 5000 --dport 443 --state ESTABLISHED -t 600",            // from it
            $"-I -s {ip} -d 10.2.0.9 -p udp --sport 5001 --dport 53 -t 600",
            $"-I -s {otherIp} -d {ip} -p tcp --sport 6000 --dport 5432 --state ESTABLISHED -t 600",          // to it
            $"-I -s 10.99.0.2 -d 10.99.0.1 -r {ip} -q 10.99.0.2 -p tcp --sport 40000 --dport 9001 --reply-port-src 80 --reply-port-dst 40000 --state ESTABLISHED -t 600", // its published port
            $"-I -s {otherIp} -d 10.2.0.9 -p tcp --sport 7000 --dport 443 --state ESTABLISHED -t 600",       // the other container's
        ]));
        int Listed(params string[] filter) =>
            Cli.InNs(_f.HostName, ["conntrack", "-L", .. filter]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.Equal(2, Listed("-s", ip));
        Assert.Equal(2, Listed("-r", ip));

        var before = _f.Host.NetfilterConnection.MessagesReceived;
        _f.Manager.Disconnect(c.Container, "bridge");
        var crossed = _f.Host.NetfilterConnection.MessagesReceived - before;

        Assert.Equal(0, Listed("-s", ip));
        Assert.Equal(0, Listed("-d", ip));
        Assert.Equal(0, Listed("-r", ip));
        Assert.Equal(1, Listed("-s", otherIp));
        Assert.Equal(10_000, Listed("-d", "10.2.0.1"));
        // Only the container's entries crossed to user space (the kernel filtered the dumps), not the 10,000 others.
        Assert.True(crossed < 100, $"{crossed} netlink messages were read to flush 4 entries");
    }

    [Fact]
    public void Disconnect_OfANamespaceItDidNotCreate_DeletesTheVeth_AndFlushesTheFlowsMeanwhile()
    {
        // A runtime's namespace (the CNI case): Disconnect deletes the veth itself, and flushes the container's flows on
        // a thread of its own meanwhile; the plan says both, and afterwards neither the veth nor a flow is left.
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var ns = _f.Namespaces.Create("runtime");
        var c = _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = ns.Name, Publish = ["9002:80"] });
        var other = _f.Run("bridge", "ctother2");
        string ip = c.IPv4Address!.ToString(), otherIp = other.IPv4Address!.ToString();
        ContainerNetworking.Tests.Netfilter.ConntrackFilterTests.Load(_f.HostName, ContainerNetworking.Tests.Netfilter.ConntrackFilterTests.Unrelated(2_000).Concat(
        [
            $"-I -s {ip} -d 10.2.0.9 -p tcp --sport 5000 --dport 443 --state ESTABLISHED -t 600",
            $"-I -s {otherIp} -d {ip} -p tcp --sport 6000 --dport 5432 --state ESTABLISHED -t 600",
            $"-I -s {otherIp} -d 10.2.0.9 -p tcp --sport 7000 --dport 443 --state ESTABLISHED -t 600",
        ]));
        int Listed(params string[] filter) =>
            Cli.InNs(_f.HostName, ["conntrack", "-L", .. filter]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.Equal(1, Listed("-s", ip));
        Assert.Equal(1, Listed("-r", ip));

        var step = Assert.Single(_f.Manager.PlanDisconnect(c.Container, "bridge").Steps, s => s.Name == "DeleteVeth");
        Assert.Contains("conntrack -D for " + ip, step.Description);
        _f.Manager.Disconnect(c.Container, "bridge");

        Assert.DoesNotContain(Cli.IpJson(_f.HostName, "link", "show", "type", "veth").EnumerateArray(), l => l.GetProperty("ifname").GetString() == c.HostInterface);
        Assert.DoesNotContain(Cli.IpJson(ns.Name!, "link", "show").EnumerateArray(), l => l.GetProperty("ifname").GetString() == "eth0");
        Assert.Equal(0, Listed("-s", ip));
        Assert.Equal(0, Listed("-r", ip));
        Assert.Equal(1, Listed("-s", otherIp));
        Assert.Equal(2_000, Listed("-d", "10.2.0.1"));
        Assert.DoesNotContain(_f.Manager.State.Leases("bridge"), l => l.Key.ToString() == ip);
    }

    // Links and the ruleset (the state directory differs by design: last_reserved_ip moved on).
    private static string Regex(string s) =>
        System.Text.RegularExpressions.Regex.Replace(s[..s.IndexOf("\n--state--\n", StringComparison.Ordinal)], @"counter packets \d+ bytes \d+", "counter");
}
