using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.RouteLayer;

/// <summary>
/// The seed walkthroughs (scenarios S001–S003) built through RouteClient only, checked with real packets (ping from
/// <c>ip netns exec</c>) and read back through the library and through iproute2. Everything happens in throwaway
/// namespaces; one plays the host, another the outside world.
/// </summary>
public sealed class SeedScenarioTests : IDisposable
{
    private readonly TestNamespaces _nss = new();
    public void Dispose() => _nss.Dispose();

    private static bool Ping(NetNamespace from, string to, int waitSeconds = 2) => Cli.Ping(from.Name!, to, 1, waitSeconds);

    /// <summary>A container: veth with eth0 inside, the host end on <paramref name="bridge"/>, an address, optionally a default route.</summary>
    private static LinkInfo Attach(NetNamespace host, NetNamespace ctr, string hostEnd, string bridge, string cidr, string? mac = null, string? gateway = null)
    {
        var local = host.Rtnl.CreateVeth(hostEnd, "eth0", ctr.Handle, new VethOptions { Up = true, PeerUp = true, Master = bridge, PeerMacAddress = mac }, ctr.Rtnl);
        var parts = cidr.Split('/');
        ctr.Rtnl.AddAddress("eth0", IPAddress.Parse(parts[0]), int.Parse(parts[1]));
        if (gateway is not null) ctr.Rtnl.AddDefaultRoute(IPAddress.Parse(gateway));
        return local;
    }

    [Fact]
    public void S003_RedAndBlue_OnABridge_ThenTheHost_ThenOutsideThroughForwarding()
    {
        var host = _nss.Create("host");
        var red = _nss.Create("red");
        var blue = _nss.Create("blue");
        var outside = _nss.Create("outside");

        host.Rtnl.CreateBridge("br0", new BridgeOptions { Up = true });
        host.Rtnl.CreateVeth("veth-red-br", "veth-red", red.Handle, new VethOptions { Up = true, PeerUp = true, Master = "br0" }, red.Rtnl);
        host.Rtnl.CreateVeth("veth-blue-br", "veth-blue", blue.Handle, new VethOptions { Up = true, PeerUp = true, Master = "br0" }, blue.Rtnl);
        red.Rtnl.AddAddress("veth-red", IPAddress.Parse("192.168.15.1"), 24);
        blue.Rtnl.AddAddress("veth-blue", IPAddress.Parse("192.168.15.2"), 24);

        // Both ends are ports of br0, read back both ways.
        Assert.Equal(["veth-blue-br", "veth-red-br"], host.Rtnl.GetLinks("veth").Where(l => l.Master == "br0").Select(l => l.Name).Order().ToArray());
        Assert.Equal("br0", Oracle.Link(host.Name!, "veth-red-br")!.Value.Str("master"));

        // They reach each other through the bridge, with no address on it.
        Assert.Empty(host.Rtnl.GetAddresses("br0", AddressFamily.InterNetwork));
        Assert.True(Ping(red, "192.168.15.2"));
        Assert.True(Ping(blue, "192.168.15.1"));

        // The host cannot reach them until br0 has an address in their subnet.
        Assert.False(Ping(host, "192.168.15.1", 1));
        host.Rtnl.AddAddress("br0", IPAddress.Parse("192.168.15.5"), 24);
        Assert.True(Ping(host, "192.168.15.1"));

        // An outside namespace behind the host, on its own link. Routing only: outside gets a route back.
        host.Rtnl.CreateVeth("veth-out", "eth0", outside.Handle, new VethOptions { Up = true, PeerUp = true });
        host.Rtnl.AddAddress("veth-out", IPAddress.Parse("10.99.0.1"), 24);
        outside.Rtnl.AddAddress("eth0", IPAddress.Parse("10.99.0.2"), 24);
        outside.Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse("192.168.15.0/24"), IPAddress.Parse("10.99.0.1")));

        // Red has no route out ("Network is unreachable") until its default route via the bridge's address.
        Assert.False(Ping(red, "10.99.0.2", 1));
        red.Rtnl.AddDefaultRoute(IPAddress.Parse("192.168.15.5"));
        var def = Assert.Single(red.Rtnl.GetRoutes(AddressFamily.InterNetwork), r => r.IsDefault);
        Assert.Equal(IPAddress.Parse("192.168.15.5"), def.Gateway);
        Assert.Equal("192.168.15.5", Assert.Single(Oracle.Routes(red.Name!, "default")).Str("gateway"));

        // With forwarding off in the host the packets stop there; on, they cross.
        IpForwarding.Set(host, AddressFamily.InterNetwork, false);
        Assert.False(Ping(red, "10.99.0.2", 1));
        IpForwarding.Set(host, AddressFamily.InterNetwork, true);
        Assert.True(IpForwarding.IsEnabled(host, AddressFamily.InterNetwork));
        Assert.True(Ping(red, "10.99.0.2"));
    }

    [Fact]
    public void S002_TwoVethsWithoutBridge_SecondIsUnreachable_FixedByABridge_NeighboursAndFdb()
    {
        var host = _nss.Create("host");
        var ns0 = _nss.Create("netns0");
        var ns1 = _nss.Create("netns1");

        host.Rtnl.CreateVeth("veth0", "ceth0", ns0.Handle, new VethOptions { Up = true, PeerUp = true });
        host.Rtnl.AddAddress("veth0", IPAddress.Parse("172.18.0.11"), 16);
        ns0.Rtnl.AddAddress("ceth0", IPAddress.Parse("172.18.0.10"), 16);
        Assert.True(Ping(host, "172.18.0.10"));
        Assert.True(Ping(ns0, "172.18.0.11"));

        host.Rtnl.CreateVeth("veth1", "ceth1", ns1.Handle, new VethOptions { Up = true, PeerUp = true });
        host.Rtnl.AddAddress("veth1", IPAddress.Parse("172.18.0.21"), 16);
        ns1.Rtnl.AddAddress("ceth1", IPAddress.Parse("172.18.0.20"), 16);
        // Two connected routes for 172.18.0.0/16; the first (veth0) wins, so netns1 is unreachable.
        Assert.Equal(2, host.Rtnl.GetRoutes(AddressFamily.InterNetwork).Count(r => r.Destination.ToString() == "172.18.0.0/16"));
        Assert.False(Ping(host, "172.18.0.20", 1));

        // The fix: no addresses on the host ends, both on br0.
        host.Rtnl.RemoveAddress("veth0", IPAddress.Parse("172.18.0.11"), 16);
        host.Rtnl.RemoveAddress("veth1", IPAddress.Parse("172.18.0.21"), 16);
        host.Rtnl.CreateBridge("br0", new BridgeOptions { Up = true });
        host.Rtnl.SetMaster("veth0", "br0");
        host.Rtnl.SetMaster("veth1", "br0");
        Assert.True(Ping(ns0, "172.18.0.20"));
        Assert.True(Ping(ns1, "172.18.0.10"));

        // ip neigh shows the peers: netns0 learned netns1's MAC and vice versa.
        var ceth0 = ns0.Rtnl.GetLink("ceth0");
        var ceth1 = ns1.Rtnl.GetLink("ceth1");
        var n0 = Assert.Single(ns0.Rtnl.GetNeighbors(AddressFamily.InterNetwork, "ceth0"), n => n.Address.Equals(IPAddress.Parse("172.18.0.20")));
        Assert.Equal(ceth1.MacAddress, n0.MacAddress);
        Assert.Equal("ceth0", n0.InterfaceName);
        Assert.Contains(n0.State, new[] { "REACHABLE", "STALE", "DELAY", "PROBE" });
        var o0 = Assert.Single(Cli.IpJson(ns0.Name!, "neigh", "show").EnumerateArray(), n => n.Str("dst") == "172.18.0.20");
        Assert.Equal(ceth1.MacAddress, o0.Str("lladdr"));
        Assert.Equal(ceth0.MacAddress, Assert.Single(ns1.Rtnl.GetNeighbors(AddressFamily.InterNetwork), n => n.Address.Equals(IPAddress.Parse("172.18.0.10"))).MacAddress);

        // The bridge learned each MAC on the port it came from.
        var fdb = host.Rtnl.GetBridgeFdb("br0");
        var l0 = Assert.Single(fdb, e => e.MacAddress == ceth0.MacAddress);
        Assert.Equal("veth0", l0.InterfaceName);
        Assert.Equal("br0", l0.Master);
        Assert.False(l0.IsLocal);
        var l1 = Assert.Single(fdb, e => e.MacAddress == ceth1.MacAddress);
        Assert.Equal("veth1", l1.InterfaceName);
        Assert.False(l1.Permanent);
        // The host ends' own MACs are local (permanent) entries.
        Assert.True(Assert.Single(fdb, e => e.MacAddress == host.Rtnl.GetLink("veth0").MacAddress && e.Master == "br0").IsLocal);
        var oracle = Oracle.Fdb(host.Name!, "br0");
        Assert.Equal("veth0", Assert.Single(oracle, e => e.Str("mac") == ceth0.MacAddress).Str("ifname"));
        Assert.Equal("veth1", Assert.Single(oracle, e => e.Str("mac") == ceth1.MacAddress).Str("ifname"));
        Assert.Equal(oracle.Length, fdb.Count);
        Assert.Equal(
            oracle.Select(e => $"{e.Str("mac")} {e.Str("ifname")} {e.Str("state") == "permanent"}").Order(),
            fdb.Select(e => $"{e.MacAddress} {e.InterfaceName} {e.Permanent}").Order());

        // The host reaches them once br0 has 172.18.0.1/16.
        Assert.False(Ping(host, "172.18.0.10", 1));
        host.Rtnl.AddAddress("br0", IPAddress.Parse("172.18.0.1"), 16);
        Assert.True(Ping(host, "172.18.0.10"));
        Assert.True(Ping(host, "172.18.0.20"));
    }

    [Fact]
    public void S001_DockerBridge_PeerIndexesPointAtEachOther_AndContainersTalk()
    {
        var host = _nss.Create("host");
        var c2 = _nss.Create("c2");
        var c3 = _nss.Create("c3");
        host.Rtnl.CreateBridge("docker0", new BridgeOptions { Up = true });
        host.Rtnl.AddAddress("docker0", IPAddress.Parse("172.17.0.1"), 16);
        var v2 = Attach(host, c2, "vethc2", "docker0", "172.17.0.2/16", "02:42:ac:11:00:02", "172.17.0.1");
        var v3 = Attach(host, c3, "vethc3", "docker0", "172.17.0.3/16", "02:42:ac:11:00:03", "172.17.0.1");

        // "55: vethf0a8bcb@if54": the host end's peer index is eth0's index inside, and eth0's peer is the host end.
        var eth0 = c2.Rtnl.GetLink("eth0");
        Assert.Equal(eth0.Index, v2.PeerIndex);
        Assert.Equal(v2.Index, eth0.PeerIndex);
        Assert.Equal(c3.Rtnl.GetLink("eth0").Index, v3.PeerIndex);
        // Each side names the other's namespace by an id it can match.
        Assert.NotNull(v2.PeerNetNsId);
        Assert.Equal(host.Rtnl.GetNetNsId(c2.Handle), v2.PeerNetNsId);
        Assert.Equal(c2.Rtnl.GetNetNsId(host.Handle), eth0.PeerNetNsId);
        Assert.NotEqual(host.Rtnl.GetNetNsId(c3.Handle), v2.PeerNetNsId);
        var o = Oracle.Link(host.Name!, "vethc2")!.Value;
        Assert.Equal(eth0.Index, o.Int("link_index"));
        Assert.Equal(v2.PeerNetNsId, o.Int("link_netnsid"));
        Assert.Equal(v2.Index, Oracle.Link(c2.Name!, "eth0")!.Value.Int("link_index"));

        // Container 2 reaches container 3 and the host; the ARP reply carries 02:42:ac:11:00:03.
        Assert.True(Ping(c2, "172.17.0.3"));
        Assert.True(Ping(c2, "172.17.0.1"));
        Assert.Equal("02:42:ac:11:00:03", Assert.Single(c2.Rtnl.GetNeighbors(AddressFamily.InterNetwork), n => n.Address.ToString() == "172.17.0.3").MacAddress);
        Assert.Equal("vethc3", Assert.Single(host.Rtnl.GetBridgeFdb("docker0"), e => e.MacAddress == "02:42:ac:11:00:03").InterfaceName);

        // Counters moved: the library and ip agree that packets crossed the host end.
        var stats = host.Rtnl.GetLink("vethc2").Statistics!;
        Assert.True(stats.RxPackets > 0 && stats.TxPackets > 0);
        var os = Cli.Run("ip", ["-n", host.Name!, "-j", "-s", "link", "show", "dev", "vethc2"], TimeSpan.FromSeconds(30)).Ok();
        var rx = System.Text.Json.JsonDocument.Parse(os.Stdout).RootElement[0].GetProperty("stats64").GetProperty("rx").GetProperty("packets").GetUInt64();
        Assert.True(rx >= stats.RxPackets);
    }
}
