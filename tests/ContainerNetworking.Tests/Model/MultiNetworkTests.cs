using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>One container on several networks (docker network connect): ethN per network, one default route, either side leaves.</summary>
public sealed class MultiNetworkTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    private string DefaultVia(string ns, bool v6 = false)
    {
        var routes = Cli.IpJson(ns, v6 ? "-6" : "-4", "route", "show", "default");
        Assert.Equal(1, routes.GetArrayLength());
        return routes[0].GetProperty("gateway").GetString() + " dev " + routes[0].GetProperty("dev").GetString();
    }

    private void Networks()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "front", Subnet = Net("172.30.0.0/24"), SubnetV6 = Net("fd30::/64") });
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "back", Subnet = Net("172.31.0.0/24"), SubnetV6 = Net("fd31::/64") });
    }

    [Fact]
    public void SecondNetwork_GetsEth1_KeepsOneDefaultRoute_AndEitherSideLeaves()
    {
        Outside.Create(_f);
        Networks();
        var web = _f.Run("front", "web");
        var other = _f.Run("front", "f2");
        var db = _f.Run("back", "db");
        var onBack = _f.Manager.Connect(new EndpointSpec { Network = "back", Namespace = web.Namespace, Publish = ["9100:80"] });

        Assert.Equal("eth1", onBack.InterfaceName);
        Assert.Equal(web.Container, onBack.Container);
        Assert.Equal("172.31.0.3", Cli.IpJson(web.Namespace!, "-4", "addr", "show", "eth1")[0].GetProperty("addr_info")[0].GetProperty("local").GetString());
        Assert.Equal("172.30.0.1 dev eth0", DefaultVia(web.Namespace!));
        Assert.Equal("fd30::1 dev eth0", DefaultVia(web.Namespace!, v6: true));
        Assert.Null(onBack.Gateway);
        Assert.Equal(2, _f.Manager.GetEndpoints().Count(e => e.Container == web.Container));

        Assert.True(Cli.Ping(web.Namespace!, "172.30.0.3"), "web -> f2 on front");
        Assert.True(Cli.Ping(web.Namespace!, "172.31.0.2"), "web -> db on back");
        Assert.True(Cli.Ping(db.Namespace!, "172.31.0.3"), "db -> web on back");
        Assert.False(Cli.Ping(db.Namespace!, "172.30.0.3"), "db -> f2: the networks stay isolated");
        // The port published on the second network answers through the host.
        using (Traffic.Listen(web.Namespace!, 80, "web"))
            Assert.StartsWith("web ", Traffic.Fetch(_f.HostName, Outside.HostAddress, 9100));

        // The network that created the namespace and holds the default route goes: the container stays on back.
        _f.Manager.Disconnect(web.Container, "front");
        Assert.True(NetNamespace.Exists(web.Namespace!));
        Assert.Null(_f.Host.Rtnl.FindLink(web.HostInterface!));
        Assert.DoesNotContain(Cli.IpJson(web.Namespace!, "link", "show").EnumerateArray(), l => l.GetProperty("ifname").GetString() == "eth0");
        Assert.Equal("172.31.0.1 dev eth1", DefaultVia(web.Namespace!));
        Assert.Equal("fd31::1 dev eth1", DefaultVia(web.Namespace!, v6: true));
        var rec = _f.Manager.GetEndpoint(web.Container, "back");
        Assert.True(rec.CreatedNamespace);
        Assert.Equal(Ip("172.31.0.1"), new ContainerNetworkManager(_f.Host, _f.StateDir).GetEndpoint(web.Container, "back").Gateway);
        Assert.True(Cli.Ping(web.Namespace!, "172.31.0.2"), "web -> db after leaving front");
        Assert.True(Cli.Ping(other.Namespace!, "172.30.0.1"), "f2 still on front");

        // The last network goes with the namespace.
        _f.Manager.Disconnect(web.Container, "back");
        Assert.False(NetNamespace.Exists(web.Namespace!));
        Assert.DoesNotContain(_f.Manager.GetEndpoints(), e => e.Container == web.Container);
    }

    [Fact]
    public void Repair_OfABrokenEndpoint_WhoseContainerStaysOnAnotherNetwork_HandsTheNamespaceOver()
    {
        Networks();
        var web = _f.Run("front", "web");
        var db = _f.Run("back", "db");
        _f.Manager.Connect(new EndpointSpec { Network = "back", Namespace = web.Namespace });
        // The veth of the network that created the namespace is deleted behind our back.
        Cli.Run("ip", "-n", _f.HostName, "link", "del", web.HostInterface!).Ok();
        var f = Assert.Single(_f.Manager.Repair());
        Assert.Equal("EndpointLinkGone", f.Kind);
        Assert.True(NetNamespace.Exists(web.Namespace!));
        Assert.True(new ContainerNetworkManager(_f.Host, _f.StateDir).GetEndpoint(web.Container, "back").CreatedNamespace);
        Assert.True(Cli.Ping(web.Namespace!, "172.31.0.2"), "web -> db on back after the repair");
        Assert.Empty(_f.Manager.Repair());
        // The namespace now goes with its last network.
        _f.Manager.Disconnect(web.Container, "back");
        Assert.False(NetNamespace.Exists(web.Namespace!));
        Assert.True(NetNamespace.Exists(db.Namespace!));
    }

    [Fact]
    public void GatewayPriority_TakesTheDefaultRoute_AndItComesBackOnDisconnect()
    {
        Networks();
        var web = _f.Run("front", "web");
        var onBack = _f.Manager.Connect(new EndpointSpec { Network = "back", Namespace = web.Namespace, GatewayPriority = 10 });
        Assert.Equal("172.31.0.1 dev eth1", DefaultVia(web.Namespace!));
        Assert.Equal(Ip("172.31.0.1"), onBack.Gateway);
        Assert.Null(_f.Manager.GetEndpoint(web.Container, "front").Gateway);

        // A third network of lower priority changes nothing.
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "third", Subnet = Net("172.29.0.0/24") });
        var third = _f.Manager.Connect(new EndpointSpec { Network = "third", Namespace = web.Namespace, GatewayPriority = 5 });
        Assert.Equal("eth2", third.InterfaceName);
        Assert.Equal("172.31.0.1 dev eth1", DefaultVia(web.Namespace!));

        // The holder leaves: the highest priority left (third) takes it over.
        _f.Manager.Disconnect(web.Container, "back");
        Assert.Equal("172.29.0.1 dev eth2", DefaultVia(web.Namespace!));
        _f.Manager.Disconnect(web.Container, "third");
        Assert.Equal("172.30.0.1 dev eth0", DefaultVia(web.Namespace!));
        Assert.Equal("fd30::1 dev eth0", DefaultVia(web.Namespace!, v6: true));
        Assert.Equal(Ip("172.30.0.1"), _f.Manager.GetEndpoint(web.Container, "front").Gateway);
    }
}
