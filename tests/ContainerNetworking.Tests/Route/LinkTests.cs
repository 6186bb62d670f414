using ContainerNetworking.Netlink;
using ContainerNetworking.Route;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.RouteLayer;

/// <summary>Links created, changed and removed through RouteClient, read back through the library and through <c>ip -j -d</c>.</summary>
public sealed class LinkTests : IDisposable
{
    private readonly TestNamespaces _nss = new();
    public void Dispose() => _nss.Dispose();

    private static string Snapshot(params ContainerNetworking.Namespaces.NetNamespace[] nss) =>
        string.Join(" | ", nss.Select(n => string.Join(",", Oracle.LinkNames(n.Name!))));

    [Fact]
    public void CreateVeth_PeerInAnotherNamespace_WithEveryOption_InOneRequest()
    {
        var host = _nss.Create("host");
        var ctr = _nss.Create("ctr");
        host.Rtnl.CreateBridge("br0", new BridgeOptions { Up = true });
        var local = host.Rtnl.CreateVeth("veth1", "eth0", ctr.Handle, new VethOptions
        {
            Mtu = 1400, MacAddress = "02:42:AC:11:00:01", PeerMacAddress = "02:42:ac:11:00:02", Up = true, PeerUp = true, Master = "br0",
        });

        Assert.Equal("veth1", local.Name);
        Assert.Equal("veth", local.Kind);
        Assert.Equal(1400, local.Mtu);
        Assert.Equal("02:42:ac:11:00:01", local.MacAddress);
        Assert.True(local.IsUp);
        Assert.Equal("br0", local.Master);
        Assert.Equal(host.Name, local.NetNamespace);
        Assert.NotNull(local.BridgePort);
        Assert.Null(host.Rtnl.FindLink("eth0"));

        var peer = ctr.Rtnl.GetLink("eth0");
        Assert.Equal(1400, peer.Mtu);
        Assert.Equal("02:42:ac:11:00:02", peer.MacAddress);
        Assert.True(peer.IsUp);
        Assert.True(peer.HasCarrier); // both ends up: the peer sees carrier
        Assert.Equal(ctr.Name, peer.NetNamespace);
        Assert.Null(ctr.Rtnl.FindLink("veth1"));

        var o = Oracle.Link(host.Name!, "veth1")!.Value;
        Assert.Equal(local.Index, o.Int("ifindex"));
        Assert.Equal(1400, o.Int("mtu"));
        Assert.Equal("02:42:ac:11:00:01", o.Str("address"));
        Assert.Equal("br0", o.Str("master"));
        Assert.True(o.HasFlag("UP"));
        Assert.Equal("veth", o.GetProperty("linkinfo").Str("info_kind"));
        var op = Oracle.Link(ctr.Name!, "eth0")!.Value;
        Assert.Equal(peer.Index, op.Int("ifindex"));
        Assert.Equal("02:42:ac:11:00:02", op.Str("address"));
        Assert.Equal(1400, op.Int("mtu"));
        Assert.True(op.HasFlag("UP"));
        Assert.True(op.HasFlag("LOWER_UP"));
    }

    [Fact]
    public void CreateVeth_SameNamespace_PeerIndexPointsAtEachOther_WithoutNetNsId()
    {
        var ns = _nss.Create("veth");
        var a = ns.Rtnl.CreateVeth("va", "vb");
        var b = ns.Rtnl.GetLink("vb");
        Assert.Equal(b.Index, a.PeerIndex);
        Assert.Equal(a.Index, b.PeerIndex);
        Assert.Null(a.PeerNetNsId);
        Assert.False(a.IsUp);
        Assert.Equal("DOWN", a.OperState);
        var o = Oracle.Link(ns.Name!, "va")!.Value;
        Assert.Equal("vb", o.Str("link")); // in the same namespace ip names the peer instead of printing link_index
        Assert.False(o.TryGetProperty("link_netnsid", out _));
        Assert.Equal("DOWN", o.Str("operstate"));
    }

    [Fact]
    public void GetLinks_MatchesIproute2_AndFiltersByKind()
    {
        var ns = _nss.Create("list");
        ns.Rtnl.CreateBridge("br0");
        ns.Rtnl.CreateBridge("br1", new BridgeOptions { Up = true });
        ns.Rtnl.CreateVeth("v0", "v1");
        ns.Rtnl.SetMaster("v0", "br0");

        var links = ns.Rtnl.GetLinks();
        var oracle = Cli.IpJson(ns.Name!, "link", "show").EnumerateArray().ToArray();
        Assert.Equal(oracle.Length, links.Count);
        foreach (var o in oracle)
        {
            var l = Assert.Single(links, x => x.Index == o.Int("ifindex"));
            Assert.Equal(o.Str("ifname"), l.Name);
            Assert.Equal(o.Int("mtu"), l.Mtu);
            Assert.Equal(o.Str("operstate"), l.OperState);
            Assert.Equal(o.Str("address"), l.MacAddress);
            Assert.Equal(o.Str("master"), l.Master);
            Assert.Equal(o.HasFlag("UP"), l.IsUp);
            Assert.Equal(o.TryGetProperty("linkinfo", out var li) ? li.Str("info_kind") : null, l.Kind);
        }
        Assert.Equal(["v0", "v1"], ns.Rtnl.GetLinks("veth").Select(l => l.Name).Order().ToArray());
        Assert.Equal(
            Cli.IpJson(ns.Name!, "link", "show", "type", "bridge").EnumerateArray().Select(x => x.Str("ifname")).ToArray(),
            ns.Rtnl.GetLinks("bridge").Select(l => l.Name).ToArray());
        Assert.Null(Assert.Single(ns.Rtnl.GetLinks(), l => l.Name == "lo").Kind);
        Assert.Equal(ns.Rtnl.GetLink("v0"), ns.Rtnl.GetLink(ns.Rtnl.GetLink("v0").Index) with { Statistics = ns.Rtnl.GetLink("v0").Statistics });
    }

    [Fact]
    public void CreateBridge_WithOptions()
    {
        var ns = _nss.Create("br");
        var br = ns.Rtnl.CreateBridge("br0", new BridgeOptions { Mtu = 1450, MacAddress = "02:00:00:00:01:01", Up = true, Stp = true });
        Assert.Equal("bridge", br.Kind);
        Assert.Equal(1450, br.Mtu);
        Assert.True(br.IsUp);
        Assert.Equal("02:00:00:00:01:01", br.MacAddress);
        var o = Oracle.Link(ns.Name!, "br0")!.Value;
        Assert.Equal(1, o.GetProperty("linkinfo").GetProperty("info_data").Int("stp_state"));
        Assert.Equal(1450, o.Int("mtu"));
        Assert.Equal("02:00:00:00:01:01", o.Str("address"));
        Assert.True(o.HasFlag("UP"));
    }

    [Fact]
    public void CreateBridge_VlanFiltering_WorksOrKeepsTheKernelsReason()
    {
        var ns = _nss.Create("brvlan");
        try
        {
            ns.Rtnl.CreateBridge("br0", new BridgeOptions { VlanFiltering = true, Stp = false });
            var data = Oracle.Link(ns.Name!, "br0")!.Value.GetProperty("linkinfo").GetProperty("info_data");
            Assert.Equal(1, data.Int("vlan_filtering"));
            Assert.Equal(0, data.Int("stp_state"));
        }
        catch (NetlinkException e)
        {
            // A kernel built without CONFIG_BRIDGE_VLAN_FILTERING (as this test machine's): refused whole, nothing created.
            Assert.Equal("EOPNOTSUPP", e.ErrorName);
            Assert.Equal(["lo"], Oracle.LinkNames(ns.Name!));
        }
    }

    [Fact]
    public void CreateDummy_WorksOrKeepsTheKernelsReason()
    {
        var ns = _nss.Create("dummy");
        try
        {
            var d = ns.Rtnl.CreateDummy("d0");
            Assert.Equal("dummy", d.Kind);
            Assert.Equal("dummy", Oracle.Link(ns.Name!, "d0")!.Value.GetProperty("linkinfo").Str("info_kind"));
        }
        catch (NetlinkException e)
        {
            // A kernel without the dummy driver: the errno and the extended ACK reach the caller, nothing is created.
            Assert.Equal("EOPNOTSUPP", e.ErrorName);
            Assert.Equal("Unknown device type", e.ExtAckMessage);
            Assert.Contains("create dummy d0", e.Message);
            Assert.Equal(["lo"], Oracle.LinkNames(ns.Name!));
        }
    }

    [Fact]
    public void SetLink_ChangesEverythingInOneRequest_AndRenames()
    {
        var ns = _nss.Create("set");
        var d = ns.Rtnl.CreateVeth("d0", "d0p");
        ns.Rtnl.SetLink("d0", new LinkChanges { Up = true, Mtu = 1300, MacAddress = "02:00:00:00:00:AA", NewName = "d1" });
        Assert.Null(ns.Rtnl.FindLink("d0"));
        var d1 = ns.Rtnl.GetLink("d1");
        Assert.Equal(d.Index, d1.Index);
        Assert.True(d1.IsUp);
        Assert.Equal(1300, d1.Mtu);
        Assert.Equal("02:00:00:00:00:aa", d1.MacAddress);
        var o = Oracle.Link(ns.Name!, "d1")!.Value;
        Assert.Equal(1300, o.Int("mtu"));
        Assert.Equal("02:00:00:00:00:aa", o.Str("address"));
        Assert.True(o.HasFlag("UP"));

        ns.Rtnl.SetLinkUp("d1", false);
        Assert.False(ns.Rtnl.GetLink("d1").IsUp);
        Assert.False(Oracle.Link(ns.Name!, "d1")!.Value.HasFlag("UP"));
    }

    /// <summary>Waits (up to 5 s) for the link-local address that the kernel makes once a link has its carrier.</summary>
    private static bool HasLinkLocal(string ns, string dev, bool wait = true)
    {
        var deadline = DateTime.UtcNow.AddSeconds(wait ? 5 : 0);
        while (true)
        {
            if (Oracle.Addresses(ns, dev).Any(a => a.Str("local")!.StartsWith("fe80:", StringComparison.Ordinal))) return true;
            if (DateTime.UtcNow >= deadline) return false;
            Thread.Sleep(50);
        }
    }

    [Fact]
    public void SetLink_AddressGenerationNone_WithUp_TheLinkComesUpWithoutLinkLocalAddress()
    {
        var ns = _nss.Create("agm");
        var name = ns.Name!;
        ns.Rtnl.CreateVeth("d0", "d0p");
        ns.Rtnl.SetLink("d0", new LinkChanges { Up = true, IPv6AddressGeneration = IPv6AddressGeneration.None });
        ns.Rtnl.SetLinkUp("d0p");
        Assert.Equal(IPv6AddressGeneration.None, ns.Rtnl.GetLink("d0").IPv6AddressGeneration);
        Assert.Equal("none", Oracle.Link(name, "d0")!.Value.Str("inet6_addr_gen_mode"));
        Assert.True(Oracle.Link(name, "d0")!.Value.HasFlag("UP"));
        // The peer, up the ordinary way, makes its fe80:: address once the pair has its carrier; by then d0, which came
        // up in mode none, would have made its own.
        Assert.Equal(IPv6AddressGeneration.Eui64, ns.Rtnl.GetLink("d0p").IPv6AddressGeneration);
        Assert.True(HasLinkLocal(name, "d0p"));
        Assert.False(HasLinkLocal(name, "d0", wait: false));

        // The batch: the mode queued before the up.
        ns.Rtnl.CreateVeth("e0", "e0p");
        var e0 = ns.Rtnl.GetLink("e0").Index;
        ns.Rtnl.Batch().SetIPv6AddressGeneration(e0, "e0", IPv6AddressGeneration.None).SetLinkUp(e0, "e0").Send();
        ns.Rtnl.SetLinkUp("e0p");
        Assert.Equal("none", Oracle.Link(name, "e0")!.Value.Str("inet6_addr_gen_mode"));
        Assert.True(HasLinkLocal(name, "e0p"));
        Assert.False(HasLinkLocal(name, "e0", wait: false));

        // Back to eui64, down and up again: the link-local address is made.
        ns.Rtnl.SetLinkUp("d0", false);
        ns.Rtnl.SetLink("d0", new LinkChanges { Up = true, IPv6AddressGeneration = IPv6AddressGeneration.Eui64 });
        Assert.Equal("eui64", Oracle.Link(name, "d0")!.Value.Str("inet6_addr_gen_mode"));
        Assert.True(HasLinkLocal(name, "d0"));
    }

    [Fact]
    public void SetLink_AddressGeneration_UnknownMode_OrALinkWithoutIPv6_ChangesNothing()
    {
        var ns = _nss.Create("agm-bad");
        ns.Rtnl.CreateVeth("d0", "d0p", options: new VethOptions { Mtu = 1200 });
        var bad = Assert.Throws<ContainerNetworkingException>(() => ns.Rtnl.SetLink("d0", new LinkChanges { Up = true, IPv6AddressGeneration = (IPv6AddressGeneration)9 }));
        Assert.Equal("InvalidAddressGeneration", bad.ErrorId);
        Assert.False(Oracle.Link(ns.Name!, "d0")!.Value.HasFlag("UP"));
        // Below IPv6's minimum MTU (1280) the link has no IPv6, and the kernel says so: the up asked with it is not made.
        var e = Assert.Throws<NetlinkException>(() => ns.Rtnl.SetLink("d0", new LinkChanges { Up = true, IPv6AddressGeneration = IPv6AddressGeneration.None }));
        Assert.Equal("EAFNOSUPPORT", e.ErrorName);
        Assert.Contains("addrgenmode none", e.Message);
        Assert.False(Oracle.Link(ns.Name!, "d0")!.Value.HasFlag("UP"));
        Assert.Null(ns.Rtnl.GetLink("d0").IPv6AddressGeneration);
        Assert.Null(Oracle.Link(ns.Name!, "d0")!.Value.Str("inet6_addr_gen_mode"));

        // With up and a rename that the kernel refuses (the name is taken): the mode, sent first, is put back.
        ns.Rtnl.CreateVeth("f0", "f0p");
        var taken = Assert.Throws<NetlinkException>(() => ns.Rtnl.SetLink("f0", new LinkChanges { Up = true, IPv6AddressGeneration = IPv6AddressGeneration.None, NewName = "f0p" }));
        Assert.Equal("EEXIST", taken.ErrorName);
        Assert.Equal("eui64", Oracle.Link(ns.Name!, "f0")!.Value.Str("inet6_addr_gen_mode"));
        Assert.False(Oracle.Link(ns.Name!, "f0")!.Value.HasFlag("UP"));
    }

    [Fact]
    public void SetMaster_AndNoMaster()
    {
        var ns = _nss.Create("master");
        var br = ns.Rtnl.CreateBridge("br0");
        ns.Rtnl.CreateVeth("d0", "d0p");
        ns.Rtnl.SetMaster("d0", "br0");
        var d = ns.Rtnl.GetLink("d0");
        Assert.Equal(br.Index, d.MasterIndex);
        Assert.Equal("br0", d.Master);
        Assert.Equal("br0", Oracle.Link(ns.Name!, "d0")!.Value.Str("master"));
        ns.Rtnl.SetMaster("d0", null);
        Assert.Null(ns.Rtnl.GetLink("d0").Master);
        Assert.Null(Oracle.Link(ns.Name!, "d0")!.Value.Str("master"));
    }

    [Fact]
    public void MoveToNamespace_WithAndWithoutRename()
    {
        var a = _nss.Create("from");
        var b = _nss.Create("to");
        a.Rtnl.CreateVeth("d0", "d0p");
        a.Rtnl.CreateVeth("d1", "d1p");
        a.Rtnl.MoveToNamespace("d0", b.Handle);
        a.Rtnl.MoveToNamespace("d1", b.Handle, "eth7");
        Assert.Null(a.Rtnl.FindLink("d0"));
        Assert.Null(a.Rtnl.FindLink("d1"));
        Assert.Equal("veth", b.Rtnl.GetLink("d0").Kind);
        Assert.Equal("veth", b.Rtnl.GetLink("eth7").Kind);
        Assert.Equal(["d0", "eth7", "lo"], Oracle.LinkNames(b.Name!));
        Assert.Equal(["d0p", "d1p", "lo"], Oracle.LinkNames(a.Name!));
        // A bridge cannot leave its namespace (NETIF_F_NETNS_LOCAL): the kernel's reason reaches the caller.
        a.Rtnl.CreateBridge("br0");
        var e = Assert.Throws<NetlinkException>(() => a.Rtnl.MoveToNamespace("br0", b.Handle));
        Assert.Equal("EINVAL", e.ErrorName);
        Assert.NotNull(e.ExtAckMessage);
        Assert.NotNull(a.Rtnl.FindLink("br0"));
        // The veth end that moved now knows its peer through a namespace id.
        var moved = b.Rtnl.GetLink("d0");
        Assert.Equal(a.Rtnl.GetLink("d0p").Index, moved.PeerIndex);
        Assert.Equal(b.Rtnl.GetNetNsId(a.Handle), moved.PeerNetNsId);
    }

    [Fact]
    public void SetBridgePort_Flags_ReadBackBothWays()
    {
        var ns = _nss.Create("port");
        ns.Rtnl.CreateBridge("br0", new BridgeOptions { Up = true });
        ns.Rtnl.CreateVeth("v0", "v1", options: new VethOptions { Master = "br0", Up = true, PeerUp = true });
        var before = ns.Rtnl.GetLink("v0").BridgePort!;
        Assert.False(before.Hairpin);
        Assert.True(before.Learning);
        Assert.True(before.Flood);
        Assert.False(before.Isolated);

        ns.Rtnl.SetBridgePort("v0", new BridgePortOptions { Hairpin = true, Learning = false, Isolated = true, Flood = false });
        var after = ns.Rtnl.GetLink("v0").BridgePort!;
        Assert.True(after.Hairpin);
        Assert.False(after.Learning);
        Assert.True(after.Isolated);
        Assert.False(after.Flood);
        var sd = Oracle.Link(ns.Name!, "v0")!.Value.GetProperty("linkinfo").GetProperty("info_slave_data");
        Assert.True(sd.GetProperty("hairpin").GetBoolean());
        Assert.False(sd.GetProperty("learning").GetBoolean());
        Assert.True(sd.GetProperty("isolated").GetBoolean());
        Assert.False(sd.GetProperty("flood").GetBoolean());

        // Only what is given changes.
        ns.Rtnl.SetBridgePort("v0", new BridgePortOptions { Hairpin = false });
        var third = ns.Rtnl.GetLink("v0").BridgePort!;
        Assert.False(third.Hairpin);
        Assert.True(third.Isolated);

        var e = Assert.Throws<ContainerNetworkingException>(() => ns.Rtnl.SetBridgePort("v1", new BridgePortOptions { Hairpin = true }));
        Assert.Equal("NotABridgePort", e.ErrorId);
    }

    [Fact]
    public void DeleteLink_RemovesBothEndsOfAVeth()
    {
        var host = _nss.Create("host");
        var ctr = _nss.Create("ctr");
        host.Rtnl.CreateVeth("veth1", "eth0", ctr.Handle);
        host.Rtnl.DeleteLink("veth1");
        Assert.Null(host.Rtnl.FindLink("veth1"));
        Assert.Null(ctr.Rtnl.FindLink("eth0"));
        Assert.Equal(["lo"], Oracle.LinkNames(host.Name!));
        Assert.Equal(["lo"], Oracle.LinkNames(ctr.Name!));
        var e = Assert.Throws<ContainerNetworkingException>(() => host.Rtnl.DeleteLink("veth1"));
        Assert.Equal("LinkNotFound", e.ErrorId);
    }

    // ---- bad input: a clear error and nothing left behind ------------------------------------------------------

    [Theory]
    [InlineData("veth-with-a-long-name", "21 bytes")]
    [InlineData("", "empty")]
    [InlineData("a/b", "'/'")]
    [InlineData("a:b", "':'")]
    [InlineData("a b", "whitespace")]
    [InlineData("..", "not allowed")]
    [InlineData("üüüüüüüü", "16 bytes")] // 8 characters, 16 bytes in UTF-8
    public void BadNames_AreRefused_BeforeAnyRequest(string name, string why)
    {
        var host = _nss.Create("host");
        var ctr = _nss.Create("ctr");
        var before = Snapshot(host, ctr);
        var e = Assert.Throws<ContainerNetworkingException>(() => host.Rtnl.CreateVeth(name, "eth0", ctr.Handle));
        Assert.Equal("InvalidInterfaceName", e.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains(why, e.Message);
        if (name.Length > 0 && why.Contains("bytes"))
        {
            Assert.Contains("15", e.Message);
            Assert.Contains("shorter name", e.Message);
        }
        e = Assert.Throws<ContainerNetworkingException>(() => host.Rtnl.CreateVeth("veth0", name, ctr.Handle));
        Assert.Equal("InvalidInterfaceName", e.ErrorId);
        Assert.Equal(before, Snapshot(host, ctr));
    }

    [Fact]
    public void MissingMasterBridge_IsLinkNotFound_NamingTheBridge_AndNothingIsCreated()
    {
        var host = _nss.Create("host");
        var ctr = _nss.Create("ctr");
        var e = Assert.Throws<ContainerNetworkingException>(() =>
            host.Rtnl.CreateVeth("veth0", "eth0", ctr.Handle, new VethOptions { Master = "nobr0" }));
        Assert.Equal("LinkNotFound", e.ErrorId);
        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.Contains("'nobr0'", e.Message);
        Assert.Contains(host.Name!, e.Message);
        Assert.Equal(["lo"], Oracle.LinkNames(host.Name!));
        Assert.Equal(["lo"], Oracle.LinkNames(ctr.Name!));

        host.Rtnl.CreateVeth("d0", "d0p");
        e = Assert.Throws<ContainerNetworkingException>(() => host.Rtnl.SetMaster("d0", "nobr0"));
        Assert.Equal("LinkNotFound", e.ErrorId);
        Assert.Null(host.Rtnl.GetLink("d0").Master);
    }

    [Fact]
    public void DuplicateName_IsTheKernelsEexist_AndLeavesNothingBehind()
    {
        var host = _nss.Create("host");
        var ctr = _nss.Create("ctr");
        host.Rtnl.CreateVeth("veth0", "eth0", ctr.Handle);
        var before = Snapshot(host, ctr);

        // The local name is taken.
        var e = Assert.Throws<NetlinkException>(() => host.Rtnl.CreateVeth("veth0", "eth1", ctr.Handle));
        Assert.Equal(17, e.ErrorNumber);
        Assert.StartsWith("RTM_NEWLINK: File exists (EEXIST)", e.Message);
        // The peer's name is taken in the other namespace: the local end must not survive either.
        e = Assert.Throws<NetlinkException>(() => host.Rtnl.CreateVeth("veth9", "eth0", ctr.Handle));
        Assert.Equal("EEXIST", e.ErrorName);
        Assert.Equal(before, Snapshot(host, ctr));
        Assert.Null(host.Rtnl.FindLink("veth9"));
        Assert.Throws<NetlinkException>(() => host.Rtnl.CreateBridge("veth0"));
    }

    [Fact]
    public void BadMacAndMtu_AreRefused_BeforeAnyRequest()
    {
        var ns = _nss.Create("bad");
        foreach (var mac in new[] { "02:42:zz:11:00:02", "02:42:ac:11:00", "01:00:5e:00:00:01", "00:00:00:00:00:00" })
        {
            var e = Assert.Throws<ContainerNetworkingException>(() => ns.Rtnl.CreateVeth("v0", "v1", options: new VethOptions { MacAddress = mac }));
            Assert.Equal("InvalidMacAddress", e.ErrorId);
            Assert.Contains(mac, e.Message);
        }
        foreach (var mtu in new[] { 0, 67, 65536 })
        {
            var e = Assert.Throws<ContainerNetworkingException>(() => ns.Rtnl.CreateBridge("br0", new BridgeOptions { Mtu = mtu }));
            Assert.Equal("InvalidMtu", e.ErrorId);
        }
        Assert.Equal(["lo"], Oracle.LinkNames(ns.Name!));
    }

    [Fact]
    public void GetLink_Missing_SaysWhereAndHowToList()
    {
        var ns = _nss.Create("miss");
        var e = Assert.Throws<ContainerNetworkingException>(() => ns.Rtnl.GetLink("nope0"));
        Assert.Equal("LinkNotFound", e.ErrorId);
        Assert.Contains(ns.Name!, e.Message);
        Assert.Contains($"ip -n {ns.Name} link show", e.Message);
        Assert.Equal("LinkNotFound", Assert.Throws<ContainerNetworkingException>(() => ns.Rtnl.GetLink(9999)).ErrorId);
        Assert.Equal("LinkNotFound", Assert.Throws<ContainerNetworkingException>(() => ns.Rtnl.SetLinkUp("nope0")).ErrorId);
        Assert.Null(ns.Rtnl.FindLink("nope0"));
    }
}
