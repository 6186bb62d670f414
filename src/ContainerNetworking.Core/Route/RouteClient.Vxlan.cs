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
        w.Write(new ifinfomsg { ifi_family = AF_UNSPEC, ifi_flags = o.Up ? IFF_UP : 0, ifi_change = o.Up ? IFF_UP : 0 });
        w.AttrString(IFLA_IFNAME, name);
        if (o.Mtu is { } mtu) w.AttrU32(IFLA_MTU, (uint)mtu);
        if (mac is not null) w.Attr(IFLA_ADDRESS, mac);
        var info = w.BeginNested(IFLA_LINKINFO);
        w.AttrString(IFLA_INFO_KIND, "vxlan");
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

    // ---- neighbours -------------------------------------------------------------------------------------------

    /// <summary>
    /// Adds (or, with <paramref name="replace"/>, replaces) a permanent neighbour entry.
    /// <c>ip neigh add|replace ADDRESS lladdr MAC dev NAME nud permanent</c>.
    /// </summary>
    public void AddNeighbor(string interfaceName, IPAddress address, string macAddress, bool replace = false)
    {
        ArgumentNullException.ThrowIfNull(address);
        var mac = MacAddress.Parse(macAddress);
        var index = IndexOf(ValidName(interfaceName));
        var flags = (ushort)(Nl.NLM_F_CREATE | (replace ? Nl.NLM_F_REPLACE : Nl.NLM_F_EXCL));
        _conn.Execute(RTM_NEWNEIGH, flags, w => WriteNeighbor(w, index, address, mac), $"{(replace ? "replace" : "add")} neighbour {address} dev {interfaceName}");
    }

    /// <summary>Removes a neighbour entry. <c>ip neigh del ADDRESS dev NAME</c>. Throws NeighborNotFound when there is none.</summary>
    public void RemoveNeighbor(string interfaceName, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var index = IndexOf(ValidName(interfaceName));
        try { _conn.Execute(RTM_DELNEIGH, 0, w => WriteNeighbor(w, index, address, null), $"remove neighbour {address} dev {interfaceName}"); }
        catch (NetlinkException e) when (e.ErrorNumber == 2 /* ENOENT */)
        {
            throw new ContainerNetworkingException("NeighborNotFound", ErrorKind.NotFound,
                $"There is no neighbour entry for {address} on {interfaceName} in {Where}; nothing to remove. List them with Get-NetNeighbor{NsArg} or '{IpCmd} neigh show'.", e);
        }
    }

    internal static void WriteNeighbor(NetlinkWriter w, int index, IPAddress address, byte[]? mac)
    {
        w.Write(new ndmsg
        {
            ndm_family = address.AddressFamily == AddressFamily.InterNetworkV6 ? AF_INET6 : AF_INET,
            ndm_ifindex = index,
            ndm_state = mac is null ? (ushort)0 : NUD_PERMANENT,
        });
        w.AttrAddress(NDA_DST, address);
        if (mac is not null) w.Attr(NDA_LLADDR, mac);
    }

    // ---- FDB --------------------------------------------------------------------------------------------------

    /// <summary>
    /// Adds (or, with <paramref name="replace"/>, replaces) a permanent FDB entry of a device itself (NTF_SELF): on a
    /// VXLAN device with <paramref name="destination"/> it sends frames for <paramref name="macAddress"/> to that
    /// remote VTEP. <c>bridge fdb add|replace MAC dev NAME [dst ADDRESS] self permanent</c>.
    /// </summary>
    public void AddFdb(string interfaceName, string macAddress, IPAddress? destination = null, bool replace = false)
    {
        var mac = MacAddress.Parse(macAddress);
        var index = IndexOf(ValidName(interfaceName));
        var flags = (ushort)(Nl.NLM_F_CREATE | (replace ? Nl.NLM_F_REPLACE : Nl.NLM_F_EXCL));
        _conn.Execute(RTM_NEWNEIGH, flags, w => WriteFdb(w, index, mac, destination, add: true),
            $"{(replace ? "replace" : "add")} fdb {macAddress} dev {interfaceName}{(destination is null ? "" : " dst " + destination)}");
    }

    /// <summary>
    /// Removes an FDB entry of a device (NTF_SELF), the one to <paramref name="destination"/> when given.
    /// <c>bridge fdb del MAC dev NAME [dst ADDRESS] self</c>. Throws FdbEntryNotFound when there is none.
    /// </summary>
    public void RemoveFdb(string interfaceName, string macAddress, IPAddress? destination = null)
    {
        var mac = MacAddress.Parse(macAddress);
        var index = IndexOf(ValidName(interfaceName));
        try { _conn.Execute(RTM_DELNEIGH, 0, w => WriteFdb(w, index, mac, destination, add: false), $"remove fdb {macAddress} dev {interfaceName}"); }
        catch (NetlinkException e) when (e.ErrorNumber == 2 /* ENOENT */)
        {
            throw new ContainerNetworkingException("FdbEntryNotFound", ErrorKind.NotFound,
                $"There is no FDB entry for {macAddress} on {interfaceName}{(destination is null ? "" : " to " + destination)} in {Where}; nothing to remove. " +
                $"List them with Get-BridgeFdb{NsArg} or 'bridge{(NamespaceName is null ? "" : " -n " + NamespaceName)} fdb show dev {interfaceName}'.", e);
        }
    }

    internal static void WriteFdb(NetlinkWriter w, int index, byte[] mac, IPAddress? destination, bool add)
    {
        w.Write(new ndmsg { ndm_family = AF_BRIDGE, ndm_ifindex = index, ndm_state = add ? NUD_PERMANENT : (ushort)0, ndm_flags = NTF_SELF });
        w.Attr(NDA_LLADDR, mac);
        if (destination is not null) w.AttrAddress(NDA_DST, destination);
    }

    private static string ValidName(string name)
    {
        InterfaceName.Validate(name);
        return name;
    }
}
