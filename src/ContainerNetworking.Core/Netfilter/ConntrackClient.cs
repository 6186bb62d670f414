using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netlink;

namespace ContainerNetworking.Netfilter;

/// <summary>
/// One direction of a connection: addresses, layer-4 protocol and ports. For ICMP and ICMPv6 the kernel keys the
/// entry on the echo identifier, type and code instead of ports (<see cref="IcmpId"/>, <see cref="IcmpType"/>,
/// <see cref="IcmpCode"/>; the ports are 0).
/// </summary>
public readonly record struct ConntrackTuple(IPAddress Source, IPAddress Destination, byte Protocol, ushort SourcePort, ushort DestinationPort)
{
    /// <summary>ICMP/ICMPv6 echo identifier (CTA_PROTO_ICMP_ID / CTA_PROTO_ICMPV6_ID).</summary>
    public ushort IcmpId { get; init; }
    /// <summary>ICMP/ICMPv6 type (CTA_PROTO_ICMP_TYPE / CTA_PROTO_ICMPV6_TYPE), e.g. 8 for an IPv4 echo request.</summary>
    public byte IcmpType { get; init; }
    /// <summary>ICMP/ICMPv6 code.</summary>
    public byte IcmpCode { get; init; }

    /// <summary>True for ICMP (1) and ICMPv6 (58), whose tuples carry id/type/code instead of ports.</summary>
    public bool IsIcmp => Protocol is IcmpProtocol or Icmpv6Protocol;

    internal const byte IcmpProtocol = 1;
    internal const byte Icmpv6Protocol = 58;
}

/// <summary>
/// What a dump asks the kernel to match (CTA_FILTER, Linux 5.8+), so that only the entries of interest cross to user
/// space whatever the size of the table: the given fields of the original (or, with <see cref="Reply"/>, the reply)
/// tuple. <c>conntrack -L -s ADDRESS</c> (original source), <c>-d</c> (original destination), <c>-r</c> (reply source),
/// <c>-p PROTO --sport/--dport</c>. Fields left null match anything; ports need <see cref="Protocol"/>.
/// </summary>
public sealed record ConntrackFilter
{
    /// <summary>Match the reply tuple instead of the original one.</summary>
    public bool Reply { get; init; }
    public IPAddress? Source { get; init; }
    public IPAddress? Destination { get; init; }
    public byte? Protocol { get; init; }
    public ushort? SourcePort { get; init; }
    public ushort? DestinationPort { get; init; }

    /// <summary>Entries whose original source is <paramref name="a"/> (<c>conntrack -L -s A</c>).</summary>
    public static ConntrackFilter OriginalSource(IPAddress a) => new() { Source = a };
    /// <summary>Entries whose original destination is <paramref name="a"/> (<c>conntrack -L -d A</c>).</summary>
    public static ConntrackFilter OriginalDestination(IPAddress a) => new() { Destination = a };
    /// <summary>Entries whose reply comes from <paramref name="a"/> (<c>conntrack -L -r A</c>): e.g. flows translated to it.</summary>
    public static ConntrackFilter ReplySource(IPAddress a) => new() { Reply = true, Source = a };

    internal uint Flags =>
        (Source is null ? 0 : Ctnl.CTA_FILTER_F_CTA_IP_SRC) | (Destination is null ? 0 : Ctnl.CTA_FILTER_F_CTA_IP_DST) |
        (Protocol is null ? 0 : Ctnl.CTA_FILTER_F_CTA_PROTO_NUM) |
        (SourcePort is null ? 0 : Ctnl.CTA_FILTER_F_CTA_PROTO_SRC_PORT) | (DestinationPort is null ? 0 : Ctnl.CTA_FILTER_F_CTA_PROTO_DST_PORT);

    internal void Validate(AddressFamily family)
    {
        foreach (var a in new[] { Source, Destination })
            if (a is not null && a.AddressFamily != family)
                throw new ArgumentException($"The conntrack filter's address {a} is not of the dump's family ({family}).");
        if ((SourcePort is not null || DestinationPort is not null) && Protocol is null)
            throw new ArgumentException("A conntrack filter on ports needs the protocol too (the kernel matches ports only with it).");
    }
}

/// <summary>A connection-tracking entry (<c>conntrack -L</c>): the original and the reply direction.</summary>
public sealed record ConntrackEntry(ConntrackTuple Original, ConntrackTuple Reply, uint Id, uint Status);

/// <summary>
/// ctnetlink (NFNL_SUBSYS_CTNETLINK over NETLINK_NETFILTER): lists connection-tracking entries and deletes them by
/// tuple, as <c>conntrack -L</c> / <c>conntrack -D</c> do.
/// </summary>
public sealed class ConntrackClient(NetlinkConnection connection)
{
    /// <summary><c>conntrack -L -f ipv4|ipv6</c>.</summary>
    public List<ConntrackEntry> List(AddressFamily family) => List(family, null);

    /// <summary>
    /// <c>conntrack -L -f ipv4|ipv6 [-s|-d|-r ADDRESS] [-p PROTO --sport/--dport PORT]</c>: with a
    /// <paramref name="filter"/> the kernel sends only the entries that match it (CTA_FILTER), so the cost of the answer
    /// does not grow with unrelated entries. (A kernel older than 5.8 ignores the filter and sends every entry.)
    /// </summary>
    public List<ConntrackEntry> List(AddressFamily family, ConntrackFilter? filter)
    {
        var v6 = family == AddressFamily.InterNetworkV6;
        var nfproto = v6 ? Nft.NFPROTO_IPV6 : Nft.NFPROTO_IPV4;
        filter?.Validate(v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork);
        var list = new List<ConntrackEntry>();
        foreach (var m in connection.Dump(Ctnl.Type(Ctnl.IPCTNL_MSG_CT_GET), w =>
        {
            w.Write(new nfgenmsg(nfproto));
            if (filter is not null && filter.Flags != 0) WriteFilter(w, filter, v6);
        }, "list conntrack entries"))
        {
            var r = m.Attributes(4);
            ConntrackTuple? orig = null, reply = null;
            uint id = 0, status = 0;
            while (r.Next())
            {
                switch (r.Type)
                {
                    case Ctnl.CTA_TUPLE_ORIG: orig = ReadTuple(r.Nested()); break;
                    case Ctnl.CTA_TUPLE_REPLY: reply = ReadTuple(r.Nested()); break;
                    case Ctnl.CTA_ID: id = r.GetBE32(); break;
                    case Ctnl.CTA_STATUS: status = r.GetBE32(); break;
                }
            }
            if (orig is { } o && reply is { } p) list.Add(new ConntrackEntry(o, p, id, status));
        }
        return list;
    }

    /// <summary><c>conntrack -C</c>: the number of entries of this namespace (IPCTNL_MSG_CT_GET_STATS, one request).</summary>
    public uint Count()
    {
        foreach (var m in connection.Request(Ctnl.Type(Ctnl.IPCTNL_MSG_CT_GET_STATS), 0, w => w.Write(new nfgenmsg(Nft.NFPROTO_UNSPEC)), "count conntrack entries"))
        {
            var r = m.Attributes(4);
            while (r.Next()) if (r.Type == Ctnl.CTA_STATS_GLOBAL_ENTRIES) return r.GetBE32();
        }
        throw new NetlinkDecodeException("IPCTNL_MSG_CT_GET_STATS answered without CTA_STATS_GLOBAL_ENTRIES");
    }

    /// <summary>
    /// <c>conntrack -D</c> for every entry <paramref name="match"/> accepts; returns how many were deleted. An entry that
    /// disappears meanwhile (ENOENT) is not an error.
    /// </summary>
    public int Delete(AddressFamily family, Func<ConntrackEntry, bool> match) => Delete(family, match, []);

    /// <summary>The table size above which <see cref="Delete(AddressFamily, Func{ConntrackEntry, bool}, IReadOnlyList{ConntrackFilter})"/> asks the kernel to filter with several dumps rather than read everything once.</summary>
    public const int FilterAbove = 1000;

    /// <summary>
    /// <c>conntrack -D</c> for every entry that one of <paramref name="filters"/> selects and <paramref name="match"/>
    /// accepts (it must accept only entries the filters select); returns how many were deleted.
    /// <para>
    /// Every dump walks the kernel's whole conntrack hash table, which all namespaces share (some milliseconds however
    /// few entries this namespace has), and then sends this namespace's entries that pass the filter. So the entries are
    /// counted first (one request): none, nothing to do; a table of this namespace with more than
    /// <see cref="FilterAbove"/> entries is read through one dump per filter, which the kernel filters (CTA_FILTER), so
    /// only the entries of interest cross to user space and the cost does not grow with the unrelated ones; a smaller
    /// one in a single unfiltered dump (one walk instead of one per filter).
    /// </para>
    /// </summary>
    public int Delete(AddressFamily family, Func<ConntrackEntry, bool> match, IReadOnlyList<ConntrackFilter> filters)
    {
        var count = Count();
        if (count == 0) return 0;
        var n = 0;
        IEnumerable<ConntrackEntry> candidates = filters.Count == 0 || (filters.Count > 1 && count <= FilterAbove) ? List(family)
            : filters.SelectMany(f => List(family, f)).DistinctBy(e => (e.Id, e.Original));
        foreach (var e in candidates.ToList())
        {
            if (!match(e)) continue;
            try
            {
                Delete(e.Original);
                n++;
            }
            catch (NetlinkException x) when (x.ErrorNumber == Interop.LibC.ENOENT) { }
        }
        return n;
    }

    /// <summary>
    /// <c>conntrack -D -f FAMILY -s A</c> (or <c>-r A</c>, <c>-p PROTO</c>…) done by the kernel: for each filter one
    /// IPCTNL_MSG_CT_DELETE with the filter's tuple and CTA_FILTER, which the kernel (Linux 6.5+) takes as "flush what
    /// matches" and does in one pass over the table's occupied buckets (an empty bucket costs a pointer read, where a
    /// dump locks each of them: 0.3 ms instead of 9 ms for this machine's 262,144 buckets), no entry crossing to user
    /// space. Every filter goes in one datagram and the answers are read together. Returns false, having deleted
    /// nothing, on a kernel that does not take a filter on delete (it reads the partial tuple as an exact one and
    /// refuses it: EINVAL): then use <see cref="Delete(AddressFamily, Func{ConntrackEntry, bool}, IReadOnlyList{ConntrackFilter})"/>.
    /// A filter must leave the tuple incomplete (no ports for TCP, UDP, SCTP, or no source or destination address with
    /// them: <c>-p udp --orig-port-dst 53</c>), or an older kernel would delete that one entry.
    /// </summary>
    public bool TryFlush(AddressFamily family, IReadOnlyList<ConntrackFilter> filters)
    {
        var v6 = family == AddressFamily.InterNetworkV6;
        var w = new NetlinkWriter(256 * Math.Max(1, filters.Count));
        var acked = new Dictionary<uint, ushort>();
        var type = Ctnl.Type(Ctnl.IPCTNL_MSG_CT_DELETE);
        foreach (var f in filters)
        {
            f.Validate(family);
            if (f.Flags == 0 || ((f.SourcePort is not null || f.DestinationPort is not null) && f.Source is not null && f.Destination is not null))
                throw new ArgumentException("A conntrack flush filter needs an address or a protocol, and ports only without one of the addresses (an older kernel would read a complete tuple as one entry to delete).");
            var seq = connection.NextSequence();
            w.BeginMessage(type, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, seq);
            w.Write(new nfgenmsg(v6 ? Nft.NFPROTO_IPV6 : Nft.NFPROTO_IPV4));
            WriteFilter(w, f, v6);
            w.EndMessage();
            acked[seq] = type;
        }
        if (acked.Count == 0) return true;
        try
        {
            connection.Transact(w, acked, "flush conntrack entries");
            return true;
        }
        catch (NetlinkException x) when (x.ErrorNumber is Interop.LibC.EINVAL or Interop.LibC.EOPNOTSUPP or Interop.LibC.ENOENT)
        {
            return false;
        }
    }

    /// <summary>
    /// <c>conntrack -D -s SRC -d DST -p PROTO --sport S --dport D</c> (for ICMP <c>-p icmp --icmp-type T --icmp-code C
    /// --icmp-id I</c>): deletes the entry with this original tuple. The kernel needs the complete tuple of the
    /// protocol: ports for TCP, UDP, SCTP, DCCP and UDP-Lite; identifier, type and code for ICMP and ICMPv6.
    /// </summary>
    public void Delete(ConntrackTuple original)
    {
        var v6 = original.Source.AddressFamily == AddressFamily.InterNetworkV6;
        connection.Execute(Ctnl.Type(Ctnl.IPCTNL_MSG_CT_DELETE), 0, w =>
        {
            w.Write(new nfgenmsg(v6 ? Nft.NFPROTO_IPV6 : Nft.NFPROTO_IPV4));
            var t = w.BeginNested(Ctnl.CTA_TUPLE_ORIG, true);
            var ip = w.BeginNested(Ctnl.CTA_TUPLE_IP, true);
            w.AttrAddress(v6 ? Ctnl.CTA_IP_V6_SRC : Ctnl.CTA_IP_V4_SRC, original.Source);
            w.AttrAddress(v6 ? Ctnl.CTA_IP_V6_DST : Ctnl.CTA_IP_V4_DST, original.Destination);
            w.EndNested(ip);
            var p = w.BeginNested(Ctnl.CTA_TUPLE_PROTO, true);
            w.AttrU8(Ctnl.CTA_PROTO_NUM, original.Protocol);
            switch (original.Protocol)
            {
                case ConntrackTuple.IcmpProtocol:
                    w.AttrBE16(Ctnl.CTA_PROTO_ICMP_ID, original.IcmpId);
                    w.AttrU8(Ctnl.CTA_PROTO_ICMP_TYPE, original.IcmpType);
                    w.AttrU8(Ctnl.CTA_PROTO_ICMP_CODE, original.IcmpCode);
                    break;
                case ConntrackTuple.Icmpv6Protocol:
                    w.AttrBE16(Ctnl.CTA_PROTO_ICMPV6_ID, original.IcmpId);
                    w.AttrU8(Ctnl.CTA_PROTO_ICMPV6_TYPE, original.IcmpType);
                    w.AttrU8(Ctnl.CTA_PROTO_ICMPV6_CODE, original.IcmpCode);
                    break;
                case 6 or 17 or 33 or 132 or 136: // tcp, udp, dccp, sctp, udplite
                    w.AttrBE16(Ctnl.CTA_PROTO_SRC_PORT, original.SourcePort);
                    w.AttrBE16(Ctnl.CTA_PROTO_DST_PORT, original.DestinationPort);
                    break;
                // other protocols (gre, generic) are keyed on addresses and protocol alone
            }
            w.EndNested(p);
            w.EndNested(t);
        }, $"delete conntrack entry {original}");
    }

    private static void WriteFilter(NetlinkWriter w, ConntrackFilter f, bool v6)
    {
        var t = w.BeginNested(f.Reply ? Ctnl.CTA_TUPLE_REPLY : Ctnl.CTA_TUPLE_ORIG, true);
        if (f.Source is not null || f.Destination is not null)
        {
            var ip = w.BeginNested(Ctnl.CTA_TUPLE_IP, true);
            if (f.Source is { } s) w.AttrAddress(v6 ? Ctnl.CTA_IP_V6_SRC : Ctnl.CTA_IP_V4_SRC, s);
            if (f.Destination is { } d) w.AttrAddress(v6 ? Ctnl.CTA_IP_V6_DST : Ctnl.CTA_IP_V4_DST, d);
            w.EndNested(ip);
        }
        if (f.Protocol is { } proto)
        {
            var p = w.BeginNested(Ctnl.CTA_TUPLE_PROTO, true);
            w.AttrU8(Ctnl.CTA_PROTO_NUM, proto);
            if (f.SourcePort is { } sp) w.AttrBE16(Ctnl.CTA_PROTO_SRC_PORT, sp);
            if (f.DestinationPort is { } dp) w.AttrBE16(Ctnl.CTA_PROTO_DST_PORT, dp);
            w.EndNested(p);
        }
        w.EndNested(t);
        var filter = w.BeginNested(Ctnl.CTA_FILTER, true);
        w.AttrU32(f.Reply ? Ctnl.CTA_FILTER_REPLY_FLAGS : Ctnl.CTA_FILTER_ORIG_FLAGS, f.Flags);
        w.EndNested(filter);
    }

    private static ConntrackTuple ReadTuple(AttributeReader r)
    {
        IPAddress src = IPAddress.None, dst = IPAddress.None;
        byte proto = 0, type = 0, code = 0;
        ushort sp = 0, dp = 0, icmpId = 0;
        while (r.Next())
        {
            if (r.Type == Ctnl.CTA_TUPLE_IP)
            {
                var a = r.Nested();
                while (a.Next())
                {
                    switch (a.Type)
                    {
                        case Ctnl.CTA_IP_V4_SRC or Ctnl.CTA_IP_V6_SRC: src = a.GetAddress(); break;
                        case Ctnl.CTA_IP_V4_DST or Ctnl.CTA_IP_V6_DST: dst = a.GetAddress(); break;
                    }
                }
            }
            else if (r.Type == Ctnl.CTA_TUPLE_PROTO)
            {
                var p = r.Nested();
                while (p.Next())
                {
                    switch (p.Type)
                    {
                        case Ctnl.CTA_PROTO_NUM: proto = p.GetU8(); break;
                        case Ctnl.CTA_PROTO_SRC_PORT: sp = p.GetBE16(); break;
                        case Ctnl.CTA_PROTO_DST_PORT: dp = p.GetBE16(); break;
                        case Ctnl.CTA_PROTO_ICMP_ID or Ctnl.CTA_PROTO_ICMPV6_ID: icmpId = p.GetBE16(); break;
                        case Ctnl.CTA_PROTO_ICMP_TYPE or Ctnl.CTA_PROTO_ICMPV6_TYPE: type = p.GetU8(); break;
                        case Ctnl.CTA_PROTO_ICMP_CODE or Ctnl.CTA_PROTO_ICMPV6_CODE: code = p.GetU8(); break;
                    }
                }
            }
        }
        return new ConntrackTuple(src, dst, proto, sp, dp) { IcmpId = icmpId, IcmpType = type, IcmpCode = code };
    }
}
