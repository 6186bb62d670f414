using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netlink;
using ContainerNetworking.Values;
using static ContainerNetworking.Route.RtnlConstants;

namespace ContainerNetworking.Route;

public sealed partial class RouteClient
{
    // ---- routes -----------------------------------------------------------------------------------------------

    /// <summary>The routes of one table (main unless given), of one family or both. <c>ip [-4|-6] route show table T</c>.</summary>
    public IReadOnlyList<RouteInfo> GetRoutes(AddressFamily? family = null, uint table = RT_TABLE_MAIN)
    {
        var fam = family is { } f ? RtnlValidation.Family(f) : AF_UNSPEC;
        List<NetlinkMessage> msgs;
        // A namespace without a single route of the family has no FIB table yet: the kernel answers ENOENT, ip shows nothing.
        try { msgs = _conn.Dump(RTM_GETROUTE, w => WriteDumpRoutes(w, fam, table), "list routes"); }
        catch (NetlinkException e) when (e.ErrorNumber == 2 /* ENOENT */) { return []; }
        Dictionary<int, string>? names = null;
        var result = new List<RouteInfo>(msgs.Count);
        foreach (var m in msgs)
        {
            if (DecodeRoute(m, NamespaceName) is not { } r) continue;
            if (r.Table != table) continue;
            if (fam != AF_UNSPEC && RtnlValidation.Family(r.Family) != fam) continue;
            if (r.OutputInterfaceIndex is { } oif)
            {
                names ??= LinkNames();
                if (names.TryGetValue(oif, out var n)) r = r with { OutputInterface = n };
            }
            result.Add(r);
        }
        return result;
    }

    /// <summary>
    /// The route the kernel would use to reach <paramref name="destination"/>: one lookup, not a dump.
    /// <c>ip route get ADDRESS</c>. The output interface's name is not resolved (see <see cref="RouteInfo.OutputInterfaceIndex"/>).
    /// Throws NetlinkException (ENETUNREACH) when there is no route.
    /// </summary>
    public RouteInfo GetRouteTo(IPAddress destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var replies = _conn.Request(RTM_GETROUTE, 0, w => WriteGetRouteTo(w, destination), $"route get {destination}");
        foreach (var m in replies)
            if (m.Type == RTM_NEWROUTE && DecodeRoute(m, NamespaceName) is { } r) return r;
        throw new NetlinkDecodeException($"RTM_GETROUTE for {destination} was acknowledged without a route");
    }

    internal static void WriteGetRouteTo(NetlinkWriter w, IPAddress destination)
    {
        var v6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
        w.Write(new rtmsg { rtm_family = v6 ? AF_INET6 : AF_INET, rtm_dst_len = (byte)(v6 ? 128 : 32) });
        w.AttrAddress(RTA_DST, destination);
    }

    /// <summary>
    /// Adds a route, or replaces one with the same destination, table and metric.
    /// <c>ip route add|replace DEST [via GW] [dev IF] [metric M] [scope S] [src A] [table T] [proto P]</c>.
    /// </summary>
    public void AddRoute(RouteSpec route, bool replace = false)
    {
        var oif = ValidateRoute(route, delete: false);
        var flags = (ushort)(Nl.NLM_F_CREATE | (replace ? Nl.NLM_F_REPLACE : Nl.NLM_F_EXCL));
        _conn.Execute(RTM_NEWROUTE, flags, w => WriteRoute(w, route, oif, delete: false), $"{(replace ? "replace" : "add")} route {Describe(route)}");
    }

    /// <summary>A route as ip writes it, for error messages: "10.0.0.0/8 via 192.168.15.254 dev br0 metric 100".</summary>
    private static string Describe(RouteSpec r) =>
        $"{r.Destination}{(r.Gateway is null ? "" : " via " + r.Gateway)}{(r.Interface is null ? "" : " dev " + r.Interface)}{(r.Metric is null ? "" : " metric " + r.Metric)}";

    /// <summary>
    /// Removes a route: the first that matches what is given, as the kernel does, so a destination alone removes the
    /// route to it. <c>ip route del DEST [via GW] [dev IF] [metric M] [table T]</c>. Throws RouteNotFound when none matches.
    /// </summary>
    public void RemoveRoute(RouteSpec route)
    {
        var oif = ValidateRoute(route, delete: true);
        try { _conn.Execute(RTM_DELROUTE, 0, w => WriteRoute(w, route, oif, delete: true), $"remove route {Describe(route)}"); }
        catch (NetlinkException e) when (e.ErrorNumber == Interop.LibC.ESRCH) // no such route
        {
            throw new ContainerNetworkingException("RouteNotFound", ErrorKind.NotFound,
                $"There is no route to {route.Destination}{(route.Gateway is null ? "" : " via " + route.Gateway)}{(route.Interface is null ? "" : " dev " + route.Interface)} in {Where}; nothing to remove. " +
                $"List the routes with Get-NetRoute{NsArg} or '{IpCmd} route show'.", e);
        }
    }

    /// <summary>Adds a default route via a gateway. <c>ip route add default via GW [dev IF] [metric M]</c>.</summary>
    public void AddDefaultRoute(IPAddress gateway, string? interfaceName = null, uint? metric = null)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        var dest = gateway.AddressFamily == AddressFamily.InterNetworkV6
            ? new IPNetwork(IPAddress.IPv6Any, 0)
            : new IPNetwork(IPAddress.Any, 0);
        AddRoute(new RouteSpec { Destination = dest, Gateway = gateway, Interface = interfaceName, Metric = metric });
    }

    private int ValidateRoute(RouteSpec route, bool delete)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (route.Destination.BaseAddress is null)
            throw RtnlValidation.Invalid("InvalidRoute", "The route has no destination. Give a prefix such as 10.0.0.0/24, or 0.0.0.0/0 for a default route.");
        var family = route.Destination.BaseAddress.AddressFamily;
        IPPrefix.ValidateLength(route.Destination.BaseAddress, route.Destination.PrefixLength);
        if (route.Gateway is { } gw && gw.AddressFamily != family)
            throw RtnlValidation.Invalid("InvalidRoute", $"Gateway {gw} and destination {route.Destination} are of different address families. Use a gateway of the destination's family.");
        if (route.Source is { } src && src.AddressFamily != family)
            throw RtnlValidation.Invalid("InvalidRoute", $"Source {src} and destination {route.Destination} are of different address families.");
        if (!delete && route.Gateway is null && route.Interface is null)
            throw RtnlValidation.Invalid("InvalidRoute", $"Route {route.Destination} has neither a gateway nor an interface. Give -NextHop, -InterfaceAlias, or both.");
        if (route.Table == 0)
            throw RtnlValidation.Invalid("InvalidRoute", "Table 0 is not a routing table. Use 254 (main) or another table number.");
        if (route.Interface is null) return 0;
        InterfaceName.Validate(route.Interface);
        return IndexOf(route.Interface);
    }

    internal static void WriteDumpRoutes(NetlinkWriter w, byte family, uint table)
    {
        w.Write(new rtmsg { rtm_family = family, rtm_table = table < 256 ? (byte)table : (byte)0 });
        if (table >= 256) w.AttrU32(RTA_TABLE, table);
    }

    /// <summary>The body of RTM_NEWROUTE / RTM_DELROUTE as iproute2's iproute_modify builds it.</summary>
    internal static void WriteRoute(NetlinkWriter w, RouteSpec route, int oifIndex, bool delete)
    {
        var v6 = route.Destination.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6;
        byte scope;
        if (route.Scope is { } s) scope = s;
        else if (delete) scope = RT_SCOPE_NOWHERE;
        else if (!v6 && route.Gateway is null) scope = RT_SCOPE_LINK;
        else scope = RT_SCOPE_UNIVERSE;
        w.Write(new rtmsg
        {
            rtm_family = v6 ? AF_INET6 : AF_INET,
            rtm_dst_len = (byte)route.Destination.PrefixLength,
            rtm_table = route.Table < 256 ? (byte)route.Table : (byte)RT_TABLE_UNSPEC,
            rtm_protocol = delete ? RTPROT_UNSPEC : route.Protocol,
            rtm_scope = scope,
            rtm_type = delete ? RTN_UNSPEC : RTN_UNICAST,
            rtm_flags = route.OnLink && !delete ? RTNH_F_ONLINK : 0,
        });
        if (route.Table >= 256) w.AttrU32(RTA_TABLE, route.Table);
        if (route.Destination.PrefixLength > 0) w.AttrAddress(RTA_DST, route.Destination.BaseAddress);
        if (route.Gateway is { } gw) w.AttrAddress(RTA_GATEWAY, gw);
        if (route.Source is { } src) w.AttrAddress(RTA_PREFSRC, src);
        if (route.Metric is { } metric) w.AttrU32(RTA_PRIORITY, metric);
        if (oifIndex != 0) w.AttrU32(RTA_OIF, (uint)oifIndex);
    }

    /// <summary>Decodes an RTM_NEWROUTE message; null for other types and for families other than IPv4 and IPv6.</summary>
    internal static RouteInfo? DecodeRoute(NetlinkMessage m, string? ns)
    {
        if (m.Type != RTM_NEWROUTE) return null;
        var h = m.ReadHeader<rtmsg>();
        if (h.rtm_family != AF_INET && h.rtm_family != AF_INET6) return null;
        var family = h.rtm_family == AF_INET ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        var max = family == AddressFamily.InterNetwork ? 32 : 128;
        if (h.rtm_dst_len > max) throw new NetlinkDecodeException($"RTM_NEWROUTE: prefix length {h.rtm_dst_len} is too long for family {h.rtm_family}");
        IPAddress? dst = null, gw = null, src = null;
        int? oif = null;
        uint? metric = null;
        uint table = h.rtm_table;
        var r = m.Attributes<rtmsg>();
        while (r.Next())
        {
            switch (r.Type)
            {
                case RTA_DST: dst = r.GetAddress(); break;
                case RTA_GATEWAY: gw = r.GetAddress(); break;
                case RTA_PREFSRC: src = r.GetAddress(); break;
                case RTA_OIF: oif = (int)r.GetU32(); break;
                case RTA_PRIORITY: metric = r.GetU32(); break;
                case RTA_TABLE: table = r.GetU32(); break;
            }
        }
        dst ??= family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any;
        if (dst.AddressFamily != family) throw new NetlinkDecodeException($"RTM_NEWROUTE: destination {dst} does not match family {h.rtm_family}");
        return new RouteInfo
        {
            Family = family,
            Destination = Network(dst, h.rtm_dst_len),
            Gateway = gw,
            OutputInterfaceIndex = oif,
            Metric = metric,
            Scope = h.rtm_scope,
            Protocol = h.rtm_protocol,
            Type = h.rtm_type,
            Table = table,
            PreferredSource = src,
            IsDefault = h.rtm_dst_len == 0,
            OnLink = (h.rtm_flags & RTNH_F_ONLINK) != 0,
            NetNamespace = ns,
        };
    }

    /// <summary>A prefix from an address and a length, host bits cleared (the kernel never sends them set, but a decoder cannot assume it).</summary>
    private static IPNetwork Network(IPAddress address, int prefixLength) => IPPrefix.Network(address, prefixLength);
}
