using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Netlink;
using ContainerNetworking.Route;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Route.RtnlConstants;

namespace ContainerNetworking.Tests.RouteLayer;

/// <summary>Addresses, routes and forwarding, read back through the library and through <c>ip -j</c> / /proc/sys.</summary>
public sealed class AddressRouteTests : IDisposable
{
    private readonly TestNamespaces _nss = new();
    public void Dispose() => _nss.Dispose();

    private NetNamespace WithDummy(string role, out string dev)
    {
        var ns = _nss.Create(role);
        dev = "d0";
        // A veth pair with both ends up has carrier, as a dummy would (the test kernel may lack the dummy driver).
        ns.Rtnl.CreateVeth(dev, "d0p", options: new VethOptions { Up = true, PeerUp = true });
        return ns;
    }

    [Fact]
    public void Batch_SendsAContainersRequestsInOneWrite_AndAFailureInTheMiddleKeepsErrnoExtAckAndWhatWasApplied()
    {
        // A container's set-up as Connect sends it: the veth's echo gives the peer's ifindex, then lo up, eth0 up, the
        // address and the default route in one datagram, read back with ip -j.
        var host = _nss.Create("bhost");
        var c = _nss.Create("bctr");
        var (index, peer) = host.Rtnl.CreateVethIndexes("vb0", "eth0", c.Handle, new VethOptions { Up = true });
        Assert.True(index > 0);
        Assert.Equal(c.Rtnl.GetLink("eth0").Index, peer);
        var before = c.RouteConnection.MessagesReceived;
        c.Rtnl.Batch().SetLinkUp(1, "lo").SetLinkUp(peer, "eth0").AddAddress(peer, "eth0", IPAddress.Parse("10.7.0.2"), 24)
            .AddDefaultRoute(IPAddress.Parse("10.7.0.1"), peer, "eth0").Send();
        Assert.Equal(4, c.RouteConnection.MessagesReceived - before); // four ACKs, nothing else
        var links = Cli.IpJson(c.Name!, "link", "show").EnumerateArray().ToDictionary(l => l.GetProperty("ifname").GetString()!, l => l);
        Assert.Contains("UP", links["lo"].GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.Contains("UP", links["eth0"].GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.Contains(Cli.IpJson(c.Name!, "-4", "addr", "show", "dev", "eth0").EnumerateArray().SelectMany(a => a.GetProperty("addr_info").EnumerateArray()),
            a => a.GetProperty("local").GetString() == "10.7.0.2");
        Assert.Equal("10.7.0.1", Assert.Single(Cli.IpJson(c.Name!, "-4", "route", "show", "default").EnumerateArray()).GetProperty("gateway").GetString());

        // The second request is refused (the address exists): the error is that request's, with its errno, and says one
        // before it was applied; the kernel went on with the third (rtnetlink is not transactional), which the caller
        // must know to undo.
        var x = Assert.Throws<NetlinkException>(() => c.Rtnl.Batch().SetLinkUp(peer, "eth0", up: false)
            .AddAddress(peer, "eth0", IPAddress.Parse("10.7.0.2"), 24).AddAddress(peer, "eth0", IPAddress.Parse("10.7.0.3"), 24).Send());
        Assert.Equal(Interop.LibC.EEXIST, x.ErrorNumber);
        Assert.Equal("add address 10.7.0.2/24 to eth0", x.Context);
        Assert.Equal(1, x.Data["Applied"]);
        Assert.Contains(Cli.IpJson(c.Name!, "-4", "addr", "show", "dev", "eth0").EnumerateArray().SelectMany(a => a.GetProperty("addr_info").EnumerateArray()),
            a => a.GetProperty("local").GetString() == "10.7.0.3");
        // a refusal with the kernel's ext-ACK text keeps it
        var y = Assert.Throws<NetlinkException>(() => c.Rtnl.Batch().SetLinkUp(1, "lo").AddDefaultRoute(IPAddress.Parse("10.9.0.1"), peer, "eth0").Send());
        Assert.Equal("add route default via 10.9.0.1 dev eth0", y.Context);
        Assert.Equal(1, y.Data["Applied"]);
        Assert.False(string.IsNullOrEmpty(y.ExtAckMessage), y.Message);
    }

    [Fact]
    public void GetRoutes_OfANamespaceWithoutRoutes_IsEmpty()
    {
        // A fresh namespace has no IPv4 FIB table yet: the dump is ENOENT in the kernel, an empty list here (ip shows nothing).
        var ns = _nss.Create("noroutes");
        Assert.Empty(ns.Rtnl.GetRoutes(AddressFamily.InterNetwork));
        Assert.Empty(ns.Rtnl.GetRoutes());
    }

    [Fact]
    public void AddAddress_IPv4AndIPv6_ReadBackBothWays_ThenRemove()
    {
        var ns = WithDummy("addr", out var dev);
        ns.Rtnl.AddAddress(dev, IPAddress.Parse("10.1.0.1"), 24);
        ns.Rtnl.AddAddress(dev, IPAddress.Parse("fd00:1::1"), 64);

        var v4 = Assert.Single(ns.Rtnl.GetAddresses(dev, AddressFamily.InterNetwork));
        Assert.Equal(IPAddress.Parse("10.1.0.1"), v4.Address);
        Assert.Equal(24, v4.PrefixLength);
        Assert.Equal(IPAddress.Parse("10.1.0.255"), v4.Broadcast);
        Assert.Equal(dev, v4.InterfaceName);
        Assert.Equal(dev, v4.Label);
        Assert.Equal(ns.Name, v4.NetNamespace);
        var v6 = Assert.Single(ns.Rtnl.GetAddresses(dev, AddressFamily.InterNetworkV6), a => a.Scope == RT_SCOPE_UNIVERSE);
        Assert.Equal(IPAddress.Parse("fd00:1::1"), v6.Address);
        Assert.Equal(64, v6.PrefixLength);
        Assert.NotEqual(0u, v6.Flags & IFA_F_NODAD);
        Assert.Equal(0u, v6.Flags & IFA_F_TENTATIVE); // usable at once

        var oracle = Oracle.Addresses(ns.Name!, dev);
        var o4 = Assert.Single(oracle, a => a.Str("family") == "inet");
        Assert.Equal("10.1.0.1", o4.Str("local"));
        Assert.Equal(24, o4.Int("prefixlen"));
        Assert.Equal("10.1.0.255", o4.Str("broadcast"));
        var o6 = Assert.Single(oracle, a => a.Str("family") == "inet6" && a.Str("scope") == "global");
        Assert.Equal("fd00:1::1", o6.Str("local"));
        Assert.True(o6.GetProperty("nodad").GetBoolean());
        Assert.False(o6.TryGetProperty("tentative", out _));
        // Everything the library lists, ip lists too (the link-local IPv6 address included).
        Assert.Equal(oracle.Select(a => a.Str("local")).Order(), ns.Rtnl.GetAddresses(dev).Select(a => a.Address.ToString()).Order());

        ns.Rtnl.RemoveAddress(dev, IPAddress.Parse("10.1.0.1"), 24);
        ns.Rtnl.RemoveAddress(dev, IPAddress.Parse("fd00:1::1"), 64);
        Assert.Empty(ns.Rtnl.GetAddresses(dev, AddressFamily.InterNetwork));
        Assert.DoesNotContain(Oracle.Addresses(ns.Name!, dev), a => a.Str("scope") == "global");
    }

    [Fact]
    public void GetAddresses_ListsEveryInterface_WithNames()
    {
        var ns = WithDummy("addrs", out var dev);
        ns.Rtnl.CreateVeth("d1", "d1p");
        ns.Rtnl.AddAddress(dev, IPAddress.Parse("10.1.0.1"), 24);
        ns.Rtnl.AddAddress("d1", IPAddress.Parse("10.2.0.1"), 16);
        var all = ns.Rtnl.GetAddresses(family: AddressFamily.InterNetwork);
        Assert.Equal(["d0 10.1.0.1/24", "d1 10.2.0.1/16"], all.Select(a => $"{a.InterfaceName} {a.Address}/{a.PrefixLength}").Order().ToArray());
    }

    [Theory]
    [InlineData("10.1.0.1", 33)]
    [InlineData("10.1.0.1", -1)]
    [InlineData("fd00::1", 129)]
    public void BadPrefix_IsRefused_AndNothingChanges(string address, int prefix)
    {
        var ns = WithDummy("prefix", out var dev);
        var before = Oracle.Addresses(ns.Name!, dev).Length;
        var e = Assert.Throws<ContainerNetworkingException>(() => ns.Rtnl.AddAddress(dev, IPAddress.Parse(address), prefix));
        Assert.Equal("InvalidPrefixLength", e.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains(prefix.ToString(), e.Message);
        Assert.Equal(before, Oracle.Addresses(ns.Name!, dev).Length);
    }

    [Fact]
    public void DuplicateAddress_IsEexist_AndMissingInterface_IsLinkNotFound()
    {
        var ns = WithDummy("dupaddr", out var dev);
        ns.Rtnl.AddAddress(dev, IPAddress.Parse("10.1.0.1"), 24);
        var e = Assert.Throws<NetlinkException>(() => ns.Rtnl.AddAddress(dev, IPAddress.Parse("10.1.0.1"), 24));
        Assert.Equal("EEXIST", e.ErrorName);
        Assert.StartsWith("RTM_NEWADDR", e.Message);
        Assert.Equal("LinkNotFound", Assert.Throws<ContainerNetworkingException>(() => ns.Rtnl.AddAddress("nope0", IPAddress.Parse("10.1.0.2"), 24)).ErrorId);
    }

    [Fact]
    public void Routes_AddReplaceRemove_ReadBackBothWays()
    {
        var ns = WithDummy("route", out var dev);
        ns.Rtnl.AddAddress(dev, IPAddress.Parse("10.1.0.1"), 24);
        ns.Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse("10.9.0.0/16"), null, dev) { Metric = 7 });
        ns.Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse("10.8.0.0/16"), IPAddress.Parse("10.1.0.5")));
        ns.Rtnl.AddDefaultRoute(IPAddress.Parse("10.1.0.254"), dev, 100);

        var routes = ns.Rtnl.GetRoutes(AddressFamily.InterNetwork);
        var dr = Assert.Single(routes, r => r.Destination.ToString() == "10.9.0.0/16");
        Assert.Null(dr.Gateway);
        Assert.Equal(dev, dr.OutputInterface);
        Assert.Equal(7u, dr.Metric);
        Assert.Equal(RT_SCOPE_LINK, dr.Scope);
        Assert.Equal(RTPROT_BOOT, dr.Protocol);
        Assert.Equal(RTN_UNICAST, dr.Type);
        Assert.Equal(254u, dr.Table);
        var gr = Assert.Single(routes, r => r.Destination.ToString() == "10.8.0.0/16");
        Assert.Equal(IPAddress.Parse("10.1.0.5"), gr.Gateway);
        Assert.Equal(dev, gr.OutputInterface); // the kernel resolves the device
        var def = Assert.Single(routes, r => r.IsDefault);
        Assert.Equal("0.0.0.0/0", def.Destination.ToString());
        Assert.Equal(100u, def.Metric);
        var conn = Assert.Single(routes, r => r.Destination.ToString() == "10.1.0.0/24");
        Assert.Equal(RTPROT_KERNEL, conn.Protocol);
        Assert.Equal(IPAddress.Parse("10.1.0.1"), conn.PreferredSource);

        var oracle = Oracle.Routes(ns.Name!);
        Assert.Equal(oracle.Length, routes.Count);
        foreach (var o in oracle)
        {
            var dst = o.Str("dst") == "default" ? "0.0.0.0/0" : o.Str("dst")!.Contains('/') ? o.Str("dst") : o.Str("dst") + "/32";
            var r = Assert.Single(routes, x => x.Destination.ToString() == dst);
            Assert.Equal(o.Str("gateway"), r.Gateway?.ToString());
            Assert.Equal(o.Str("dev"), r.OutputInterface);
            Assert.Equal(o.Int("metric"), (int?)r.Metric);
            Assert.Equal(o.Str("prefsrc"), r.PreferredSource?.ToString());
        }

        // replace: same destination and metric, now via a gateway; still one route.
        ns.Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse("10.9.0.0/16"), IPAddress.Parse("10.1.0.6")) { Metric = 7 }, replace: true);
        var replaced = Assert.Single(ns.Rtnl.GetRoutes(AddressFamily.InterNetwork), r => r.Destination.ToString() == "10.9.0.0/16");
        Assert.Equal(IPAddress.Parse("10.1.0.6"), replaced.Gateway);
        Assert.Equal("10.1.0.6", Assert.Single(Oracle.Routes(ns.Name!, "10.9.0.0/16")).Str("gateway"));

        // add again without replace: EEXIST from the kernel.
        var e = Assert.Throws<NetlinkException>(() => ns.Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse("10.9.0.0/16"), IPAddress.Parse("10.1.0.6")) { Metric = 7 }));
        Assert.Equal("EEXIST", e.ErrorName);
        Assert.StartsWith("RTM_NEWROUTE: File exists (EEXIST)", e.Message);

        ns.Rtnl.RemoveRoute(new RouteSpec(IPNetwork.Parse("10.9.0.0/16"), null, dev) { Metric = 7 });
        ns.Rtnl.RemoveRoute(new RouteSpec(IPNetwork.Parse("0.0.0.0/0"), IPAddress.Parse("10.1.0.254")) { Metric = 100 });
        Assert.DoesNotContain(ns.Rtnl.GetRoutes(), r => r.Destination.ToString() == "10.9.0.0/16" || r.IsDefault);
        Assert.Empty(Oracle.Routes(ns.Name!, "10.9.0.0/16"));
        Assert.Empty(Oracle.Routes(ns.Name!, "default"));
    }

    [Fact]
    public void Routes_IPv6_AndOtherTables()
    {
        var ns = WithDummy("route6", out var dev);
        ns.Rtnl.AddAddress(dev, IPAddress.Parse("fd00::1"), 64);
        ns.Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse("fd00:9::/48"), IPAddress.Parse("fd00::5")));
        ns.Rtnl.AddDefaultRoute(IPAddress.Parse("fd00::6"));
        ns.Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse("10.7.0.0/16"), null, dev) { Table = 100 });
        ns.Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse("10.6.0.0/16"), null, dev) { Table = 1000 });

        var v6 = ns.Rtnl.GetRoutes(AddressFamily.InterNetworkV6);
        Assert.All(v6, r => Assert.Equal(AddressFamily.InterNetworkV6, r.Family));
        Assert.Equal(IPAddress.Parse("fd00::5"), Assert.Single(v6, r => r.Destination.ToString() == "fd00:9::/48").Gateway);
        var def = Assert.Single(v6, r => r.IsDefault);
        Assert.Equal("::/0", def.Destination.ToString());
        Assert.Equal(IPAddress.Parse("fd00::6"), def.Gateway);
        Assert.Equal(
            Cli.IpJson(ns.Name!, "-6", "route", "show").EnumerateArray().Count(),
            v6.Count);

        Assert.DoesNotContain(ns.Rtnl.GetRoutes(), r => r.Destination.ToString() is "10.7.0.0/16" or "10.6.0.0/16");
        var t100 = Assert.Single(ns.Rtnl.GetRoutes(AddressFamily.InterNetwork, 100));
        Assert.Equal(100u, t100.Table);
        Assert.Equal("10.7.0.0/16", t100.Destination.ToString());
        var t1000 = Assert.Single(ns.Rtnl.GetRoutes(table: 1000));
        Assert.Equal(1000u, t1000.Table);
        Assert.Equal("10.6.0.0/16", Assert.Single(Oracle.Routes(ns.Name!, "table", "1000")).Str("dst"));
        ns.Rtnl.RemoveRoute(new RouteSpec(IPNetwork.Parse("10.6.0.0/16"), null, dev) { Table = 1000 });
        Assert.Empty(Oracle.Routes(ns.Name!, "table", "1000"));
    }

    [Fact]
    public void BadRoutes_AreRefused_BeforeAnyRequest()
    {
        var ns = WithDummy("badroute", out var dev);
        var before = Oracle.Routes(ns.Name!).Length;
        Assert.Equal("InvalidRoute", Assert.Throws<ContainerNetworkingException>(() =>
            ns.Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse("10.9.0.0/16"), IPAddress.Parse("fd00::1")))).ErrorId);
        Assert.Equal("InvalidRoute", Assert.Throws<ContainerNetworkingException>(() =>
            ns.Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse("10.9.0.0/16")))).ErrorId);
        Assert.Equal("InvalidRoute", Assert.Throws<ContainerNetworkingException>(() => ns.Rtnl.AddRoute(new RouteSpec())).ErrorId);
        Assert.Equal("LinkNotFound", Assert.Throws<ContainerNetworkingException>(() =>
            ns.Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse("10.9.0.0/16"), null, "nope0"))).ErrorId);
        Assert.Equal(before, Oracle.Routes(ns.Name!).Length);
    }

    [Fact]
    public void IpForwarding_IsPerNamespace_ReadAndSetWithoutSysctl()
    {
        var ns = _nss.Create("fwd");
        var rootV4 = File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim();
        foreach (var (family, path) in new[] { (AddressFamily.InterNetwork, "/proc/sys/net/ipv4/ip_forward"), (AddressFamily.InterNetworkV6, "/proc/sys/net/ipv6/conf/all/forwarding") })
        {
            IpForwarding.Set(ns, family, true);
            Assert.True(IpForwarding.IsEnabled(ns, family));
            Assert.Equal("1", Cli.InNs(ns.Name!, "cat", path).Ok().Stdout.Trim());
            IpForwarding.Set(ns, family, false);
            Assert.False(IpForwarding.IsEnabled(ns, family));
            Assert.Equal("0", Cli.InNs(ns.Name!, "cat", path).Ok().Stdout.Trim());
        }
        Assert.Equal(rootV4, File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim());
        Assert.Equal("InvalidAddressFamily", Assert.Throws<ContainerNetworkingException>(() => IpForwarding.IsEnabled(ns, AddressFamily.AppleTalk)).ErrorId);
    }
}
