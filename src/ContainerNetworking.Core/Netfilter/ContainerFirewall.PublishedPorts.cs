using System.Buffers.Binary;
using System.Net;
using ContainerNetworking.Netlink;
using static ContainerNetworking.Netfilter.FirewallLayout;

namespace ContainerNetworking.Netfilter;

// Publishing ports: elements added to the port maps in one batch, conflicts named, loopback routing asked for.
public sealed partial class ContainerFirewall
{
    /// <summary>
    /// Publishes a host port (range) to a container, as <c>docker run -p</c>: adds elements to the port maps in one
    /// batch, e.g. <c>nft add element inet containernetworking ports4 '{ tcp . 8088 : 192.168.0.2 . 80 }'</c>. Fails with
    /// ErrorId PortAlreadyPublished (and changes nothing) if any of the host ports is published already for the same
    /// protocol on the same (or every) host address; bad input fails with ErrorKind.InvalidArgument. When
    /// <paramref name="allowedContainerSubnets"/> is given, the container address must be inside one of them.
    /// </summary>
    public PortMapping Publish(PortMappingSpec spec, IReadOnlyList<IPNetwork>? allowedContainerSubnets = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Publish([spec], allowedContainerSubnets)[0];
    }

    /// <summary>
    /// Publishes several mappings in ONE batch (one transaction: all of them or none), e.g. every <c>-p</c> of a
    /// container: <c>nft add element inet containernetworking ports4 '{ tcp . 8088 : 192.168.0.2 . 80, udp . 53 : … }'</c>.
    /// The cost does not grow with the number of ports published already: duplicates in the same map are refused by
    /// the kernel (the elements are created exclusively), and only the counterpart map is consulted (for a mapping on
    /// one host address, the key in the map of every address; for a mapping on every address, the host-address-bound
    /// map, which holds only the mappings bound to one address). Errors as <see cref="Publish(PortMappingSpec, IReadOnlyList{IPNetwork}?)"/>;
    /// two mappings of the list that overlap each other are refused with PortAlreadyPublished as well.
    /// </summary>
    public IReadOnlyList<PortMapping> Publish(IReadOnlyList<PortMappingSpec> specs, IReadOnlyList<IPNetwork>? allowedContainerSubnets = null)
    {
        ArgumentNullException.ThrowIfNull(specs);
        if (specs.Count == 0) return [];
        var ns = new List<Normalized>(specs.Count);
        foreach (var spec in specs) ns.Add(Validate(spec, allowedContainerSubnets));
        var total = 0;
        foreach (var n in ns) total += n.HostPortEnd - n.HostPort + 1;
        if (ns.Count > 1)
        {
            // Overlaps within the request, port by port: (protocol, family, port) used by any mapping, by one on every
            // address, and (…, address) by one on one address.
            var any = new HashSet<(PortProtocol, bool, int)>();
            var unbound = new HashSet<(PortProtocol, bool, int)>();
            var bound = new HashSet<(PortProtocol, bool, int, IPAddress)>();
            foreach (var n in ns)
            {
                for (var p = n.HostPort; p <= n.HostPortEnd; p++)
                {
                    var k = (n.Protocol, n.V6, p);
                    var clash = n.HostAddress is null ? any.Contains(k) : unbound.Contains(k) || bound.Contains((n.Protocol, n.V6, p, n.HostAddress));
                    if (clash)
                        throw new ContainerNetworkingException("PortAlreadyPublished", ErrorKind.AlreadyExists,
                            $"Host port {Describe(n)} overlaps another mapping of the same request (at port {p}). Unpublish it first or give each host port once.");
                }
                for (var p = n.HostPort; p <= n.HostPortEnd; p++)
                {
                    any.Add((n.Protocol, n.V6, p));
                    if (n.HostAddress is null) unbound.Add((n.Protocol, n.V6, p));
                    else bound.Add((n.Protocol, n.V6, p, n.HostAddress));
                }
            }
        }
        var byMap = new Dictionary<string, List<NftSetElement>>();
        foreach (var n in ns)
        {
            if (!byMap.TryGetValue(n.Map, out var list)) byMap[n.Map] = list = new List<NftSetElement>(total);
            for (var p = n.HostPort; p <= n.HostPortEnd; p++)
                list.Add(new NftSetElement(Key(n, p)) { Data = Data(n.ContainerAddress, n.ContainerPort + (p - n.HostPort)), Comment = n.Comment });
        }
        var what = ns.Count == 1 ? Describe(ns[0]) : $"{ns.Count} mappings ({total} ports)";
        try
        {
            Transact(gen =>
            {
                var b = new NftBatch();
                // A table this batch creates has no elements yet: nothing to conflict with.
                if (EnsureBase(b, gen) && FindCounterpartConflict(ns) is { } c)
                    throw new ContainerNetworkingException("PortAlreadyPublished", ErrorKind.AlreadyExists,
                        $"Host port {Describe(c.Wanted)} is already published ({c.Existing}). Unpublish it first (Unpublish-ContainerPort), or choose another host port.");
                foreach (var (map, elements) in byMap)
                    for (var i = 0; i < elements.Count; i += ElementsPerMessage)
                        b.AddElements(Family, TableName, map, elements.GetRange(i, Math.Min(ElementsPerMessage, elements.Count - i)), exclusive: true);
                return b;
            }, $"publish {what}");
        }
        catch (NetlinkException e) when (e.ErrorNumber == Interop.LibC.EEXIST)
        {
            // Name the mapping in the way (the error path may read everything).
            foreach (var n in ns)
                if (FindConflict(n) is { } c)
                    throw new ContainerNetworkingException("PortAlreadyPublished", ErrorKind.AlreadyExists,
                        $"Host port {Describe(n)} is already published{Overlap(n, c)} ({c}). Unpublish it first (Unpublish-ContainerPort), or choose another host port.", e);
            throw new ContainerNetworkingException("PortAlreadyPublished", ErrorKind.AlreadyExists,
                $"Host port {what} is already published. Unpublish it first (Unpublish-ContainerPort), or choose another host port.", e);
        }
        EnableLoopbackPath(ns);
        return ns.Select(n => new PortMapping(n.Protocol, n.HostAddress, n.HostPort, n.HostPortEnd, n.ContainerAddress, n.ContainerPort, n.ContainerPortEnd, n.Owner, 0, 0)).ToList();
    }

    /// <summary>The interfaces (by index) on which this firewall has made sure of route_localnet.</summary>
    private readonly HashSet<int> _loopbackPathReady = [];

    /// <summary>
    /// Makes IPv4 mappings reachable from the host's 127.0.0.1 (those on every host address or on a loopback one) also
    /// where the bridge was not set up by <see cref="AddBridgeNetwork"/> (a bridge built by hand, as in the walkthroughs):
    /// route_localnet on the interface the kernel routes the container address through (<c>ip route get ADDRESS</c>, one
    /// lookup), once per interface. Safe beside the CVE-2020-8558 guard of the base ruleset. Best effort: publishing
    /// has succeeded already; without a route to the container there is nothing to enable.
    /// </summary>
    private void EnableLoopbackPath(List<Normalized> mappings)
    {
        if (_host is null) return;
        foreach (var n in mappings)
        {
            if (n.V6 || (n.HostAddress is not null && !IPAddress.IsLoopback(n.HostAddress))) continue;
            try
            {
                if (_host.RouteInterfaceIndex(n.ContainerAddress) is not int oif || !_loopbackPathReady.Add(oif)) continue;
                _host.SetLoopbackRouting(oif, true);
            }
            catch (Exception e) when (e is NetlinkException or ContainerNetworkingException or IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>Fewer keys than this are looked up one by one in the counterpart map; more read the map once.</summary>
    private const int KeyLookupLimit = 16;

    /// <summary>
    /// A conflict of <paramref name="ns"/> with the other map of its family: a mapping on one host address against the
    /// map of every address (looked up by key), a mapping on every address against the host-address-bound map (read
    /// once per family: it holds only the mappings bound to one address, usually none). Same-map conflicts are the
    /// kernel's (exclusive create).
    /// </summary>
    private (Normalized Wanted, string Existing)? FindCounterpartConflict(List<Normalized> ns)
    {
        var dumps = new Dictionary<string, List<NftSetElement>>();
        List<NftSetElement> Dumped(string map)
        {
            if (!dumps.TryGetValue(map, out var l)) dumps[map] = l = _nft.ListElements(Family, TableName, map);
            return l;
        }
        foreach (var n in ns)
        {
            var alen = n.V6 ? 16 : 4;
            if (n.HostAddress is not null)
            {
                var other = n.V6 ? MapPorts6 : MapPorts4;
                var unbound = n with { HostAddress = null };
                if (n.HostPortEnd - n.HostPort < KeyLookupLimit)
                {
                    for (var p = n.HostPort; p <= n.HostPortEnd; p++)
                        if (_nft.GetElement(Family, TableName, other, Key(unbound, p)) is { } e)
                            return (n, DescribeElement(e, bound: false, alen));
                }
                else
                {
                    foreach (var e in Dumped(other))
                    {
                        if (e.Key.Length < 8 || e.Key[0] != (byte)n.Protocol) continue;
                        var hp = BinaryPrimitives.ReadUInt16BigEndian(e.Key.AsSpan(4));
                        if (hp >= n.HostPort && hp <= n.HostPortEnd) return (n, DescribeElement(e, bound: false, alen));
                    }
                }
            }
            else
            {
                foreach (var e in Dumped(n.V6 ? MapHostPorts6 : MapHostPorts4))
                {
                    if (e.Key.Length < alen + 8 || e.Key[alen] != (byte)n.Protocol) continue;
                    var hp = BinaryPrimitives.ReadUInt16BigEndian(e.Key.AsSpan(alen + 4));
                    if (hp >= n.HostPort && hp <= n.HostPortEnd) return (n, DescribeElement(e, bound: true, alen));
                }
            }
        }
        return null;
    }

    /// <summary>" in part: ports 7005-7010" when a range overlaps a mapping only in part; "" when all of it is taken.</summary>
    private static string Overlap(Normalized n, PortMapping m)
    {
        int first = Math.Max(n.HostPort, m.HostPort), last = Math.Min(n.HostPortEnd, m.HostPortEnd);
        if (first == n.HostPort && last == n.HostPortEnd) return "";
        return first == last ? $" in part: port {first}" : $" in part: ports {first}-{last}";
    }

    private PortMapping? FindConflict(Normalized n)
    {
        if (!_nft.TableExists(Family, TableName)) return null;
        foreach (var m in GetPublishedPorts())
        {
            if (m.Protocol != n.Protocol || IsV6(m.ContainerAddress) != n.V6) continue;
            if (m.HostAddress is not null && n.HostAddress is not null && !m.HostAddress.Equals(n.HostAddress)) continue;
            if (m.HostPort <= n.HostPortEnd && n.HostPort <= m.HostPortEnd) return m;
        }
        return null;
    }
}
