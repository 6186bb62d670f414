using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netlink;
using ContainerNetworking.Values;
using static ContainerNetworking.Route.RtnlConstants;

namespace ContainerNetworking.Route;

public sealed partial class RouteClient
{
    // IFLA_VXLAN_* (inside IFLA_INFO_DATA of a vxlan link)
    internal const ushort IFLA_VXLAN_ID = 1, IFLA_VXLAN_LINK = 3, IFLA_VXLAN_LOCAL = 4, IFLA_VXLAN_TTL = 5,
        IFLA_VXLAN_LEARNING = 7, IFLA_VXLAN_AGEING = 8, IFLA_VXLAN_PORT = 15, IFLA_VXLAN_LOCAL6 = 17;

    // ---- VXLAN ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Creates a VXLAN device in one request (what flannel's vxlan backend creates as flannel.VNI).
    /// <c>ip link add NAME [mtu M] [address A] [up] type vxlan id VNI [local ADDR] [dev UNDERLAY] dstport PORT [nolearning]</c>.
    /// </summary>
    public LinkInfo CreateVxlan(string name, VxlanOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        InterfaceName.Validate(name, "VXLAN name");
        if (options.Vni is < 1 or > 0xFFFFFF)
            throw RtnlValidation.Invalid("InvalidVni", $"VNI {options.Vni} is out of range. Give 1-16777215.");
        if (options.Port is < 1 or > 65535)
            throw RtnlValidation.Invalid("InvalidPort", $"UDP port {options.Port} is out of range. Give 1-65535 (flannel uses 8472, the IANA port is 4789).");
        if (options.Mtu is { } mtu) RtnlValidation.ValidateMtu(mtu);
        var mac = options.MacAddress is null ? null : MacAddress.Parse(options.MacAddress);
        int? underlay = null;
        if (options.Underlay is not null)
        {
            InterfaceName.Validate(options.Underlay, "Underlay interface name");
            underlay = IndexOf(options.Underlay, "Underlay interface");
        }
        _conn.Execute(RTM_NEWLINK, CreateFlags, w => WriteCreateVxlan(w, name, options, mac, underlay), $"create vxlan {name}");
        return GetLink(name);
    }

    internal static void WriteCreateVxlan(NetlinkWriter w, string name, VxlanOptions o, byte[]? mac, int? underlayIndex)
    {
        var info = WriteNewLinkHead(w, name, "vxlan", o.Up, o.Mtu, mac);
        var data = w.BeginNested(IFLA_INFO_DATA);
        w.AttrU32(IFLA_VXLAN_ID, (uint)o.Vni);
        if (o.Local is { } local)
            w.AttrAddress(local.AddressFamily == AddressFamily.InterNetworkV6 ? IFLA_VXLAN_LOCAL6 : IFLA_VXLAN_LOCAL, local);
        if (underlayIndex is { } u) w.AttrU32(IFLA_VXLAN_LINK, (uint)u);
        w.AttrBE16(IFLA_VXLAN_PORT, (ushort)o.Port);
        w.AttrU8(IFLA_VXLAN_LEARNING, o.Learning ? (byte)1 : (byte)0);
        w.EndNested(data);
        w.EndNested(info);
    }

    /// <summary>
    /// The VXLAN settings of a link (VNI, local address, underlay, port, learning), or null when it is no vxlan link.
    /// <c>ip -d link show NAME</c>.
    /// </summary>
    public VxlanInfo? GetVxlan(string name)
    {
        InterfaceName.Validate(name);
        List<NetlinkMessage> replies;
        try { replies = _conn.Request(RTM_GETLINK, 0, w => WriteGetLink(w, name), $"get link {name}"); }
        catch (NetlinkException e) when (IsNoDevice(e)) { throw LinkNotFound(name, inner: e); }
        foreach (var m in replies)
            if (m.Type == RTM_NEWLINK) return DecodeVxlan(m);
        return null;
    }

    internal static VxlanInfo? DecodeVxlan(NetlinkMessage m)
    {
        var r = m.Attributes<ifinfomsg>();
        while (r.Next())
        {
            if (r.Type != IFLA_LINKINFO) continue;
            var info = r.Nested();
            string? kind = null;
            VxlanInfo? v = null;
            while (info.Next())
            {
                if (info.Type == IFLA_INFO_KIND) kind = info.GetString();
                else if (info.Type == IFLA_INFO_DATA)
                {
                    int vni = 0, port = 0;
                    int? link = null;
                    IPAddress? local = null;
                    var learning = true;
                    var d = info.Nested();
                    while (d.Next())
                    {
                        switch (d.Type)
                        {
                            case IFLA_VXLAN_ID: vni = (int)d.GetU32(); break;
                            case IFLA_VXLAN_LINK: link = (int)d.GetU32(); break;
                            case IFLA_VXLAN_LOCAL: case IFLA_VXLAN_LOCAL6: local = d.GetAddress(); break;
                            case IFLA_VXLAN_PORT: port = BinaryPrimitives.ReadUInt16BigEndian(d.Value); break;
                            case IFLA_VXLAN_LEARNING: learning = d.GetU8() != 0; break;
                        }
                    }
                    v = new VxlanInfo { Vni = vni, UnderlayIndex = link, Local = local, Port = port, Learning = learning };
                }
            }
            return kind == "vxlan" ? v : null;
        }
        return null;
    }
}
