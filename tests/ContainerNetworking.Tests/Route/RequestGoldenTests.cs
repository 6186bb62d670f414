using System.Net;
using ContainerNetworking.Netlink;
using ContainerNetworking.Route;
using static ContainerNetworking.Route.RtnlConstants;

namespace ContainerNetworking.Tests.RouteLayer;

/// <summary>
/// The bytes of every request RouteClient builds, against bytes derived by hand from the uapi structs. Where the test
/// says "as ip sends it", the expected bytes were also captured from iproute2 6.1 with
/// <c>strace -e trace=sendmsg -x -s 4096 ip -n NS …</c> in a throwaway namespace and are identical (sequence aside).
/// </summary>
public sealed class RequestGoldenTests
{
    private const uint Seq = 0x01020304;

    /// <summary>Frames a body exactly as NetlinkConnection.Request does (NLM_F_REQUEST | NLM_F_ACK added).</summary>
    private static string Frame(ushort type, ushort flags, Action<NetlinkWriter> body)
    {
        var w = new NetlinkWriter();
        w.BeginMessage(type, (ushort)(flags | Nl.NLM_F_REQUEST | Nl.NLM_F_ACK), Seq);
        body(w);
        w.EndMessage();
        return Convert.ToHexString(w.Written).ToLowerInvariant();
    }

    private static string Dump(ushort type, Action<NetlinkWriter> body)
    {
        var w = new NetlinkWriter();
        w.BeginMessage(type, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP, Seq);
        body(w);
        w.EndMessage();
        return Convert.ToHexString(w.Written).ToLowerInvariant();
    }

    /// <summary>nlmsghdr: len(le32) type(le16) flags(le16) seq(le32 = 04030201) pid(0).</summary>
    private static string Hdr(int len, ushort type, ushort flags) =>
        Le32((uint)len) + Le16(type) + Le16(flags) + "04030201" + "00000000";

    private static string Le16(ushort v) => Convert.ToHexString(BitConverter.GetBytes(v)).ToLowerInvariant();
    private static string Le32(uint v) => Convert.ToHexString(BitConverter.GetBytes(v)).ToLowerInvariant();
    private static string H(string s) => s.Replace(" ", "", StringComparison.Ordinal);

    private const string IfinfoZero = "00000000 00000000 00000000 00000000";

    [Fact]
    public void CreateVeth_Plain_IsWhatIpSends_ButForTheKindsNul()
    {
        // ip link add vA type veth peer name vB. iproute2 6.1 sends IFLA_INFO_KIND "veth" without its NUL (nla_len 8,
        // LINKINFO 44, message 84); we send it NUL-terminated as libmnl and iproute2's "dummy" path do (nla_len 9,
        // padded to 12). The kernel's policy (NLA_STRING) accepts both; every other byte is ip's.
        var got = Frame(RTM_NEWLINK, RouteClient.CreateFlags, w => RouteClient.WriteCreateVeth(w, "vA", "vB", null, new VethOptions(), null, null, null));
        var want = H(Hdr(88, 16, 0x605) +
            "00000000000000000000000000000000" +  // ifinfomsg
            "07000300 76410000" +                 // IFLA_IFNAME "vA\0" + pad
            "30001200" +                          // IFLA_LINKINFO, 48 bytes
            "09000100 76657468 00000000" +        // IFLA_INFO_KIND "veth\0" + pad
            "20000200" +                          // IFLA_INFO_DATA, 32 bytes
            "1c000100" +                          // VETH_INFO_PEER, 28 bytes: ifinfomsg + IFLA_IFNAME
            "00000000000000000000000000000000" +
            "07000300 76420000");
        Assert.Equal(want, got);
    }

    [Fact]
    public void CreateVeth_WithEveryOption_PutsThemInOneMessage()
    {
        var o = new VethOptions { Mtu = 1400, Up = true, PeerUp = true };
        byte[] mac = [0x02, 0x42, 0xac, 0x11, 0x00, 0x01], peerMac = [0x02, 0x42, 0xac, 0x11, 0x00, 0x02];
        var got = Frame(RTM_NEWLINK, RouteClient.CreateFlags, w => RouteClient.WriteCreateVeth(w, "veth1", "eth0", 7, o, mac, peerMac, 5));
        var ifinfoUp = "00000000 00000000 01000000 01000000"; // family 0, index 0, ifi_flags IFF_UP, ifi_change IFF_UP
        var body =
            ifinfoUp +
            "0a000300 76657468 31000000" +        // IFLA_IFNAME "veth1\0" (10) + 2 pad
            "08000400 78050000" +                 // IFLA_MTU 1400
            "0a000100 0242ac110001 0000" +        // IFLA_ADDRESS
            "08000a00 05000000" +                 // IFLA_MASTER 5
            "50001200" +                          // IFLA_LINKINFO (80)
            "09000100 76657468 00000000" +        // IFLA_INFO_KIND "veth"
            "40000200" +                          // IFLA_INFO_DATA (64)
            "3c000100" +                          // VETH_INFO_PEER (60)
            IfinfoZero +                          // the peer's ifinfomsg: IFF_UP here is refused by the kernel (ENOTCONN)
            "09000300 65746830 00000000" +        // IFLA_IFNAME "eth0\0"
            "08000400 78050000" +                 // IFLA_MTU
            "0a000100 0242ac110002 0000" +        // IFLA_ADDRESS
            "08001c00 07000000";                  // IFLA_NET_NS_FD 7
        Assert.Equal(H(Hdr(16 + H(body).Length / 2, 16, 0x605) + body), got);
    }

    [Fact]
    public void CreateDummy_IsWhatIpSends() // ip's bytes (this test machine's kernel has no dummy driver and refuses them)
    {
        // ip link add d0 type dummy
        var got = Frame(RTM_NEWLINK, RouteClient.CreateFlags, w => RouteClient.WriteCreateDummy(w, "d0"));
        Assert.Equal(H(Hdr(56, 16, 0x605) + IfinfoZero + "07000300 64300000" + "10001200" + "0a000100 64756d6d 79000000"), got);
    }

    [Fact]
    public void CreateBridge_WithStpAndVlanFiltering()
    {
        var got = Frame(RTM_NEWLINK, RouteClient.CreateFlags, w => RouteClient.WriteCreateBridge(w, "br0",
            new BridgeOptions { Up = true, Stp = true, VlanFiltering = true }, null));
        var body = "00000000 00000000 01000000 01000000" +
            "08000300 62723000" +                 // IFLA_IFNAME "br0\0"
            "24001200" +                          // IFLA_LINKINFO (36)
            "0b000100 62726964 67650000" +        // IFLA_INFO_KIND "bridge\0" (11) + pad
            "14000200" +                          // IFLA_INFO_DATA (20)
            "08000500 01000000" +                 // IFLA_BR_STP_STATE u32 1
            "05000700 01000000";                  // IFLA_BR_VLAN_FILTERING u8 1 + pad
        Assert.Equal(H(Hdr(16 + H(body).Length / 2, 16, 0x605) + body), got);
    }

    [Fact]
    public void SetLink_ByName_AndRenameByIndex()
    {
        var byName = Frame(RTM_NEWLINK, 0, w => RouteClient.WriteSetLink(w, 0, "d0", new LinkChanges { Up = false, Mtu = 1300 }, null, 0));
        var body = "00000000 00000000 00000000 01000000" + // flags 0, change IFF_UP: down
            "07000300 64300000" + "08000400 14050000" + "08000a00 00000000"; // name, mtu 1300, master 0 (nomaster)
        Assert.Equal(H(Hdr(16 + H(body).Length / 2, 16, 0x005) + body), byName);

        var rename = Frame(RTM_NEWLINK, 0, w => RouteClient.WriteSetLink(w, 9, "d0", new LinkChanges { NewName = "d1", Up = true }, null, null));
        var body2 = "00000000 09000000 01000000 01000000" + "07000300 64310000";
        Assert.Equal(H(Hdr(16 + H(body2).Length / 2, 16, 0x005) + body2), rename);
    }

    [Fact]
    public void SetLink_AddressGenerationMode_IsWhatIpLinkSetAddrgenmodeSends()
    {
        // ip link set dev #7 addrgenmode none: IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE u8 1 } }
        var got = Frame(RTM_NEWLINK, 0, w => RouteClient.WriteSetLink(w, 7, "d0", new LinkChanges { IPv6AddressGeneration = IPv6AddressGeneration.None }, null, null));
        var body = "00000000 07000000 00000000 00000000" + "10001a00" + "0c000a00" + "05000800 01000000";
        Assert.Equal(H(Hdr(48, 16, 0x005) + body), got);
    }

    [Fact]
    public void MoveToNamespace_CarriesTheFd()
    {
        var got = Frame(RTM_NEWLINK, 0, w => RouteClient.WriteMoveToNamespace(w, 0, "d0", 12, null));
        var body = IfinfoZero + "07000300 64300000" + "08001c00 0c000000";
        Assert.Equal(H(Hdr(48, 16, 0x005) + body), got);
    }

    [Fact]
    public void SetBridgePort_Hairpin_IsWhatBridgeSends()
    {
        // bridge link set dev vA hairpin on (vA = ifindex 4)
        var got = Frame(RTM_SETLINK, 0, w => RouteClient.WriteSetBridgePort(w, 4, new BridgePortOptions { Hairpin = true }));
        Assert.Equal(H(Hdr(44, 19, 0x005) + "07000000 04000000 00000000 00000000" + "0c000c80" + "05000400 01000000"), got);
    }

    [Fact]
    public void SetBridgePort_AllFlags()
    {
        var got = Frame(RTM_SETLINK, 0, w => RouteClient.WriteSetBridgePort(w, 4,
            new BridgePortOptions { Hairpin = false, Learning = false, Flood = true, Isolated = true }));
        var body = "07000000 04000000 00000000 00000000" + "24000c80" +
            "05000400 00000000" + "05000800 00000000" + "05000900 01000000" + "05002100 01000000";
        Assert.Equal(H(Hdr(16 + H(body).Length / 2, 19, 0x005) + body), got);
    }

    [Fact]
    public void DeleteLink_ByName()
    {
        var got = Frame(RTM_DELLINK, 0, w => RouteClient.WriteDeleteLink(w, "vA"));
        Assert.Equal(H(Hdr(40, 17, 0x005) + IfinfoZero + "07000300 76410000"), got);
    }

    [Fact]
    public void GetLink_ByName_AndByIndex_AndDump()
    {
        Assert.Equal(H(Hdr(40, 18, 0x005) + IfinfoZero + "08000300 62723000"), Frame(RTM_GETLINK, 0, w => RouteClient.WriteGetLink(w, "br0")));
        Assert.Equal(H(Hdr(32, 18, 0x005) + "00000000 05000000 00000000 00000000"), Frame(RTM_GETLINK, 0, w => RouteClient.WriteGetLinkByIndex(w, 5)));
        Assert.Equal(H(Hdr(32, 18, 0x301) + IfinfoZero), Dump(RTM_GETLINK, RouteClient.WriteDumpLinks));
    }

    [Fact]
    public void AddAddress_IPv4_WithBroadcast_IsWhatIpSends()
    {
        // ip addr add 192.168.15.1/24 brd + dev vA (vA = ifindex 3)
        var got = Frame(RTM_NEWADDR, RouteClient.CreateFlags, w => RouteClient.WriteAddress(w, 3, IPAddress.Parse("192.168.15.1"), 24, add: true));
        Assert.Equal(H(Hdr(48, 20, 0x605) + "02180000 03000000" + "08000200 c0a80f01" + "08000100 c0a80f01" + "08000400 c0a80fff"), got);
    }

    [Fact]
    public void AddAddress_IPv6_IsNoDad_AndRemoveIsPlain()
    {
        var a = IPAddress.Parse("fd00::1");
        var add = Frame(RTM_NEWADDR, RouteClient.CreateFlags, w => RouteClient.WriteAddress(w, 3, a, 64, add: true));
        var addr = "fd000000000000000000000000000001";
        Assert.Equal(H(Hdr(64, 20, 0x605) + "0a400200 03000000" + "14000200" + addr + "14000100" + addr), add);
        var del = Frame(RTM_DELADDR, 0, w => RouteClient.WriteAddress(w, 3, a, 64, add: false));
        Assert.Equal(H(Hdr(64, 21, 0x005) + "0a400000 03000000" + "14000200" + addr + "14000100" + addr), del);
        // /31: no broadcast (RFC 3021); loopback addresses get host scope.
        var p31 = Frame(RTM_NEWADDR, RouteClient.CreateFlags, w => RouteClient.WriteAddress(w, 1, IPAddress.Parse("127.0.0.2"), 31, add: true));
        Assert.Equal(H(Hdr(40, 20, 0x605) + "021f00fe 01000000" + "08000200 7f000002" + "08000100 7f000002"), p31);
    }

    [Fact]
    public void AddDefaultRoute_IsWhatIpSends()
    {
        // ip route add default via 10.1.0.5
        var spec = new RouteSpec(new IPNetwork(IPAddress.Any, 0), IPAddress.Parse("10.1.0.5"));
        var got = Frame(RTM_NEWROUTE, Nl.NLM_F_CREATE | Nl.NLM_F_EXCL, w => RouteClient.WriteRoute(w, spec, 0, delete: false));
        Assert.Equal(H(Hdr(36, 24, 0x605) + "02000000 fe030001 00000000" + "08000500 0a010005"), got);
    }

    [Fact]
    public void AddAndRemoveDeviceRoute_WithMetric_IsWhatIpSends()
    {
        // ip route add 10.9.0.0/16 dev br0 metric 7 (br0 = ifindex 2), then ip route del … the same
        var spec = new RouteSpec(IPNetwork.Parse("10.9.0.0/16"), null, "br0") { Metric = 7 };
        var add = Frame(RTM_NEWROUTE, Nl.NLM_F_CREATE | Nl.NLM_F_EXCL, w => RouteClient.WriteRoute(w, spec, 2, delete: false));
        Assert.Equal(H(Hdr(52, 24, 0x605) + "02100000 fe03fd01 00000000" + "08000100 0a090000" + "08000600 07000000" + "08000400 02000000"), add);
        var del = Frame(RTM_DELROUTE, 0, w => RouteClient.WriteRoute(w, spec, 2, delete: true));
        Assert.Equal(H(Hdr(52, 25, 0x005) + "02100000 fe00ff00 00000000" + "08000100 0a090000" + "08000600 07000000" + "08000400 02000000"), del);
    }

    [Fact]
    public void Route_InATableAbove255_UsesRtaTable_AndIPv6WithSource()
    {
        var spec = new RouteSpec(IPNetwork.Parse("fd00:1::/64"), IPAddress.Parse("fd00::5")) { Table = 1000, Source = IPAddress.Parse("fd00::1"), Protocol = RTPROT_STATIC };
        var got = Frame(RTM_NEWROUTE, Nl.NLM_F_CREATE | Nl.NLM_F_REPLACE, w => RouteClient.WriteRoute(w, spec, 0, delete: false));
        var body = "0a400000 00040001 00000000" +      // family 10, dst_len 64, table UNSPEC, proto static, scope universe, unicast
            "08000f00 e8030000" +                        // RTA_TABLE 1000
            "14000100 fd000001000000000000000000000000" + // RTA_DST
            "14000500 fd000000000000000000000000000005" + // RTA_GATEWAY
            "14000700 fd000000000000000000000000000001";  // RTA_PREFSRC
        Assert.Equal(H(Hdr(16 + H(body).Length / 2, 24, 0x505) + body), got);
    }

    [Fact]
    public void Dumps_OfRoutesAddressesNeighboursFdb_AndGetNsId()
    {
        Assert.Equal(H(Hdr(28, 26, 0x301) + "02000000 fe000000 00000000"), Dump(RTM_GETROUTE, w => RouteClient.WriteDumpRoutes(w, AF_INET, 254)));
        Assert.Equal(H(Hdr(36, 26, 0x301) + "00000000 00000000 00000000" + "08000f00 e8030000"), Dump(RTM_GETROUTE, w => RouteClient.WriteDumpRoutes(w, AF_UNSPEC, 1000)));
        Assert.Equal(H(Hdr(24, 22, 0x301) + "0a000000 03000000"), Dump(RTM_GETADDR, w => RouteClient.WriteDumpAddresses(w, AF_INET6, 3)));
        Assert.Equal(H(Hdr(36, 30, 0x301) + "00000000 00000000 00000000" + "08000800 03000000"), Dump(RTM_GETNEIGH, w => RouteClient.WriteDumpNeighbors(w, AF_UNSPEC, 3)));
        // ndm_ifindex stays 0: the kernel's strict check refuses it; the interface goes in NDA_IFINDEX.
        Assert.Equal(H(Hdr(36, 30, 0x301) + "07000000 00000000 00000000" + "08000900 02000000"), Dump(RTM_GETNEIGH, w => RouteClient.WriteDumpFdb(w, 2)));
        Assert.Equal(H(Hdr(28, 90, 0x005) + "00000000" + "08000300 05000000"), Frame(RTM_GETNSID, 0, w => RouteClient.WriteGetNsId(w, 5)));
    }
}
