using ContainerNetworking.Model;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// The networks' firewall parity with Docker 28 through the model: no direct access from a neighbour that routes the
/// subnet via the host (unless the network is routed), no ports on an internal network, and a bridge whose IPv6
/// addresses work at once (no duplicate address detection).
/// </summary>
public sealed class FirewallParityTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    [Fact]
    public void Network_DropsDirectAccessFromOutside_PublishedPortsAnswer_RoutedNetworkLetsItIn()
    {
        var outside = Outside.Create(_f);
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var routed = _f.Manager.CreateNetwork(new NetworkSpec { Name = "routed", BridgeName = "cn-routed", Subnet = Net("172.18.0.0/16"), Routed = true });
        Assert.True(routed.Routed);
        Assert.True(_f.Manager.GetNetwork("routed").Routed, "the record keeps it");
        var web = _f.Run("bridge", "web", "9001:80", "127.0.0.1:9002:81");
        var r = _f.Run("routed", "r");
        foreach (var s in new[] { "172.17.0.0/16", "172.18.0.0/16" })
            Cli.InNs(outside, "ip", "route", "add", s, "via", Outside.HostAddress).Ok();
        using var l80 = Traffic.Listen(web.Namespace!, 80, "web");
        using var l81 = Traffic.Listen(web.Namespace!, 81, "web81");
        using var l82 = Traffic.Listen(web.Namespace!, 82, "web82");
        using var lr = Traffic.Listen(r.Namespace!, 80, "r");

        Assert.Equal($"web {Outside.Address}", Traffic.Fetch(outside, Outside.HostAddress, 9001));
        var ip = web.IPv4Address!.ToString();
        Assert.Null(Traffic.Fetch(outside, ip, 80));
        Assert.Null(Traffic.Fetch(outside, ip, 81));
        Assert.Null(Traffic.Fetch(outside, ip, 82));
        Assert.Equal($"r {Outside.Address}", Traffic.Fetch(outside, r.IPv4Address!.ToString(), 80));
        // both networks' rules are as their records want them: nothing for Repair to do
        Assert.Empty(_f.Manager.Repair());
    }

    [Fact]
    public void Publish_OnAnInternalNetwork_IsRefusedClearly_AndChangesNothing()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "inside", BridgeName = "cn-inside", Subnet = Net("172.19.0.0/16"), Internal = true });
        var before = _f.Snapshot();
        var e = Assert.Throws<ContainerNetworkingException>(() => _f.Run("inside", "pub", "8080:80"));
        Assert.Equal("PortsNotSupported", e.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("internal network 'inside'", e.Message);
        Assert.Contains("Remove -Publish", e.Message);
        Assert.Equal(before, _f.Snapshot());
        // without ports it connects
        Assert.NotNull(_f.Run("inside", "nopub").IPv4Address);
    }

    /// <summary>A dual-stack listener (socat, IPv4 and IPv6 on one socket) answering with a word and the peer's address.</summary>
    private static Traffic.Listener Listen6(string ns, int port, string reply)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "netns", "exec", ns, "socat", $"TCP6-LISTEN:{port},ipv6only=0,reuseaddr,fork", $"SYSTEM:echo {reply} $SOCAT_PEERADDR" })
            psi.ArgumentList.Add(a);
        var p = System.Diagnostics.Process.Start(psi)!;
        for (var i = 0; i < 100 && !Cli.InNs(ns, "ss", "-Hltn", $"sport = :{port}").Stdout.Contains($":{port}"); i++) Thread.Sleep(20);
        return new Traffic.Listener(p);
    }

    /// <summary>What a <see cref="Listen6"/> listener said: its word and the peer address it saw (socat writes it in full, IPv4 mapped).</summary>
    private static string? Seen(string? answer)
    {
        if (answer is null) return null;
        var parts = answer.Split(' ', 2);
        var a = System.Net.IPAddress.Parse(parts[1].Trim('[', ']'));
        return $"{parts[0]} {(a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a)}";
    }

    [Fact]
    public void Publish_OnADualStackNetwork_ReachesTheContainerOverBothFamilies_EachWildcardItsOwn()
    {
        var outside = Outside.Create(_f);
        _f.Host.Rtnl.AddAddress("uplink0", Ip("fd00:99::1"), 64);
        Cli.InNs(outside, "ip", "-6", "addr", "add", "fd00:99::2/64", "dev", "eth0", "nodad").Ok();
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "ds", BridgeName = "cn-ds", Subnet = Net("172.21.0.0/16"), SubnetV6 = Net("fd00:21::/64") });
        var web = _f.Run("ds", "web6", "8080:80", "[::]:8081:81", "0.0.0.0:8082:82", "[fd00:99::1]:8083:83/tcp");
        var listeners = new[] { 80, 81, 82, 83 }.Select(p => Listen6(web.Namespace!, p, "p" + p)).ToList();
        try
        {
            string? V4(int port) => Seen(Traffic.Fetch(outside, Outside.HostAddress, port));
            string? V6(int port) => Seen(Traffic.Fetch(outside, "fd00:99::1", port));
            // a bare 8080:80 publishes both families; the container sees the client's own address in each
            Assert.Equal($"p80 {Outside.Address}", V4(8080));
            Assert.Equal("p80 fd00:99::2", V6(8080));
            // [::] is IPv6 only, 0.0.0.0 IPv4 only, [fd00:99::1] that address (IPv6) only
            Assert.Null(V4(8081));
            Assert.Equal("p81 fd00:99::2", V6(8081));
            Assert.Equal($"p82 {Outside.Address}", V4(8082));
            Assert.Null(V6(8082));
            Assert.Null(V4(8083));
            Assert.Equal("p83 fd00:99::2", V6(8083));
            // read back: the IPv6 maps point at the container's IPv6 address
            var maps = Cli.InNs(_f.HostName, "nft", "-j", "list", "ruleset").Ok().Stdout;
            Assert.Contains($"\"{web.IPv6Address}\", 80", maps);
            Assert.Contains("\"fd00:99::1\"", maps);
            // Test and Repair see every mapping as the endpoint's own: nothing missing, no orphan
            Assert.Empty(_f.Manager.Repair());
            Assert.DoesNotContain(_f.Manager.Test(web.Container), h => h.Status == HopStatus.Broken);
            // one family's element of a dual-stack port deleted: Test names it, Repair puts back that one alone
            Cli.InNs(_f.HostName, "nft", "delete", "element", "inet", "containernetworking", "ports6", "{ tcp . 8080 }").Ok();
            Assert.Null(V6(8080));
            var hop = Assert.Single(_f.Manager.Test(web.Container), h => h.Hop == "PublishedPorts");
            Assert.Equal(HopStatus.Broken, hop.Status);
            Assert.Contains($"8080:80/tcp -> [{web.IPv6Address}]:80", hop.Detail);
            var fixedOne = Assert.Single(_f.Manager.Repair());
            Assert.Equal(("MissingPortMapping", "Recreated"), (fixedOne.Kind, fixedOne.Action));
            Assert.Equal("p80 fd00:99::2", V6(8080));
            Assert.Equal($"p80 {Outside.Address}", V4(8080));
            Assert.Empty(_f.Manager.Repair());
            // a host address of a family the network lacks is refused, naming the fix
            _f.Manager.CreateNetwork(new NetworkSpec { Name = "four", BridgeName = "cn-four", Subnet = Net("172.22.0.0/16") });
            var before = _f.Snapshot();
            var e = Assert.Throws<ContainerNetworkingException>(() => _f.Run("four", "v6pub", "[::]:9000:80"));
            Assert.Equal("InvalidPortSpec", e.ErrorId);
            Assert.Contains("-IPv6", e.Message);
            Assert.Equal(before, _f.Snapshot());
            // Disconnect takes both families' mappings away
            _f.Manager.Disconnect(web.Container, "ds");
            Assert.Null(V6(8080));
            var after = Cli.InNs(_f.HostName, "nft", "-j", "list", "ruleset").Ok().Stdout;
            Assert.DoesNotContain($"\"{web.IPv6Address}\"", after);
            Assert.DoesNotContain($"\"{web.IPv4Address}\"", after);
        }
        finally
        {
            foreach (var l in listeners) l.Dispose();
        }
    }

    [Fact]
    public void AnIPv6OnlyNetwork_WorksEndToEnd_ContainersHostPublishedPortsAndMasquerade()
    {
        var outside = Outside.Create(_f);
        _f.Host.Rtnl.AddAddress("uplink0", Ip("fd00:99::1"), 64);
        Cli.InNs(outside, "ip", "-6", "addr", "add", "fd00:99::2/64", "dev", "eth0", "nodad").Ok();
        // Bad input first: no family at all, or IPv4 options on an IPv6-only network, creates nothing.
        var before = _f.Snapshot();
        Assert.Equal("InvalidSubnet", Assert.Throws<ContainerNetworkingException>(() => _f.Manager.CreateNetwork(new NetworkSpec { Name = "none6", IPv4 = false })).ErrorId);
        Assert.Equal("InvalidSubnet", Assert.Throws<ContainerNetworkingException>(() =>
            _f.Manager.CreateNetwork(new NetworkSpec { Name = "mixed6", IPv4 = false, Subnet = Net("172.23.0.0/16"), SubnetV6 = Net("fd00:23::/64") })).ErrorId);
        Assert.Equal(before, _f.Snapshot());

        var net = _f.Manager.CreateNetwork(new NetworkSpec { Name = "v6", BridgeName = "cn-v6", SubnetV6 = Net("fd00:31::/64"), IPv4 = false });
        Assert.Null(net.Subnet);
        Assert.Empty(Cli.IpJson(_f.HostName, "-4", "addr", "show", "dev", "cn-v6").EnumerateArray().SelectMany(l => l.GetProperty("addr_info").EnumerateArray()));
        var a = _f.Run("v6", "a6", "8080:80");
        var b = _f.Run("v6", "b6");
        Assert.Null(a.IPv4Address);
        Assert.NotNull(a.IPv6Address);
        Assert.Empty(Cli.IpJson(a.Namespace!, "-4", "addr", "show", "dev", "eth0").EnumerateArray().SelectMany(l => l.GetProperty("addr_info").EnumerateArray()));
        Assert.Equal("AddressOutsideRange", Assert.Throws<ContainerNetworkingException>(() =>
            _f.Manager.Connect(new EndpointSpec { Network = "v6", Namespace = _f.Container("c6"), CreateNamespace = true, IPv4Address = Ip("172.23.0.5") })).ErrorId);

        // ping6 from the host namespace and between the containers (by address and by name)
        Assert.True(Cli.Ping(_f.HostName, a.IPv6Address!.ToString(), count: 1, waitSeconds: 5), "host -> a over IPv6");
        Assert.True(Cli.Ping(b.Namespace!, a.IPv6Address.ToString(), count: 1, waitSeconds: 5), "b -> a over IPv6");
        Assert.True(Cli.Ping(b.Namespace!, a.Container, count: 1, waitSeconds: 5), "b -> a by name");

        using var server = Listen6(a.Namespace!, 80, "p80");
        using var far = Listen6(outside, 7000, "out");
        // -Publish over IPv6: the outside reaches a's port 80 through the host's uplink address, and is seen as itself
        Assert.Equal("p80 fd00:99::2", Seen(Traffic.Fetch(outside, "fd00:99::1", 8080)));
        // masquerade out: a reaches the outside, which sees the host's uplink address
        Assert.Equal("out fd00:99::1", Seen(Traffic.Fetch(a.Namespace!, "fd00:99::2", 7000)));

        Assert.DoesNotContain(_f.Manager.Test(a.Container), h => h.Status == HopStatus.Broken);
        Assert.Empty(_f.Manager.Repair());
        _f.Manager.Disconnect(a.Container, "v6");
        Assert.Null(Traffic.Fetch(outside, "fd00:99::1", 8080));
        Assert.DoesNotContain(a.IPv6Address.ToString(), Cli.InNs(_f.HostName, "nft", "list", "ruleset").Ok().Stdout);
        Assert.False(File.Exists(Path.Combine(_f.StateDir, "networks", "v6", "leases", a.IPv6Address.ToString())));
    }

    [Fact]
    public void Bridge_IPv6Addresses_AreNotTentative_RightAfterCreation()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "six", BridgeName = "cn-six", Subnet = Net("172.20.0.0/16"), SubnetV6 = Net("fd00:20::/64") });
        Assert.Equal("0", _f.Host.ReadSysctl("net.ipv6.conf.cn-six.accept_dad"));
        // a container brings the bridge's carrier up, which makes its link-local address: not tentative either
        var c = _f.Run("six", "c6");
        var addrs = Cli.IpJson(_f.HostName, "-6", "addr", "show", "dev", "cn-six")[0].GetProperty("addr_info").EnumerateArray().ToList();
        Assert.Contains(addrs, a => a.GetProperty("local").GetString() == "fd00:20::1");
        Assert.Contains(addrs, a => a.GetProperty("local").GetString()!.StartsWith("fe80:", StringComparison.Ordinal));
        Assert.All(addrs, a => Assert.False(a.TryGetProperty("tentative", out _), $"{a.GetProperty("local")} is tentative"));
        Assert.True(Cli.Ping(c.Namespace!, "fd00:20::1"));
    }
}
