using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netlink;
using ContainerNetworking.Values;
using static ContainerNetworking.Route.RtnlConstants;

namespace ContainerNetworking.Route;

// Neighbours (ARP and NDP): read, added and removed (ip neigh).
public sealed partial class RouteClient
{
    /// <summary>
    /// The neighbour (ARP and NDP) table, all states included. <c>ip [-4|-6] neigh show nud all [dev NAME]</c>.
    /// </summary>
    public IReadOnlyList<NeighborInfo> GetNeighbors(AddressFamily? family = null, string? interfaceName = null)
    {
        return DumpPerInterface(RTM_GETNEIGH, "list neighbours", interfaceName, family, WriteDumpNeighbors,
            m => DecodeNeighbor(m, NamespaceName), n => (n.InterfaceIndex, n.Address.AddressFamily), (n, name) => n with { InterfaceName = name });
    }

    internal static void WriteDumpNeighbors(NetlinkWriter w, byte family, int index)
    {
        w.Write(new ndmsg { ndm_family = family });
        if (index != 0) w.AttrU32(NDA_IFINDEX, (uint)index);
    }

    /// <summary>Decodes an RTM_NEWNEIGH message of the IPv4 or IPv6 neighbour table; null for others (e.g. FDB entries).</summary>
    internal static NeighborInfo? DecodeNeighbor(NetlinkMessage m, string? ns)
    {
        if (m.Type != RTM_NEWNEIGH) return null;
        var h = m.ReadHeader<ndmsg>();
        if (h.ndm_family != AF_INET && h.ndm_family != AF_INET6) return null;
        IPAddress? dst = null;
        string? mac = null;
        var r = m.Attributes<ndmsg>();
        while (r.Next())
        {
            if (r.Type == NDA_DST) dst = r.GetAddress();
            else if (r.Type == NDA_LLADDR) mac = MacAddress.Format(r.Value);
        }
        if (dst is null) return null;
        return new NeighborInfo
        {
            InterfaceIndex = h.ndm_ifindex,
            Address = dst,
            MacAddress = string.IsNullOrEmpty(mac) ? null : mac,
            State = NeighborStateName(h.ndm_state),
            NetNamespace = ns,
        };
    }


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

    private static string ValidName(string name)
    {
        InterfaceName.Validate(name);
        return name;
    }
}
