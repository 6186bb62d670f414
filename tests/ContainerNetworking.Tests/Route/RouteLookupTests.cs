using System.Net;
using ContainerNetworking.Netlink;
using ContainerNetworking.Route;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.RouteLayer;

public sealed class RouteLookupTests : IDisposable
{
    private readonly TestNamespaces _nss = new();
    public void Dispose() => _nss.Dispose();

    /// <summary><c>ip route get</c>: the output interface and gateway the kernel would use, read through the library and through ip.</summary>
    [Fact]
    public void GetRouteTo_AgreesWithIpRouteGet()
    {
        var host = _nss.Create("host");
        host.Rtnl.CreateBridge("br0", new BridgeOptions { Up = true });
        host.Rtnl.AddAddress("br0", IPAddress.Parse("192.168.0.1"), 24);
        host.Rtnl.CreateVeth("up0", "up1", null, new VethOptions { Up = true, PeerUp = true });
        host.Rtnl.AddAddress("up0", IPAddress.Parse("198.18.0.1"), 24);
        host.Rtnl.AddDefaultRoute(IPAddress.Parse("198.18.0.2"));

        var onBridge = host.Rtnl.GetRouteTo(IPAddress.Parse("192.168.0.2"));
        var viaGateway = host.Rtnl.GetRouteTo(IPAddress.Parse("10.9.9.9"));

        var ipBridge = Cli.IpJson(host.Name!, "route", "get", "192.168.0.2")[0];
        var ipGateway = Cli.IpJson(host.Name!, "route", "get", "10.9.9.9")[0];
        Assert.Equal(ipBridge.GetProperty("dev").GetString(), host.Rtnl.GetLink(onBridge.OutputInterfaceIndex!.Value).Name);
        Assert.Equal("br0", host.Rtnl.GetLink(onBridge.OutputInterfaceIndex!.Value).Name);
        Assert.Null(onBridge.Gateway);
        Assert.Equal(ipGateway.GetProperty("gateway").GetString(), viaGateway.Gateway?.ToString());
        Assert.Equal("up0", host.Rtnl.GetLink(viaGateway.OutputInterfaceIndex!.Value).Name);
    }

    [Fact]
    public void GetRouteTo_WithoutARoute_KeepsTheKernelsErrno()
    {
        var host = _nss.Create("host");
        var e = Assert.Throws<NetlinkException>(() => host.Rtnl.GetRouteTo(IPAddress.Parse("10.9.9.9")));
        Assert.Equal("ENETUNREACH", e.ErrorName);
        Assert.StartsWith("RTM_GETROUTE:", e.Message);
    }

    /// <summary><c>ip route del PREFIX</c>: the destination alone removes the route; a second time there is none.</summary>
    [Fact]
    public void RemoveRoute_ByDestinationAlone_ThenRouteNotFound_WithTheKernelsErrno()
    {
        var host = _nss.Create("host");
        host.Rtnl.CreateVeth("up0", "up1", null, new VethOptions { Up = true, PeerUp = true });
        host.Rtnl.AddAddress("up0", IPAddress.Parse("198.18.0.1"), 24);
        host.Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse("10.9.0.0/16"), IPAddress.Parse("198.18.0.2"), null));
        Assert.Contains(Cli.IpJson(host.Name!, "route", "show").EnumerateArray(), r => r.GetProperty("dst").GetString() == "10.9.0.0/16");

        host.Rtnl.RemoveRoute(new RouteSpec { Destination = IPNetwork.Parse("10.9.0.0/16") });

        Assert.DoesNotContain(Cli.IpJson(host.Name!, "route", "show").EnumerateArray(), r => r.GetProperty("dst").GetString() == "10.9.0.0/16");
        var e = Assert.Throws<ContainerNetworkingException>(() => host.Rtnl.RemoveRoute(new RouteSpec { Destination = IPNetwork.Parse("10.9.0.0/16") }));
        Assert.Equal("RouteNotFound", e.ErrorId);
        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.Equal("ESRCH", Assert.IsType<NetlinkException>(e.InnerException).ErrorName);
        // Adding still needs a gateway or an interface.
        Assert.Equal("InvalidRoute", Assert.Throws<ContainerNetworkingException>(() => host.Rtnl.AddRoute(new RouteSpec { Destination = IPNetwork.Parse("10.9.0.0/16") })).ErrorId);
    }
}
