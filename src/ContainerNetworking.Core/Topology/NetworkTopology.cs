using System.Globalization;
using System.Text;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Route;

namespace ContainerNetworking.Topology;

/// <summary>One interface in the picture.</summary>
public sealed record TopologyLink
{
    public required string Namespace { get; init; }
    public required int Index { get; init; }
    public required string Name { get; init; }
    public string? Kind { get; init; }
    public bool IsUp { get; init; }
    public string OperState { get; init; } = "UNKNOWN";
    public string? MacAddress { get; init; }
    public string? Master { get; init; }
    public IReadOnlyList<string> Addresses { get; init; } = [];

    /// <summary>For a veth whose other end was found among the namespaces read: that end.</summary>
    public TopologyEndpointRef? Peer { get; init; }

    public string Id => Namespace + "/" + Name;
}

/// <summary>A reference to an interface in a namespace, e.g. net1/eth0.</summary>
public sealed record TopologyEndpointRef(string Namespace, string Name)
{
    public override string ToString() => Namespace + ":" + Name;
}

/// <summary>A published port to show under the namespace that publishes it.</summary>
public sealed record TopologyPort(string Namespace, string Protocol, string? HostAddress, int HostPort, int HostPortEnd, string ContainerAddress, int ContainerPort)
{
    public override string ToString()
    {
        var host = (HostAddress ?? "*") + ":" + (HostPortEnd > HostPort ? $"{HostPort}-{HostPortEnd}" : HostPort.ToString(CultureInfo.InvariantCulture));
        var target = ContainerAddress.Contains(':') ? $"[{ContainerAddress}]" : ContainerAddress;
        return $"{Protocol} {host} → {target}:{ContainerPort}";
    }
}

/// <summary>A namespace in the picture.</summary>
public sealed record TopologyNamespace(string Name, ulong Id, IReadOnlyList<TopologyLink> Links, IReadOnlyList<TopologyPort> Ports);

/// <summary>
/// What the seeds draw by hand: namespaces, their links, bridges and their ports, veth pairs across namespaces, addresses
/// and published ports. Read once from the kernel, then rendered as a terminal diagram, Mermaid or Graphviz DOT.
/// </summary>
public sealed class NetworkTopology
{
    private NetworkTopology(IReadOnlyList<TopologyNamespace> namespaces) => Namespaces = namespaces;

    public IReadOnlyList<TopologyNamespace> Namespaces { get; }

    /// <summary>Every veth pair once, as (one end, the other end).</summary>
    public IEnumerable<(TopologyLink A, TopologyLink B)> VethPairs
    {
        get
        {
            var byRef = Namespaces.SelectMany(n => n.Links).ToDictionary(l => new TopologyEndpointRef(l.Namespace, l.Name));
            foreach (var l in Namespaces.SelectMany(n => n.Links))
            {
                if (l.Peer is null || !byRef.TryGetValue(l.Peer, out var other)) continue;
                if (string.CompareOrdinal(l.Id, other.Id) < 0) yield return (l, other);
            }
        }
    }

    /// <summary>
    /// Reads the links and addresses of each namespace and pairs veth ends across them (IFLA_LINK + IFLA_LINK_NETNSID,
    /// what <c>ip link</c> prints as <c>veth0@if54</c>). <paramref name="ports"/> supplies published ports per namespace, if any.
    /// </summary>
    public static NetworkTopology Read(IReadOnlyList<NetNamespace> namespaces, Func<NetNamespace, IReadOnlyList<TopologyPort>>? ports = null)
    {
        var raw = new List<(NetNamespace Ns, string Label, IReadOnlyList<LinkInfo> Links, ILookup<int, string> Addresses)>();
        foreach (var ns in namespaces)
        {
            var label = Label(ns);
            var links = ns.Rtnl.GetLinks();
            var addrs = ns.Rtnl.GetAddresses().ToLookup(a => a.InterfaceIndex, a => $"{a.Address}/{a.PrefixLength}");
            raw.Add((ns, label, links, addrs));
        }

        var result = new List<TopologyNamespace>();
        foreach (var (ns, label, links, addrs) in raw)
        {
            // Which namespace does each netnsid stand for, as seen from this one? Ask only when a peer needs it.
            Dictionary<int, int>? idToRaw = null;
            var items = new List<TopologyLink>();
            foreach (var l in links)
            {
                TopologyEndpointRef? peer = null;
                if (l.Kind == "veth" && l.PeerIndex is int pi && pi > 0)
                {
                    int target = -1;
                    if (l.PeerNetNsId is null) target = raw.FindIndex(r => r.Ns == ns);
                    else
                    {
                        idToRaw ??= MapNetNsIds(ns, raw.Select(r => r.Ns).ToList());
                        if (idToRaw.TryGetValue(l.PeerNetNsId.Value, out var t)) target = t;
                    }
                    if (target >= 0 && raw[target].Links.FirstOrDefault(x => x.Index == pi) is { } p)
                        peer = new TopologyEndpointRef(raw[target].Label, p.Name);
                }
                items.Add(new TopologyLink
                {
                    Namespace = label, Index = l.Index, Name = l.Name, Kind = l.Kind, IsUp = l.IsUp, OperState = l.OperState,
                    MacAddress = l.MacAddress, Master = l.Master, Addresses = addrs[l.Index].ToList(), Peer = peer,
                });
            }
            result.Add(new TopologyNamespace(label, ns.Id, items, ports?.Invoke(ns) ?? []));
        }
        return new NetworkTopology(result);
    }

    /// <summary>The ports published in a namespace's ContainerNetworking table (none when the table does not exist).</summary>
    public static IReadOnlyList<TopologyPort> ReadPublishedPorts(NetNamespace ns)
    {
        var label = Label(ns);
        return new ContainerFirewall(ns).GetPublishedPorts()
            .Select(p => new TopologyPort(label, p.Protocol.ToString().ToLowerInvariant(), p.HostAddress?.ToString(), p.HostPort, p.HostPortEnd,
                p.ContainerAddress.ToString(), p.ContainerPort))
            .ToList();
    }

    private static Dictionary<int, int> MapNetNsIds(NetNamespace from, List<NetNamespace> all)
    {
        var map = new Dictionary<int, int>();
        for (var i = 0; i < all.Count; i++)
        {
            if (all[i] == from) continue;
            if (from.Rtnl.GetNetNsId(all[i].Handle) is int id && id >= 0) map[id] = i;
        }
        return map;
    }

    private static string Label(NetNamespace ns) => ns.Name ?? (ns.IsCurrent ? "(current)" : ns.Path);

    // ---- renderers ---------------------------------------------------------------------------------------------

    /// <summary>A terminal diagram: each namespace, its bridges with their ports, other links, veth peers and published ports.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        foreach (var ns in Namespaces)
        {
            sb.Append("● ").Append(ns.Name).Append("  net:[").Append(ns.Id.ToString(CultureInfo.InvariantCulture)).AppendLine("]");
            var bridges = ns.Links.Where(l => l.Kind == "bridge").ToList();
            var ports = ns.Links.Where(l => l.Master is not null && bridges.Any(b => b.Name == l.Master)).ToList();
            var rest = ns.Links.Where(l => l.Kind != "bridge" && !ports.Contains(l)).ToList();
            var top = bridges.Cast<TopologyLink>().Concat(rest).ToList();
            for (var i = 0; i < top.Count; i++)
            {
                var last = i == top.Count - 1 && ns.Ports.Count == 0;
                var l = top[i];
                sb.Append(last ? "└─ " : "├─ ").AppendLine(Describe(l));
                if (l.Kind != "bridge") continue;
                var mine = ports.Where(p => p.Master == l.Name).ToList();
                for (var j = 0; j < mine.Count; j++)
                    sb.Append(last ? "   " : "│  ").Append(j == mine.Count - 1 ? "└─ " : "├─ ").AppendLine(Describe(mine[j]));
            }
            for (var i = 0; i < ns.Ports.Count; i++)
                sb.Append(i == ns.Ports.Count - 1 ? "└─ " : "├─ ").Append("publish ").AppendLine(ns.Ports[i].ToString());
            sb.AppendLine();
        }
        return sb.ToString().TrimEnd() + Environment.NewLine;
    }

    private static string Describe(TopologyLink l)
    {
        var s = new StringBuilder(l.Name);
        s.Append(' ').Append(l.Kind ?? "device").Append(' ').Append(l.IsUp ? l.OperState : "DOWN");
        foreach (var a in l.Addresses.Where(IsShown)) s.Append(' ').Append(a);
        if (l.Peer is { } p) s.Append("  ⇄ ").Append(p);
        return s.ToString();
    }

    /// <summary>A Mermaid flowchart: a subgraph per namespace, veth pairs as links, bridge ports attached to their bridge.</summary>
    public string ToMermaid() => Render(GraphSyntax.Mermaid);

    /// <summary>Graphviz DOT: a cluster per namespace, veth pairs as bold edges, bridge ports as dashed edges.</summary>
    public string ToDot() => Render(GraphSyntax.Dot);

    /// <summary>The one walk both graph formats share: namespaces with their links and ports, then bridge-port and veth edges.</summary>
    private string Render(GraphSyntax g)
    {
        var sb = new StringBuilder(g.Header);
        var ids = NodeIds();
        for (var i = 0; i < Namespaces.Count; i++)
        {
            var ns = Namespaces[i];
            g.BeginNamespace(sb, ns.Name, i);
            foreach (var l in ns.Links.Where(l => l.Name != "lo")) g.Node(sb, ids[l.Id], NodeLabel(l), l.Kind == "bridge");
            foreach (var p in ns.Ports) g.Port(sb, ns.Name, p);
            sb.Append(g.EndNamespace);
        }
        foreach (var ns in Namespaces)
            foreach (var l in ns.Links.Where(l => l.Master is not null))
                if (ids.TryGetValue(ns.Name + "/" + l.Master, out var master) && ids.TryGetValue(l.Id, out var port))
                    g.BridgePortEdge(sb, port, master);
        foreach (var (a, b) in VethPairs) g.VethEdge(sb, ids[a.Id], ids[b.Id]);
        return sb.Append(g.Footer).ToString();
    }

    private Dictionary<string, string> NodeIds()
    {
        var ids = new Dictionary<string, string>();
        var n = 0;
        foreach (var l in Namespaces.SelectMany(ns => ns.Links))
            ids[l.Id] = "n" + (n++).ToString(CultureInfo.InvariantCulture);
        return ids;
    }

    /// <summary>A node's label, line by line: the link's name and kind (and "down"), then its addresses.</summary>
    private static IReadOnlyList<string> NodeLabel(TopologyLink l) =>
        [l.Name + " (" + (l.Kind ?? "device") + (l.IsUp ? "" : ", down") + ")", .. l.Addresses.Where(IsShown)];

    /// <summary>Link-local IPv6 addresses (fe80::/10) are on every link and only clutter the picture.</summary>
    private static bool IsShown(string cidr) => !cidr.StartsWith("fe80:", StringComparison.OrdinalIgnoreCase);

    public override string ToString() => ToText();
}
