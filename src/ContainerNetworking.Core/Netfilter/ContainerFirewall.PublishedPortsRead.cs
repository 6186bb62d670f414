using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netlink;
using static ContainerNetworking.Netfilter.FirewallLayout;

namespace ContainerNetworking.Netfilter;

// Reading published ports back and unpublishing them (with their conntrack entries).
public sealed partial class ContainerFirewall
{
    /// <summary>The published ports (<c>nft list map inet containernetworking ports4</c> …), grouped back into the ranges published, with counters.</summary>
    public IReadOnlyList<PortMapping> GetPublishedPorts()
    {
        if (!_nft.TableExists(Family, TableName)) return [];
        var result = new List<PortMapping>();
        foreach (var map in new[] { MapPorts4, MapHostPorts4, MapPorts6, MapHostPorts6 })
        {
            var v6 = map is MapPorts6 or MapHostPorts6;
            var bound = map is MapHostPorts4 or MapHostPorts6;
            var alen = v6 ? 16 : 4;
            var items = new List<(PortProtocol Proto, IPAddress? Host, int HostPort, IPAddress Container, int ContainerPort, string Comment, ulong P, ulong B)>();
            foreach (var e in _nft.ListElements(Family, TableName, map))
            {
                var k = e.Key;
                var klen = (bound ? alen : 0) + 8;
                if (k.Length < klen || e.Data is not { } d || d.Length < alen + 2) continue;
                var host = bound ? new IPAddress(k.AsSpan(0, alen)) : null;
                var off = bound ? alen : 0;
                var proto = (PortProtocol)k[off];
                var hp = BinaryPrimitives.ReadUInt16BigEndian(k.AsSpan(off + 4));
                var ca = new IPAddress(d.AsSpan(0, alen));
                var cp = BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(alen));
                items.Add((proto, host, hp, ca, cp, e.Comment ?? "", e.Packets, e.Bytes));
            }
            // One published range = the elements that share protocol, host address, comment (which names the range) and offset.
            foreach (var g in items.GroupBy(i => (i.Proto, Host: i.Host?.ToString(), i.Comment, i.Container, Delta: i.ContainerPort - i.HostPort))
                         .OrderBy(g => g.Min(i => i.HostPort)))
            {
                var sorted = g.OrderBy(i => i.HostPort).ToList();
                // split where ports are not contiguous (elements without our comment)
                var start = 0;
                for (var i = 1; i <= sorted.Count; i++)
                {
                    if (i < sorted.Count && sorted[i].HostPort == sorted[i - 1].HostPort + 1) continue;
                    var first = sorted[start];
                    var last = sorted[i - 1];
                    var owner = RuleComment.Parse(first.Comment, RuleComment.Publish)?.Owner;
                    ulong p = 0, b = 0;
                    for (var j = start; j < i; j++) { p += sorted[j].P; b += sorted[j].B; }
                    result.Add(new PortMapping(first.Proto, first.Host, first.HostPort, last.HostPort, first.Container, first.ContainerPort, last.ContainerPort, owner, p, b));
                    start = i;
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Unpublishes the mapping that holds host port <paramref name="hostPort"/> (its whole range): deletes its map elements
    /// in one batch and then the conntrack entries still translated by it (<c>conntrack -D</c>), so no stale (UDP) flow
    /// keeps reaching the container. Throws PortNotPublished when there is none. The mapping is found by its key
    /// (<c>nft get element …</c>: the element's comment names the range it was published with), not by reading every
    /// published port, so the cost does not grow with their number. The counters returned are those of that one port.
    /// </summary>
    public PortMapping Unpublish(PortProtocol protocol, int hostPort, IPAddress? hostAddress = null, AddressFamily family = AddressFamily.InterNetwork) =>
        Unpublish(protocol, hostPort, hostAddress, family, flushConntrack: true);

    /// <summary>
    /// As the public overload; <paramref name="expectedContainer"/> (when given) must be the mapping's target, or it is
    /// treated as not published (the port now belongs to someone else and is left alone).
    /// </summary>
    internal PortMapping Unpublish(PortProtocol protocol, int hostPort, IPAddress? hostAddress, AddressFamily family, bool flushConntrack,
        IPAddress? expectedContainer = null)
    {
        var host = hostAddress is null ? null : Normalize(hostAddress);
        if (host is not null && (host.Equals(IPAddress.Any) || host.Equals(IPAddress.IPv6Any))) host = null;
        var v6 = host is not null ? IsV6(host) : family == AddressFamily.InterNetworkV6;
        ContainerNetworkingException NotPublished() => new("PortNotPublished", ErrorKind.NotFound,
            $"Host port {(host is null ? "" : host + ":")}{hostPort}/{protocol.ToString().ToLowerInvariant()} is not published. List the published ports with Get-ContainerPort.");
        if (hostPort is < 1 or > 65535 || !Enum.IsDefined(protocol)) throw NotPublished();
        var probe = new Normalized(protocol, host, hostPort, hostPort, v6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 1, 1, null);
        var e = _nft.GetElement(Family, TableName, probe.Map, Key(probe, hostPort)) ?? throw NotPublished();
        var alen = v6 ? 16 : 4;
        if (e.Data is not { } d || d.Length < alen + 2) throw NotPublished();
        var container = new IPAddress(d.AsSpan(0, alen));
        if (expectedContainer is not null && !Normalize(expectedContainer).Equals(container)) throw NotPublished();
        var cport = BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(alen));
        // "cn:publish FIRST-LAST[ owner=…]" names the range; an element without it (added by hand) is one port.
        int first = hostPort, last = hostPort;
        string? owner = null;
        if (RuleComment.Parse(e.Comment, RuleComment.Publish) is { } c)
        {
            owner = c.Owner;
            if (c.ToPublishedRange() is { } r && r.First <= hostPort && hostPort <= r.Last) (first, last) = r;
        }
        var cfirst = cport - (hostPort - first);
        var mapping = new PortMapping(protocol, host, first, last, container, cfirst, cfirst + (last - first), owner, e.Packets, e.Bytes);
        try
        {
            return Unpublish(mapping, flushConntrack);
        }
        catch (ContainerNetworkingException x) when (x.ErrorId == "PortNotPublished" && first != last)
        {
            // Part of the range is gone (deleted by hand): fall back to the contiguous piece that holds the port.
            var m = GetPublishedPorts().FirstOrDefault(p => p.Protocol == protocol && IsV6(p.ContainerAddress) == v6 &&
                        Equals(p.HostAddress, host) && p.HostPort <= hostPort && hostPort <= p.HostPortEnd) ?? throw NotPublished();
            return Unpublish(m, flushConntrack);
        }
    }

    /// <summary>
    /// True when host port <paramref name="hostPort"/> is published for <paramref name="protocol"/> on
    /// <paramref name="hostAddress"/> or in a way that overlaps it: looked up by key in the map of every address, and for
    /// a mapping on every address also in the host-address-bound map. A host address (0.0.0.0 and :: included) looks in
    /// its family's maps; null (Docker's bare <c>8080:80</c>, published for both families) in both families'. Every
    /// lookup goes in one datagram (one round trip).
    /// </summary>
    public bool IsPublished(PortProtocol protocol, int hostPort, IPAddress? hostAddress = null)
    {
        if (hostPort is < 1 or > 65535) return false;
        var (families, host) = Lookup(hostAddress);
        var lookups = new List<(string Set, byte[]? Key)>();
        var bound = new List<(string Set, byte[]? Key)>();
        foreach (var v6 in families)
        {
            var unbound = new Normalized(protocol, null, hostPort, hostPort, v6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 1, 1, null);
            lookups.Add((unbound.Map, Key(unbound, hostPort)));
            // on an address: its element; on every address: the bound map's elements, read whole (a dump: after the gets)
            bound.Add(host is null ? (v6 ? MapHostPorts6 : MapHostPorts4, null) : ((unbound with { HostAddress = host }).Map, Key(unbound with { HostAddress = host }, hostPort)));
        }
        lookups.AddRange(bound);
        var found = _nft.LookupElements(Family, TableName, lookups);
        var held = new PublishedHostPorts();
        for (var i = 0; i < lookups.Count; i++)
            foreach (var e in found[i]) held.Add(lookups[i].Set, e.Key);
        return held.Holds(protocol, hostPort, hostAddress);
    }

    /// <summary>
    /// The host ports of every port map (<c>nft list map</c> of the four, in one round trip), to test many candidate
    /// ports against (<see cref="PublishedHostPorts.Holds"/>, as <see cref="IsPublished"/>) without asking the kernel
    /// for each: a host port is chosen from them.
    /// </summary>
    public PublishedHostPorts GetPublishedHostPorts()
    {
        string[] maps = [MapPorts4, MapPorts6, MapHostPorts4, MapHostPorts6];
        var found = _nft.LookupElements(Family, TableName, [.. maps.Select(m => (m, (byte[]?)null))]);
        var held = new PublishedHostPorts();
        for (var i = 0; i < maps.Length; i++)
            foreach (var e in found[i]) held.Add(maps[i], e.Key);
        return held;
    }

    /// <summary>The families whose maps a host address is looked up in, and the address as the bound maps key it (none: every address).</summary>
    internal static (bool[] V6, IPAddress? Host) Lookup(IPAddress? hostAddress)
    {
        var host = hostAddress is null ? null : Normalize(hostAddress);
        var families = host is null ? [false, true] : new[] { IsV6(host) };
        if (host is not null && (host.Equals(IPAddress.Any) || host.Equals(IPAddress.IPv6Any))) host = null;
        return (families, host);
    }

    /// <summary>Unpublishes a mapping read with <see cref="GetPublishedPorts"/> (see the other overload).</summary>
    public PortMapping Unpublish(PortMapping mapping) => Unpublish(mapping, flushConntrack: true);

    /// <summary>
    /// Deletes a mapping's elements; with <paramref name="flushConntrack"/> also its conntrack entries (a caller that
    /// flushes every entry of the container address afterwards, as the network model does, passes false).
    /// </summary>
    internal PortMapping Unpublish(PortMapping mapping, bool flushConntrack)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var n = new Normalized(mapping.Protocol, mapping.HostAddress, mapping.HostPort, mapping.HostPortEnd,
            mapping.ContainerAddress, mapping.ContainerPort, mapping.ContainerPortEnd, mapping.Owner);
        var keys = new List<NftSetElement>();
        for (var p = n.HostPort; p <= n.HostPortEnd; p++) keys.Add(new NftSetElement(Key(n, p)));
        try
        {
            Transact(_ =>
            {
                var b = new NftBatch();
                for (var i = 0; i < keys.Count; i += ElementsPerMessage)
                    b.DeleteElements(Family, TableName, n.Map, keys.GetRange(i, Math.Min(ElementsPerMessage, keys.Count - i)));
                return b;
            }, $"unpublish {mapping}");
        }
        catch (NetlinkException e) when (e.ErrorNumber == Interop.LibC.ENOENT)
        {
            throw new ContainerNetworkingException("PortNotPublished", ErrorKind.NotFound,
                $"{mapping} is not published (any more). List the published ports with Get-ContainerPort.", e);
        }
        if (flushConntrack) FlushConntrack(n);
        return mapping;
    }

    /// <summary>Deletes the conntrack entries translated by a mapping: original to a host port, reply from the container's port.</summary>
    private int FlushConntrack(Normalized n)
    {
        return _ct.Delete(n.V6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, e =>
            e.Original.Protocol == (byte)n.Protocol &&
            e.Original.DestinationPort >= n.HostPort && e.Original.DestinationPort <= n.HostPortEnd &&
            (n.HostAddress is null || e.Original.Destination.Equals(n.HostAddress)) &&
            e.Reply.Source.Equals(n.ContainerAddress) &&
            e.Reply.SourcePort >= n.ContainerPort && e.Reply.SourcePort <= n.ContainerPortEnd,
            // the kernel sends only the flows answered by the container over this protocol
            [new ConntrackFilter { Reply = true, Source = n.ContainerAddress, Protocol = (byte)n.Protocol }]);
    }
}
