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

/// <summary>A connection-tracking entry (<c>conntrack -L</c>): the original and the reply direction.</summary>
public sealed record ConntrackEntry(ConntrackTuple Original, ConntrackTuple Reply, uint Id, uint Status);

/// <summary>
/// ctnetlink (NFNL_SUBSYS_CTNETLINK over NETLINK_NETFILTER): lists connection-tracking entries and deletes them by
/// tuple, as <c>conntrack -L</c> / <c>conntrack -D</c> do.
/// </summary>
public sealed class ConntrackClient(NetlinkConnection connection)
{
    /// <summary><c>conntrack -L -f ipv4|ipv6</c>.</summary>
    public List<ConntrackEntry> List(AddressFamily family)
    {
        var nfproto = family == AddressFamily.InterNetworkV6 ? Nft.NFPROTO_IPV6 : Nft.NFPROTO_IPV4;
        var list = new List<ConntrackEntry>();
        foreach (var m in connection.Dump(Ctnl.Type(Ctnl.IPCTNL_MSG_CT_GET), w => w.Write(new nfgenmsg(nfproto)), "list conntrack entries"))
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
    public int Delete(AddressFamily family, Func<ConntrackEntry, bool> match)
    {
        // A dump walks the kernel's whole conntrack hash table (shared by every namespace: milliseconds even when this
        // namespace has no entry); an empty table is known from one counter.
        if (Count() == 0) return 0;
        var n = 0;
        foreach (var e in List(family))
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
