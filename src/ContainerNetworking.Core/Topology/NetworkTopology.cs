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
public sealed record TopologyNamespace(string Name, ulong Id, IReadOnlyList<TopologyLink> Links, IReadOnlyList<TopologyPort> Ports)
{
    /// <summary>The namespace's VXLAN devices and their remote VTEPs (a node's overlay).</summary>
    public IReadOnlyList<TopologyOverlay> Overlays { get; init; } = [];

    /// <summary>Routes to other networks via a gateway (not the default route, not over a VXLAN device): a host-gw node's routes to its peers' subnets.</summary>
    public IReadOnlyList<TopologyRoute> GatewayRoutes { get; init; } = [];
}

/// <summary>A VXLAN device, <c>ip -d link show type vxlan</c>, and the remote VTEPs its FDB sends frames to.</summary>
public sealed record TopologyOverlay
{
    public required string Namespace { get; init; }
    public required string Device { get; init; }
    public int Vni { get; init; }
    public string? Local { get; init; }
    public int Port { get; init; }
    public IReadOnlyList<TopologyOverlayPeer> Peers { get; init; } = [];

    public override string ToString() => $"vni {Vni}{(Local is null ? "" : " local " + Local)} dstport {Port}";
}

/// <summary>
/// A remote VTEP of a VXLAN device: the FDB entry's destination and MAC (<c>bridge fdb show dev DEV</c>), the subnets
/// routed to it (routes whose gateway's neighbour entry carries that MAC), and who it is: a node name from the cluster's
/// leases when given, else the namespace read whose VXLAN device has that local address.
/// </summary>
public sealed record TopologyOverlayPeer(string Remote, string MacAddress, IReadOnlyList<string> Subnets)
{
    /// <summary>The node's name from the cluster's leases, or null.</summary>
    public string? Node { get; init; }

    /// <summary>The namespace (among those read) that holds the remote VTEP, or null.</summary>
    public string? Namespace { get; init; }

    public override string ToString()
    {
        var who = Node ?? Namespace;
        return $"peer {Remote}{(who is null ? "" : " (" + who + ")")} {MacAddress}{(Subnets.Count == 0 ? "" : " → " + string.Join(", ", Subnets))}";
    }
}

/// <summary>A route via a gateway (<c>ip route show</c>), with the node or namespace that holds the gateway's address when known.</summary>
public sealed record TopologyRoute(string Namespace, string Destination, string Gateway, string? Device)
{
    /// <summary>The node's name from the cluster's leases, or null.</summary>
    public string? Node { get; init; }

    /// <summary>The namespace (among those read) that holds the gateway's address, or null.</summary>
    public string? GatewayNamespace { get; init; }

    public override string ToString()
    {
        var who = Node ?? GatewayNamespace;
        return $"route {Destination} via {Gateway}{(Device is null ? "" : " dev " + Device)}{(who is null ? "" : " (" + who + ")")}";
    }
}

/// <summary>A link between two nodes of an overlay: VXLAN devices that send to each other, or a host-gw route to another node.</summary>
/// <param name="A">One end: a namespace's VXLAN device or underlay interface.</param>
/// <param name="B">The other end: a namespace's device, or for a remote outside the namespaces read, null (see <paramref name="Remote"/>).</param>
/// <param name="Kind">"vxlan" or "host-gw".</param>
/// <param name="Label">e.g. "vxlan 1" or "host-gw 10.244.2.0/24".</param>
/// <param name="Remote">The remote address when <paramref name="B"/> is outside the namespaces read.</param>
public sealed record TopologyOverlayLink(TopologyEndpointRef A, TopologyEndpointRef? B, string Kind, string Label, string? Remote);

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
    /// The overlay between nodes: one link per pair of namespaces whose VXLAN devices send to each other (or whose
    /// host-gw routes go to each other), and one per remote VTEP or gateway outside the namespaces read.
    /// </summary>
    public IReadOnlyList<TopologyOverlayLink> OverlayLinks
    {
        get
        {
            var links = new List<TopologyOverlayLink>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var ns in Namespaces)
            {
                foreach (var o in ns.Overlays)
                    foreach (var p in o.Peers)
                    {
                        var other = p.Namespace is null ? null : Namespaces.FirstOrDefault(n => n.Name == p.Namespace)?.Overlays.FirstOrDefault(x => x.Vni == o.Vni && x.Local == p.Remote);
                        var a = new TopologyEndpointRef(ns.Name, o.Device);
                        var b = other is null ? null : new TopologyEndpointRef(other.Namespace, other.Device);
                        if (seen.Add(PairKey("vxlan", a, b, p.Remote)))
                            links.Add(new TopologyOverlayLink(a, b, "vxlan", $"vxlan {o.Vni}", b is null ? p.Remote : null));
                    }
                foreach (var r in ns.GatewayRoutes)
                {
                    var a = new TopologyEndpointRef(ns.Name, r.Device ?? "?");
                    var gwLink = r.GatewayNamespace is null ? null
                        : Namespaces.FirstOrDefault(n => n.Name == r.GatewayNamespace)?.Links.FirstOrDefault(l => l.Addresses.Any(x => x.StartsWith(r.Gateway + "/", StringComparison.Ordinal)));
                    var b = gwLink is null ? null : new TopologyEndpointRef(gwLink.Namespace, gwLink.Name);
                    if (seen.Add(PairKey("host-gw", a, b, r.Gateway)))
                        links.Add(new TopologyOverlayLink(a, b, "host-gw", "host-gw", b is null ? r.Gateway : null));
                }
            }
            return links;
        }
    }

    private static string PairKey(string kind, TopologyEndpointRef a, TopologyEndpointRef? b, string remote)
    {
        var x = a.ToString();
        var y = b?.ToString() ?? "remote " + remote;
        return kind + "|" + (string.CompareOrdinal(x, y) < 0 ? x + "|" + y : y + "|" + x);
    }

    /// <summary>
    /// Reads the links and addresses of each namespace and pairs veth ends across them (IFLA_LINK + IFLA_LINK_NETNSID,
    /// what <c>ip link</c> prints as <c>veth0@if54</c>), and each namespace's overlay: its VXLAN devices with their
    /// remote VTEPs (FDB, neighbours and routes of the device) and its routes via gateways. <paramref name="ports"/>
    /// supplies published ports per namespace, if any; <paramref name="nodeNames"/> names nodes by their public address
    /// (from a cluster's leases: the topology reads only the kernel and knows nothing of where the names come from).
    /// </summary>
    public static NetworkTopology Read(IReadOnlyList<NetNamespace> namespaces, Func<NetNamespace, IReadOnlyList<TopologyPort>>? ports = null,
        IReadOnlyDictionary<string, string>? nodeNames = null)
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
        var overlays = raw.Select(r => ReadOverlays(r.Ns, r.Label, r.Links)).ToList();
        string? Holder(Func<int, bool> holds) => Enumerable.Range(0, raw.Count).Where(holds).Select(i => raw[i].Label).FirstOrDefault();
        string? NodeName(string address) => nodeNames is not null && nodeNames.TryGetValue(address, out var n) ? n : null;
        for (var i = 0; i < result.Count; i++)
        {
            var me = i;
            var (vxlans, routes) = overlays[i];
            result[i] = result[i] with
            {
                Overlays = vxlans.Select(o => o with
                {
                    Peers = o.Peers.Select(p => p with
                    {
                        Node = NodeName(p.Remote),
                        Namespace = Holder(j => j != me && overlays[j].Vxlans.Any(x => x.Vni == o.Vni && x.Local == p.Remote)),
                    }).ToList(),
                }).ToList(),
                GatewayRoutes = routes.Select(r => r with
                {
                    Node = NodeName(r.Gateway),
                    GatewayNamespace = Holder(j => j != me && raw[j].Addresses.SelectMany(g => g).Any(a => a.StartsWith(r.Gateway + "/", StringComparison.Ordinal))),
                }).ToList(),
            };
        }
        return new NetworkTopology(result);
    }

    /// <summary>
    /// A namespace's VXLAN devices (<c>ip -d link show type vxlan</c>) with their remote VTEPs (<c>bridge fdb show dev
    /// DEV</c>: entries with a destination) and the subnets routed to each (<c>ip route</c> via a gateway on the device
    /// whose <c>ip neigh</c> entry has the VTEP's MAC), and its routes via gateways on other devices.
    /// </summary>
    private static (List<TopologyOverlay> Vxlans, List<TopologyRoute> Routes) ReadOverlays(NetNamespace ns, string label, IReadOnlyList<LinkInfo> links)
    {
        var vxlanLinks = links.Where(l => l.Kind == "vxlan").ToList();
        var routes = ns.Rtnl.GetRoutes(System.Net.Sockets.AddressFamily.InterNetwork)
            .Where(r => r.Gateway is not null && !r.IsDefault && r.Type == 1).ToList();
        var overlays = new List<TopologyOverlay>();
        if (vxlanLinks.Count > 0)
        {
            var fdb = ns.Rtnl.GetBridgeFdb();
            foreach (var l in vxlanLinks)
            {
                if (ns.Rtnl.GetVxlan(l.Name) is not { } v) continue;
                var neighbors = ns.Rtnl.GetNeighbors(System.Net.Sockets.AddressFamily.InterNetwork, l.Name);
                var peers = fdb.Where(f => f.InterfaceName == l.Name && f.Destination is not null && f.MacAddress != "00:00:00:00:00:00")
                    .Select(f => new TopologyOverlayPeer(f.Destination!.ToString(), f.MacAddress,
                        routes.Where(r => r.OutputInterface == l.Name && neighbors.Any(n => n.Address.Equals(r.Gateway) && string.Equals(n.MacAddress, f.MacAddress, StringComparison.OrdinalIgnoreCase)))
                            .Select(r => r.Destination.ToString()).ToList()))
                    .OrderBy(p => p.Remote, StringComparer.Ordinal).ToList();
                overlays.Add(new TopologyOverlay { Namespace = label, Device = l.Name, Vni = v.Vni, Local = v.Local?.ToString(), Port = v.Port, Peers = peers });
            }
        }
        var gatewayRoutes = routes.Where(r => !vxlanLinks.Any(l => l.Name == r.OutputInterface))
            .Select(r => new TopologyRoute(label, r.Destination.ToString(), r.Gateway!.ToString(), r.OutputInterface)).ToList();
        return (overlays, gatewayRoutes);
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
            var after = ns.GatewayRoutes.Count + ns.Ports.Count;
            for (var i = 0; i < top.Count; i++)
            {
                var last = i == top.Count - 1 && after == 0;
                var l = top[i];
                var overlay = ns.Overlays.FirstOrDefault(o => o.Device == l.Name);
                sb.Append(last ? "└─ " : "├─ ").Append(Describe(l));
                if (overlay is not null) sb.Append("  ").Append(overlay);
                sb.AppendLine();
                var children = l.Kind == "bridge" ? ports.Where(p => p.Master == l.Name).Select(Describe).ToList()
                    : overlay?.Peers.Select(p => p.ToString()).ToList() ?? [];
                for (var j = 0; j < children.Count; j++)
                    sb.Append(last ? "   " : "│  ").Append(j == children.Count - 1 ? "└─ " : "├─ ").AppendLine(children[j]);
            }
            for (var i = 0; i < ns.GatewayRoutes.Count; i++)
                sb.Append(i == after - 1 ? "└─ " : "├─ ").AppendLine(ns.GatewayRoutes[i].ToString());
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

    /// <summary>A Mermaid flowchart: a subgraph per namespace, veth pairs as links, bridge ports attached to their bridge, overlay links between nodes dotted.</summary>
    public string ToMermaid() => Render(GraphSyntax.Mermaid);

    /// <summary>Graphviz DOT: a cluster per namespace, veth pairs as bold edges, bridge ports as dashed edges, overlay links between nodes as blue dashed edges.</summary>
    public string ToDot() => Render(GraphSyntax.Dot);

    /// <summary>The one walk both graph formats share: namespaces with their links and ports, then bridge-port, veth and overlay edges.</summary>
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
        foreach (var (a, b, o) in OverlayEdges(ids))
        {
            if (o.B is null) g.RemoteNode(sb, b, "remote " + o.Remote);
            g.OverlayEdge(sb, a, b, o.Label);
        }
        return sb.Append(g.Footer).ToString();
    }

    /// <summary>The overlay links as node ids: a remote outside the namespaces read gets an id of its own (remoteN), to be declared by the renderer.</summary>
    private IEnumerable<(string A, string B, TopologyOverlayLink Link)> OverlayEdges(Dictionary<string, string> ids)
    {
        var remotes = 0;
        foreach (var o in OverlayLinks)
        {
            if (!ids.TryGetValue(o.A.Namespace + "/" + o.A.Name, out var a)) continue;
            if (o.B is null) yield return (a, "remote" + (remotes++).ToString(CultureInfo.InvariantCulture), o);
            else if (ids.TryGetValue(o.B.Namespace + "/" + o.B.Name, out var b)) yield return (a, b, o);
        }
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
