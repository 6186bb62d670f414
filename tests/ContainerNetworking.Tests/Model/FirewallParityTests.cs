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
