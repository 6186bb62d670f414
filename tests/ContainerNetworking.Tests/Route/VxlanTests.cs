using System.Net;
using ContainerNetworking.Route;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.RouteLayer;

/// <summary>
/// VXLAN devices, permanent neighbours, FDB entries with a remote VTEP and on-link routes, as flannel's vxlan backend
/// programs them: two "nodes" (namespaces joined by a veth underlay), each with a VXLAN device created inside it, reach
/// each other's overlay address through the tunnel; everything read back through <c>ip -j -d</c> and <c>bridge -j</c>.
/// </summary>
public sealed class VxlanTests : IDisposable
{
    private readonly TestNamespaces _nss = new();
    public void Dispose() => _nss.Dispose();

    [Fact]
    public void TwoNodes_VxlanWithNeighbourFdbAndOnlinkRoute_PingThroughTheTunnel_ThenEntriesRemoved()
    {
        var a = _nss.Create("vxa");
        var b = _nss.Create("vxb");
        a.Rtnl.CreateVeth("under0", "under0", b.Handle, new VethOptions { Up = true, PeerUp = true }, b.Rtnl);
        a.Rtnl.AddAddress("under0", IPAddress.Parse("192.0.2.1"), 24);
        b.Rtnl.AddAddress("under0", IPAddress.Parse("192.0.2.2"), 24);

        LinkInfo MakeVtep(ContainerNetworking.Namespaces.NetNamespace ns, string local, string overlay) {
            var l = ns.Rtnl.CreateVxlan("flannel.1", new VxlanOptions { Vni = 7, Port = 8472, Local = IPAddress.Parse(local), Underlay = "under0", Mtu = 1450, Up = true });
            ns.Rtnl.AddAddress("flannel.1", IPAddress.Parse(overlay), 32);
            return l;
        }
        var va = MakeVtep(a, "192.0.2.1", "10.244.1.0");
        var vb = MakeVtep(b, "192.0.2.2", "10.244.2.0");
        Assert.Equal("vxlan", va.Kind);
        Assert.Equal(1450, va.Mtu);

        var info = a.Rtnl.GetVxlan("flannel.1")!;
        Assert.Equal(7, info.Vni);
        Assert.Equal(8472, info.Port);
        Assert.False(info.Learning);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), info.Local);
        Assert.Equal(a.Rtnl.GetLink("under0").Index, info.UnderlayIndex);
        Assert.Null(a.Rtnl.GetVxlan("under0"));
        var o = Oracle.Link(a.Name!, "flannel.1")!.Value.GetProperty("linkinfo").GetProperty("info_data");
        Assert.Equal(7, o.Int("id"));
        Assert.Equal(8472, o.Int("port"));
        Assert.Equal("192.0.2.1", o.Str("local"));
        Assert.False(o.GetProperty("learning").GetBoolean());

        void Peer(ContainerNetworking.Namespaces.NetNamespace ns, LinkInfo remote, string remoteOverlay, string remoteSubnet, string remotePublic)
        {
            ns.Rtnl.AddNeighbor("flannel.1", IPAddress.Parse(remoteOverlay), remote.MacAddress!);
            ns.Rtnl.AddFdb("flannel.1", remote.MacAddress!, IPAddress.Parse(remotePublic));
            ns.Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse(remoteSubnet), IPAddress.Parse(remoteOverlay), "flannel.1") { OnLink = true });
        }
        Peer(a, vb, "10.244.2.0", "10.244.2.0/24", "192.0.2.2");
        Peer(b, va, "10.244.1.0", "10.244.1.0/24", "192.0.2.1");

        var route = a.Rtnl.GetRoutes().Single(r => r.Destination == IPNetwork.Parse("10.244.2.0/24"));
        Assert.True(route.OnLink);
        Assert.Equal("flannel.1", route.OutputInterface);
        Assert.Contains("onlink", Oracle.Routes(a.Name!, "10.244.2.0/24")[0].GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        var neigh = a.Rtnl.GetNeighbors(interfaceName: "flannel.1").Single(n => n.Address.Equals(IPAddress.Parse("10.244.2.0")));
        Assert.Equal(vb.MacAddress, neigh.MacAddress);
        Assert.Equal("PERMANENT", neigh.State);
        var fdb = a.Rtnl.GetBridgeFdb().Single(e => e.MacAddress == vb.MacAddress);
        Assert.Equal(IPAddress.Parse("192.0.2.2"), fdb.Destination);
        Assert.True(fdb.Permanent);
        var of = Cli.Run("bridge", "-n", a.Name!, "-j", "fdb", "show", "dev", "flannel.1").Ok().Stdout;
        Assert.Contains($"\"mac\":\"{vb.MacAddress}\"", of.Replace(" ", ""));
        Assert.Contains("\"dst\":\"192.0.2.2\"", of.Replace(" ", ""));

        // The overlay works: a's VTEP address reaches b's through the tunnel (source 10.244.1.0 is a's only route to b).
        Assert.True(Cli.Ping(a.Name!, "10.244.2.0"));
        var rx = b.Rtnl.GetLink("flannel.1").Statistics!.RxPackets;
        Assert.True(rx >= 1, $"b's VTEP received {rx} packets");

        // Exactly these entries go again; the second removal names what is missing.
        a.Rtnl.RemoveRoute(new RouteSpec(IPNetwork.Parse("10.244.2.0/24"), IPAddress.Parse("10.244.2.0"), "flannel.1"));
        a.Rtnl.RemoveNeighbor("flannel.1", IPAddress.Parse("10.244.2.0"));
        a.Rtnl.RemoveFdb("flannel.1", vb.MacAddress!, IPAddress.Parse("192.0.2.2"));
        Assert.Empty(Oracle.Routes(a.Name!, "10.244.2.0/24"));
        Assert.DoesNotContain(a.Rtnl.GetNeighbors(interfaceName: "flannel.1"), n => n.Address.Equals(IPAddress.Parse("10.244.2.0")));
        Assert.DoesNotContain(a.Rtnl.GetBridgeFdb(), e => e.MacAddress == vb.MacAddress);
        Assert.Equal("NeighborNotFound", Assert.Throws<ContainerNetworkingException>(() => a.Rtnl.RemoveNeighbor("flannel.1", IPAddress.Parse("10.244.2.0"))).ErrorId);
        Assert.Equal("FdbEntryNotFound", Assert.Throws<ContainerNetworkingException>(() => a.Rtnl.RemoveFdb("flannel.1", vb.MacAddress!, IPAddress.Parse("192.0.2.2"))).ErrorId);
        Assert.False(Cli.Ping(a.Name!, "10.244.2.0", waitSeconds: 1));
    }

    [Fact]
    public void BadInput_IsRefusedBeforeAnythingIsSent()
    {
        var a = _nss.Create("vxbad");
        Assert.Equal("InvalidVni", Assert.Throws<ContainerNetworkingException>(() => a.Rtnl.CreateVxlan("vx0", new VxlanOptions { Vni = 0 })).ErrorId);
        Assert.Equal("InvalidPort", Assert.Throws<ContainerNetworkingException>(() => a.Rtnl.CreateVxlan("vx0", new VxlanOptions { Port = 70000 })).ErrorId);
        Assert.Equal("LinkNotFound", Assert.Throws<ContainerNetworkingException>(() => a.Rtnl.CreateVxlan("vx0", new VxlanOptions { Underlay = "nope0" })).ErrorId);
        Assert.Null(a.Rtnl.FindLink("vx0"));
        Assert.Throws<ContainerNetworkingException>(() => a.Rtnl.AddNeighbor("lo", IPAddress.Parse("10.0.0.1"), "not-a-mac"));
        Assert.Equal("LinkNotFound", Assert.Throws<ContainerNetworkingException>(() => a.Rtnl.AddFdb("nope0", "02:00:00:00:00:01")).ErrorId);
    }
}
