using System.Management.Automation;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>
/// Adds what <c>ip -br link</c> / <c>ip -br addr</c> show beside a link to the emitted <see cref="LinkInfo"/>: NoteProperty
/// <c>IPAddress</c> (string[] "addr/len") and <c>Peer</c> ("eth0@red": a veth's peer and the namespace it is in).
/// One address dump per namespace, one lookup per veth whose peer is elsewhere; best effort (never fails the cmdlet).
/// </summary>
internal static class LinkView
{
    public static PSObject Decorate(LinkInfo link, IReadOnlyDictionary<int, string[]>? addresses, string? peer)
    {
        var o = PSObject.AsPSObject(link);
        o.Properties.Add(new PSNoteProperty("IPAddress", addresses is not null && addresses.TryGetValue(link.Index, out var a) ? a : Array.Empty<string>()));
        o.Properties.Add(new PSNoteProperty("Peer", peer));
        return o;
    }

    /// <summary>Addresses of every link of the namespace, "addr/len", by ifindex.</summary>
    public static IReadOnlyDictionary<int, string[]> AddressesByIndex(NetNamespace ns)
    {
        try
        {
            return ns.Rtnl.GetAddresses().GroupBy(a => a.InterfaceIndex)
                .ToDictionary(g => g.Key, g => g.Select(a => $"{a.Address}/{a.PrefixLength}").ToArray());
        }
        catch (Exception e) when (ErrorMapping.IsMapped(e))
        {
            return new Dictionary<int, string[]>();
        }
    }

    /// <summary>The peer of a veth, "name" when it is in the same namespace, "name@ns" otherwise; null if unknown.</summary>
    public static string? PeerOf(NetNamespace ns, LinkInfo link, IReadOnlyList<LinkInfo> sameNamespace, Func<int, NetNamespace?> namespaceById)
    {
        if (link.Kind != "veth" || link.PeerIndex is not { } peerIndex) return null;
        if (link.PeerNetNsId is null)
            return sameNamespace.FirstOrDefault(l => l.Index == peerIndex)?.Name ?? $"if{peerIndex}";
        var other = namespaceById(link.PeerNetNsId.Value);
        if (other is null) return $"if{peerIndex}@nsid{link.PeerNetNsId}";
        try
        {
            var name = other.Rtnl.GetLink(peerIndex).Name;
            return $"{name}@{other.Name ?? (other.IsCurrent ? "(current)" : other.Path)}";
        }
        catch (Exception e) when (ErrorMapping.IsMapped(e))
        {
            return $"if{peerIndex}@{other.Name ?? other.Path}";
        }
    }

    /// <summary>
    /// Resolves the ids by which <paramref name="ns"/> knows other namespaces (IFLA_LINK_NETNSID) to named namespaces
    /// and the current one, lazily, once per call.
    /// </summary>
    public static Func<int, NetNamespace?> NamespaceResolver(NetNamespace ns)
    {
        Dictionary<int, NetNamespace>? map = null;
        return id =>
        {
            if (map is null)
            {
                map = new Dictionary<int, NetNamespace>();
                var candidates = new List<NetNamespace>();
                if (!ns.IsCurrent) candidates.Add(NetNamespaceCache.Current);
                foreach (var name in NetNamespace.ListNames())
                {
                    try { candidates.Add(NetNamespaceCache.Get(name)); }
                    catch (Exception e) when (ErrorMapping.IsMapped(e)) { }
                }
                foreach (var c in candidates)
                {
                    if (c.Id == ns.Id) continue;
                    try
                    {
                        if (ns.Rtnl.GetNetNsId(c.Handle) is { } nsid) map.TryAdd(nsid, c);
                    }
                    catch (Exception e) when (ErrorMapping.IsMapped(e)) { }
                }
            }
            return map.GetValueOrDefault(id);
        };
    }
}
