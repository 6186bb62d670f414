using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netlink;
using ContainerNetworking.Values;
using static ContainerNetworking.Route.RtnlConstants;

namespace ContainerNetworking.Route;

public sealed partial class RouteClient
{
    /// <summary>
    /// The addresses of every interface, or of one, of one family or both. <c>ip addr show [dev NAME]</c>
    /// (<c>ip -4 …</c> / <c>ip -6 …</c> for a family).
    /// </summary>
    public IReadOnlyList<AddressInfo> GetAddresses(string? interfaceName = null, AddressFamily? family = null)
    {
        return DumpPerInterface(RTM_GETADDR, "list addresses", interfaceName, family, WriteDumpAddresses,
            m => DecodeAddress(m, NamespaceName), a => (a.InterfaceIndex, a.Family), (a, n) => a with { InterfaceName = n });
    }

    /// <summary>
    /// Adds an address. <c>ip addr add ADDRESS/PREFIX brd + dev NAME</c>: for IPv4 the broadcast address is computed
    /// from the prefix (none for /31 and /32). IPv6 addresses are added with IFA_F_NODAD (<c>nodad</c>): duplicate address
    /// detection is skipped so the address is usable at once rather than "tentative" for a second or two; on a veth or
    /// bridge that only this host numbers that is safe.
    /// </summary>
    public void AddAddress(string interfaceName, IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        InterfaceName.Validate(interfaceName);
        IPPrefix.ValidateLength(address, prefixLength);
        var index = IndexOf(interfaceName);
        _conn.Execute(RTM_NEWADDR, CreateFlags, w => WriteAddress(w, index, address, prefixLength, add: true),
            $"add address {address}/{prefixLength} to {interfaceName}");
    }

    /// <summary>Removes an address. <c>ip addr del ADDRESS/PREFIX dev NAME</c>.</summary>
    public void RemoveAddress(string interfaceName, IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        InterfaceName.Validate(interfaceName);
        IPPrefix.ValidateLength(address, prefixLength);
        var index = IndexOf(interfaceName);
        _conn.Execute(RTM_DELADDR, 0, w => WriteAddress(w, index, address, prefixLength, add: false),
            $"remove address {address}/{prefixLength} from {interfaceName}");
    }

    internal static void WriteDumpAddresses(NetlinkWriter w, byte family, int index) =>
        w.Write(new ifaddrmsg { ifa_family = family, ifa_index = index });

    internal static void WriteAddress(NetlinkWriter w, int index, IPAddress address, int prefixLength, bool add)
    {
        var v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        w.Write(new ifaddrmsg
        {
            ifa_family = v6 ? AF_INET6 : AF_INET,
            ifa_prefixlen = (byte)prefixLength,
            ifa_flags = add && v6 ? (byte)IFA_F_NODAD : (byte)0,
            ifa_scope = !v6 && address.GetAddressBytes()[0] == 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE,
            ifa_index = index,
        });
        w.AttrAddress(IFA_LOCAL, address);
        w.AttrAddress(IFA_ADDRESS, address);
        if (add && !v6 && prefixLength <= 30) w.AttrAddress(IFA_BROADCAST, Broadcast(address, prefixLength));
    }

    /// <summary>The IPv4 broadcast address of a prefix (host bits all ones).</summary>
    internal static IPAddress Broadcast(IPAddress address, int prefixLength)
    {
        var b = address.GetAddressBytes();
        var host = prefixLength == 0 ? uint.MaxValue : uint.MaxValue >> prefixLength;
        var v = ((uint)b[0] << 24 | (uint)b[1] << 16 | (uint)b[2] << 8 | b[3]) | host;
        return new IPAddress([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
    }

    /// <summary>Decodes an RTM_NEWADDR message; null for other types and families.</summary>
    internal static AddressInfo? DecodeAddress(NetlinkMessage m, string? ns)
    {
        if (m.Type != RTM_NEWADDR) return null;
        var h = m.ReadHeader<ifaddrmsg>();
        if (h.ifa_family != AF_INET && h.ifa_family != AF_INET6) return null;
        IPAddress? local = null, addr = null, brd = null;
        string? label = null;
        uint flags = h.ifa_flags;
        var r = m.Attributes<ifaddrmsg>();
        while (r.Next())
        {
            switch (r.Type)
            {
                case IFA_LOCAL: local = r.GetAddress(); break;
                case IFA_ADDRESS: addr = r.GetAddress(); break;
                case IFA_BROADCAST: brd = r.GetAddress(); break;
                case IFA_LABEL: label = r.GetString(); break;
                case IFA_FLAGS: flags = r.GetU32(); break;
            }
        }
        var a = local ?? addr ?? throw new NetlinkDecodeException($"RTM_NEWADDR for ifindex {h.ifa_index} has neither IFA_LOCAL nor IFA_ADDRESS");
        var family = h.ifa_family == AF_INET ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        if (a.AddressFamily != family) throw new NetlinkDecodeException($"RTM_NEWADDR: address {a} does not match family {h.ifa_family}");
        return new AddressInfo
        {
            InterfaceIndex = h.ifa_index,
            Address = a,
            PrefixLength = h.ifa_prefixlen,
            Family = family,
            Scope = h.ifa_scope,
            Broadcast = brd,
            Label = label,
            Flags = flags,
            NetNamespace = ns,
        };
    }
}
