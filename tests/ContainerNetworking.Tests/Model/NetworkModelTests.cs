using System.Net;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

public sealed class NetworkModelTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    [Fact]
    public void CreateNetwork_BuildsTheBridge_AndPersistsTheRecord()
    {
        var n = _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16"), Mtu = 1400 });
        Assert.Equal(RecordState.Ready, n.State);
        var link = Cli.IpJson(_f.HostName, "link", "show", "docker0")[0];
        Assert.Equal("bridge", link.GetProperty("linkinfo").GetProperty("info_kind").GetString());
        Assert.Equal(1400, link.GetProperty("mtu").GetInt32());
        Assert.Contains("UP", link.GetProperty("flags").ToString());
        var addr = Cli.IpJson(_f.HostName, "addr", "show", "docker0")[0].GetProperty("addr_info")[0];
        Assert.Equal("172.17.0.1", addr.GetProperty("local").GetString());
        Assert.Equal(16, addr.GetProperty("prefixlen").GetInt32());
        Assert.Equal("1", Cli.InNs(_f.HostName, "cat", "/proc/sys/net/ipv4/ip_forward").Ok().Stdout.Trim());
        // A new manager (another process's view) sees the same network.
        var again = new ContainerNetworkManager(_f.Host, _f.StateDir).GetNetwork("bridge");
        Assert.Equal(n.Id, again.Id);
        Assert.Equal(Net("172.17.0.0/16"), again.Subnet);
        Assert.Equal(["host", "none", "bridge"], _f.Manager.GetNetworks().Select(x => x.Name));
    }

    [Fact]
    public void CreateNetwork_WithoutSubnet_PicksAFreeDefaultPool_AvoidingHostRoutesAndNetworks()
    {
        // The host already uses 172.17.0.0/16 (an address) and 172.18.0.0/16 (a route).
        _f.Host.Rtnl.CreateVeth("uplink0", "uplink1", null, new global::ContainerNetworking.Route.VethOptions { Up = true, PeerUp = true });
        _f.Host.Rtnl.AddAddress("uplink0", Ip("172.17.5.5"), 24);
        Cli.Run("ip", "-n", _f.HostName, "route", "add", "172.18.0.0/16", "dev", "uplink0").Ok();
        var a = _f.Manager.CreateNetwork(new NetworkSpec { Name = "a" });
        var b = _f.Manager.CreateNetwork(new NetworkSpec { Name = "b" });
        Assert.Equal(Net("172.19.0.0/16"), a.Subnet);
        Assert.Equal(Ip("172.19.0.1"), a.Gateway);
        Assert.Equal(Net("172.20.0.0/16"), b.Subnet);
        Assert.Equal("br-" + a.Id[..12], a.BridgeName);
        Assert.NotNull(_f.Host.Rtnl.FindLink(a.BridgeName!));
    }

    [Fact]
    public void S001_TwoContainersOnDocker0_ReachEachOtherAndTheHost()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var c2 = _f.Run("bridge", "c2");
        var c3 = _f.Run("bridge", "c3");
        Assert.Equal(Ip("172.17.0.2"), c2.IPv4Address);
        Assert.Equal(Ip("172.17.0.3"), c3.IPv4Address);
        Assert.Equal("02:42:ac:11:00:03", c3.MacAddress);
        Assert.Matches("^veth[0-9a-f]{7}$", c2.HostInterface);
        Assert.StartsWith(c2.HostInterface![4..], c2.Id);

        // eth0 inside, with the Docker MAC, the address and the default route; the peer on docker0.
        var eth0 = Cli.IpJson(c3.Namespace!, "addr", "show", "eth0")[0];
        Assert.Equal("02:42:ac:11:00:03", eth0.GetProperty("address").GetString());
        Assert.Equal("172.17.0.3", eth0.GetProperty("addr_info")[0].GetProperty("local").GetString());
        var route = Cli.IpJson(c3.Namespace!, "route", "show", "default")[0];
        Assert.Equal("172.17.0.1", route.GetProperty("gateway").GetString());
        var peer = Cli.IpJson(_f.HostName, "link", "show", c3.HostInterface!)[0];
        Assert.Equal("docker0", peer.GetProperty("master").GetString());
        Assert.Contains("UP", Cli.IpJson(c3.Namespace!, "link", "show", "lo")[0].GetProperty("flags").ToString());

        Assert.True(Cli.Ping(c2.Namespace!, "172.17.0.3"), "container 2 -> container 3");
        Assert.True(Cli.Ping(c3.Namespace!, "172.17.0.1"), "container -> host (gateway)");
        Assert.True(Cli.Ping(_f.HostName, "172.17.0.2"), "host -> container");
        // The bridge learned where 02:42:ac:11:00:03 lives (the FDB).
        var fdb = Cli.Run("bridge", "-n", _f.HostName, "fdb", "show", "br", "docker0").Ok().Stdout;
        Assert.Contains("02:42:ac:11:00:03", fdb);

        // Disconnect removes what Connect made: the veth, the namespace, the lease, the record.
        _f.Manager.Disconnect(c3.Container, "bridge");
        // The namespace went, and the kernel takes the veth with it asynchronously (cleanup_net): it must go soon.
        var gone = System.Diagnostics.Stopwatch.StartNew();
        while (_f.Host.Rtnl.FindLink(c3.HostInterface!) is not null && gone.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(20);
        Assert.Null(_f.Host.Rtnl.FindLink(c3.HostInterface!));
        Assert.False(NetNamespace.Exists(c3.Namespace!));
        Assert.DoesNotContain(Ip("172.17.0.3"), _f.Manager.State.Leases("bridge").Keys);
        Assert.Single(_f.Manager.GetEndpoints("bridge"));
        Assert.True(Cli.Ping(c2.Namespace!, "172.17.0.1"));
    }
}
