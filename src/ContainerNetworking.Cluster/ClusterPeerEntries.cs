using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Route;

namespace ContainerNetworking.Cluster;

/// <summary>One kernel entry a node holds for a peer, checked against what the peer's lease asks for.</summary>
/// <param name="Ok">The entry is there and right.</param>
/// <param name="Detail">What was found (or is missing), as a sentence.</param>
/// <param name="IpArgs">The iproute2 command (after <c>ip</c>, or a whole <c>bridge …</c> line) that puts the entry right.</param>
internal sealed record PeerEntryCheck(bool Ok, string Detail, string IpArgs);

/// <summary>
/// The entries a node holds for its peers, read once from its namespace: the routes of the main table and, with vxlan,
/// the neighbours and FDB entries of the VXLAN device. Sync uses the checks to put back entries that went missing;
/// Test-ContainerNetwork -Destination reports them as hops.
/// </summary>
internal sealed class ClusterPeerEntries
{
    private readonly ClusterMembership _m;
    private readonly IReadOnlyList<RouteInfo> _routes;
    private readonly IReadOnlyList<NeighborInfo> _neighbors;
    private readonly IReadOnlyList<FdbEntry> _fdb;

    private ClusterPeerEntries(ClusterMembership m, IReadOnlyList<RouteInfo> routes, IReadOnlyList<NeighborInfo> neighbors, IReadOnlyList<FdbEntry> fdb)
    {
        _m = m;
        _routes = routes;
        _neighbors = neighbors;
        _fdb = fdb;
    }

    public static ClusterPeerEntries Read(RouteClient rtnl, ClusterMembership m)
    {
        var routes = rtnl.GetRoutes(AddressFamily.InterNetwork);
        IReadOnlyList<NeighborInfo> neighbors = [];
        IReadOnlyList<FdbEntry> fdb = [];
        if (m.BackendKind == ClusterBackend.Vxlan && m.Device is not null && rtnl.FindLink(m.Device) is not null)
        {
            neighbors = rtnl.GetNeighbors(AddressFamily.InterNetwork, m.Device);
            fdb = rtnl.GetBridgeFdb().Where(f => f.InterfaceName == m.Device).ToList();
        }
        return new ClusterPeerEntries(m, routes, neighbors, fdb);
    }

    /// <summary>True when the peer's route, and with vxlan its neighbour and FDB entry, are all there and right.</summary>
    public bool AllPresent(ClusterPeer p) =>
        Route(p).Ok && (_m.BackendKind != ClusterBackend.Vxlan || (Neighbor(p).Ok && Fdb(p).Ok));

    /// <summary>The route for the peer's subnet: vxlan via the peer's VTEP address onlink over the device, host-gw via its public address.</summary>
    public PeerEntryCheck Route(ClusterPeer p)
    {
        var subnet = IPNetwork.Parse(p.Subnet);
        var vxlan = _m.BackendKind == ClusterBackend.Vxlan;
        var gw = vxlan ? subnet.BaseAddress : IPAddress.Parse(p.PublicIP);
        var dev = vxlan ? _m.Device! : _m.Interface;
        var want = $"{subnet} via {gw} dev {dev}{(vxlan ? " onlink" : "")}";
        var fix = $"route replace {want}";
        var r = _routes.FirstOrDefault(x => x.Destination.Equals(subnet) && x.Type == 1);
        if (r is null)
        {
            var other = _routes.FirstOrDefault(x => x.Destination.Equals(subnet));
            return new(false, other is null
                ? $"No route for {subnet}: packets for it follow the default route (or are unreachable) instead of going {(vxlan ? "over " + dev : "to " + gw)}."
                : $"The route for {subnet} is not a unicast route (type {other.Type}): packets for it are dropped.", fix);
        }
        var ok = gw.Equals(r.Gateway) && r.OutputInterface == dev;
        return new(ok, ok ? $"{want}." : $"The route for {subnet} goes via {r.Gateway?.ToString() ?? "no gateway"} dev {r.OutputInterface}, not {want}.", fix);
    }

    /// <summary>The neighbour entry of the peer's VTEP address with the VTEP MAC of its lease (vxlan).</summary>
    public PeerEntryCheck Neighbor(ClusterPeer p)
    {
        var vtep = IPNetwork.Parse(p.Subnet).BaseAddress;
        var fix = $"neigh replace {vtep} lladdr {p.VtepMac} dev {_m.Device} nud permanent";
        var n = _neighbors.FirstOrDefault(x => x.Address.Equals(vtep));
        if (n is null)
            return new(false, $"No neighbour entry for the VTEP address {vtep} on {_m.Device}: the kernel cannot resolve the route's gateway (no learning on the device), so nothing is sent.", fix);
        var ok = string.Equals(n.MacAddress, p.VtepMac, StringComparison.OrdinalIgnoreCase);
        return new(ok, ok ? $"{vtep} lladdr {n.MacAddress} dev {_m.Device} {n.State}." :
            $"The neighbour {vtep} on {_m.Device} is {n.MacAddress ?? "unresolved"} ({n.State}), not the VTEP MAC {p.VtepMac} of the peer's lease.", fix);
    }

    /// <summary>The FDB entry of the peer's VTEP MAC on the VXLAN device, pointing at its public address (vxlan).</summary>
    public PeerEntryCheck Fdb(ClusterPeer p)
    {
        var fix = $"bridge fdb replace {p.VtepMac} dev {_m.Device} dst {p.PublicIP} self permanent";
        var mine = _fdb.Where(f => string.Equals(f.MacAddress, p.VtepMac, StringComparison.OrdinalIgnoreCase)).ToList();
        if (mine.Count == 0)
            return new(false, $"No FDB entry for {p.VtepMac} on {_m.Device}: the device does not know which node to send that VTEP's frames to.", fix);
        var ok = mine.Any(f => f.Destination is { } d && d.ToString() == p.PublicIP);
        return new(ok, ok ? $"{p.VtepMac} dev {_m.Device} dst {p.PublicIP}." :
            $"The FDB entry for {p.VtepMac} on {_m.Device} points to {string.Join(", ", mine.Select(f => f.Destination?.ToString() ?? "no address"))}, not the peer's {p.PublicIP}.", fix);
    }
}
