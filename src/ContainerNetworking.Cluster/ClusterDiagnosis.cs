using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Netlink;
using ContainerNetworking.Route;

namespace ContainerNetworking.Cluster;

/// <summary>
/// Test-ContainerNetwork -Destination: the path from a pod on this node to a pod on another node of the cluster. The
/// model's walk of this node's path (namespace, interface, default route, veth, bridge, forwarding, rules) comes first,
/// then the cluster's hops in the order a packet takes them: the pod's route to the destination, the VXLAN device
/// (vxlan), this node's route for the peer's subnet, the neighbour entry of the peer's VTEP address and the FDB entry of
/// its VTEP MAC (vxlan), the peer's lease in etcd (present, not expired, what this node programmed), and this node's own
/// lease (without it the peers drop their route back). Each broken hop names its fix in the namespace it acts on.
/// </summary>
public sealed class ClusterDiagnosis(ContainerNetworkManager manager)
{
    private readonly ContainerNetworkManager _manager = manager;
    private NetNamespace Host => _manager.Host;
    private string? H => Host.Label;

    public IReadOnlyList<DiagnosticHop> Test(string idOrContainer, IPAddress destination, string? network = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var node = new ClusterNodeManager(_manager);
        var m = node.RequireConnected();
        var cluster = IPNetwork.Parse(m.ClusterNetwork);
        if (destination.AddressFamily != AddressFamily.InterNetwork || !cluster.Contains(destination))
            throw new ContainerNetworkingException("DestinationNotInCluster", ErrorKind.InvalidArgument,
                $"{destination} is not in the cluster network {cluster} of node {m.Node}: -Destination follows the path to a pod on another node. " +
                $"Give a pod address in {cluster} (Get-ContainerClusterNode lists the nodes' subnets), or leave -Destination out to walk this node's path.");
        var e = _manager.GetEndpoint(idOrContainer, network ?? m.Network);
        var hops = new List<DiagnosticHop>(_manager.Test(e.Id, e.Network));
        void Add(string hop, HopStatus s, string detail, string? fix = null) => hops.Add(new DiagnosticHop(hops.Count + 1, hop, s, detail, fix));
        var sync = FixCommand.Cmdlet("Sync-ContainerCluster", H);

        PodRoute(e, destination, Add);
        if (m.SubnetNetwork.Contains(destination))
        {
            Add("PeerNode", HopStatus.Skipped, $"{destination} is in this node's own subnet {m.Subnet}: the bridge {m.Bridge} delivers it, no other node is involved.");
            return hops;
        }

        var subnet = Subnets.Normalize(new IPNetwork(destination, m.SubnetNetwork.PrefixLength));
        IReadOnlyList<ClusterNodeLease>? leases = null;
        string? storeError = null;
        try
        {
            using var store = new ClusterStore(m.Store, m.Prefix);
            leases = store.GetLeases(withExpiry: true);
        }
        catch (ContainerNetworkingException x) when (x.ErrorId == "ClusterStoreUnreachable") { storeError = x.Message; }
        var lease = leases?.FirstOrDefault(l => l.Subnet.Equals(subnet));
        var record = m.Peers.FirstOrDefault(p => p.Subnet == subnet.ToString());
        // What the entries should say: the lease's values when etcd has it, else what this node programmed last.
        var expected = lease is not null && lease.BackendType == m.Backend ? new ClusterPeer(subnet.ToString(), lease.PublicIP.ToString(), lease.VtepMac, lease.Node) : record;
        var peerName = lease?.Node ?? record?.Node;
        var vxlan = m.BackendKind == ClusterBackend.Vxlan;

        if (vxlan) VxlanDevice(m, Add);
        var entries = ClusterPeerEntries.Read(Host.Rtnl, m);
        var checks = new List<(string Hop, Func<ClusterPeer, PeerEntryCheck> Check)> { ("PeerRoute", entries.Route) };
        if (vxlan)
        {
            checks.Add(("PeerNeighbor", entries.Neighbor));
            checks.Add(("PeerFdb", entries.Fdb));
        }
        foreach (var (hop, check) in checks)
        {
            if (expected is null)
            {
                Add(hop, HopStatus.Skipped, $"No node holds {subnet} (no lease in etcd, no entry on this node): there is nothing to send {destination} to.");
                continue;
            }
            var c = check(expected);
            var ipFix = c.IpArgs.StartsWith("bridge ", StringComparison.Ordinal) ? FixCommand.Exec(H, c.IpArgs) : FixCommand.Ip(H, c.IpArgs);
            Add(hop, c.Ok ? HopStatus.Ok : HopStatus.Broken, c.Detail, c.Ok ? null : $"{sync}  # puts back the entries of every peer; or: {ipFix}");
        }

        PeerLease(m, subnet, lease, record, storeError, peerName, sync, Add);
        NodeLease(m, leases, storeError, sync, Add);
        return hops;
    }

    private void PodRoute(ContainerEndpoint e, IPAddress destination, Action<string, HopStatus, string, string?> add)
    {
        const string hop = "PodRoute";
        if (e.Namespace is null || e.InterfaceName is null)
        {
            add(hop, HopStatus.Skipped, "The endpoint has no namespace or interface of its own.", null);
            return;
        }
        NetNamespace ns;
        try { ns = NetNamespace.Open(e.Namespace); }
        catch (ContainerNetworkingException)
        {
            add(hop, HopStatus.Skipped, "Not checked: a hop before it is broken.", null);
            return;
        }
        using (ns)
        {
            var c = e.Namespace;
            var eth = ns.Rtnl.FindLink(e.InterfaceName);
            if (eth is null)
            {
                add(hop, HopStatus.Skipped, "Not checked: a hop before it is broken.", null);
                return;
            }
            RouteInfo r;
            try { r = ns.Rtnl.GetRouteTo(destination); }
            catch (NetlinkException x)
            {
                add(hop, HopStatus.Broken, $"The pod has no route to {destination} ({x.Message}).", e.Gateway is { } g
                    ? FixCommand.WithIp($"New-NetRoute -DestinationPrefix 0.0.0.0/0 -NextHop {g}", c, $"route add default via {g}") : null);
                return;
            }
            var local = IPNetwork.Parse($"{e.IPv4Address}/{e.PrefixLength}");
            var onSubnet = IPPrefixContains(local, destination);
            var via = r.Gateway is null ? $"dev {e.InterfaceName} (on its subnet)" : $"via {r.Gateway} dev {e.InterfaceName}";
            if (r.OutputInterfaceIndex != eth.Index)
                add(hop, HopStatus.Broken, $"The pod sends {destination} out of another interface (index {r.OutputInterfaceIndex}), not {e.InterfaceName}.",
                    FixCommand.Ip(c, $"route get {destination}") + "  # shows the route that wins; remove it");
            else if (!onSubnet && e.Gateway is { } gw && !gw.Equals(r.Gateway))
                add(hop, HopStatus.Broken, $"The pod sends {destination} via {r.Gateway?.ToString() ?? "no gateway"}, not via its node's bridge {gw}.",
                    FixCommand.WithIp($"New-NetRoute -DestinationPrefix 0.0.0.0/0 -NextHop {gw} -InterfaceAlias {e.InterfaceName} -Replace", c, $"route replace default via {gw} dev {e.InterfaceName}"));
            else
                add(hop, HopStatus.Ok, $"{destination} {via}.", null);
        }
    }

    private static bool IPPrefixContains(IPNetwork n, IPAddress a) => Subnets.Normalize(n).Contains(a);

    private void VxlanDevice(ClusterMembership m, Action<string, HopStatus, string, string?> add)
    {
        const string hop = "VxlanDevice";
        var reconnect = $"{FixCommand.Cmdlet("Disconnect-ContainerCluster -Force", H)}; {FixCommand.Cmdlet($"Connect-ContainerCluster -Store {m.Store} -Interface {m.Interface}", H)}";
        var link = Host.Rtnl.FindLink(m.Device!);
        if (link is null)
        {
            add(hop, HopStatus.Broken, $"The VXLAN device {m.Device} is gone: nothing carries pod traffic to the other nodes.", $"{reconnect}  # creates it again");
            return;
        }
        var v = Host.Rtnl.GetVxlan(m.Device!);
        if (v is null || v.Vni != m.Vni || !m.PublicAddress.Equals(v.Local))
            add(hop, HopStatus.Broken, $"{m.Device} is not the cluster's VXLAN device (vni {v?.Vni}, local {v?.Local}; the cluster uses vni {m.Vni}, local {m.PublicIP}).", reconnect);
        else if (!link.IsUp)
            add(hop, HopStatus.Broken, $"{m.Device} is down.", FixCommand.WithIp($"Set-NetLink {m.Device} -Up", H, $"link set {m.Device} up"));
        else
            add(hop, HopStatus.Ok, $"{m.Device} is up: vni {v.Vni}, local {v.Local}, dstport {v.Port}{(v.Learning ? "" : ", nolearning")}.", null);
    }

    private void PeerLease(ClusterMembership m, IPNetwork subnet, ClusterNodeLease? lease, ClusterPeer? record, string? storeError, string? peerName,
        string sync, Action<string, HopStatus, string, string?> add)
    {
        const string hop = "PeerLease";
        if (storeError is not null)
        {
            add(hop, HopStatus.Broken, storeError, $"Start etcd at {m.Store} (or make it reachable from this node), then {sync}.");
            return;
        }
        var key = ClusterNodeLease.SubnetKey(m.Prefix, subnet);
        if (lease is null)
        {
            add(hop, HopStatus.Broken, record is null
                ? $"No node holds {subnet}: there is no lease at {key} in etcd {m.Store}, so no node has pods there."
                : $"No lease at {key} in etcd {m.Store}: the lease of {record.Node ?? record.PublicIP} ran out or was released. This node still has its entries, but its next sync removes them.",
                record is null ? $"Check the address: Get-ContainerClusterNode -Store {m.Store} lists the subnets; or connect the node that should hold it (Connect-ContainerCluster)."
                    : $"{PeerCommand("Sync-ContainerCluster", peerName, record.PublicIP)}  # the peer's next sync takes {subnet} again");
            return;
        }
        var who = lease.Node ?? lease.PublicIP.ToString();
        if (lease.LeaseId != 0 && lease.Expires is null)
        {
            add(hop, HopStatus.Broken, $"The lease of {who} at {key} has expired: etcd is about to delete it.",
                $"{PeerCommand("Sync-ContainerCluster", peerName, lease.PublicIP.ToString())}  # renews it");
            return;
        }
        if (lease.BackendType != m.Backend)
        {
            add(hop, HopStatus.Broken, $"{who} uses backend {lease.BackendType}, this node {m.Backend}: this node programs nothing for it.",
                $"Connect both nodes to the same cluster config (Get-ContainerCluster -Store {m.Store}).");
            return;
        }
        if (record is null || record.PublicIP != lease.PublicIP.ToString() || !string.Equals(record.VtepMac, lease.VtepMac, StringComparison.OrdinalIgnoreCase))
        {
            add(hop, HopStatus.Broken, record is null
                ? $"{who} holds {subnet} ({lease.PublicIP}) but this node has not synced since it joined."
                : $"The lease of {who} says {lease.PublicIP}{(lease.VtepMac is null ? "" : " VTEP " + lease.VtepMac)}; this node programmed {record.PublicIP}{(record.VtepMac is null ? "" : " VTEP " + record.VtepMac)} (the peer changed since this node's last sync).",
                sync);
            return;
        }
        var until = lease.Expires is { } x ? $" until {x.UtcDateTime:u}" : "";
        add(hop, HopStatus.Ok, $"{who} holds {subnet} at {lease.PublicIP}{(lease.VtepMac is null ? "" : " (VTEP " + lease.VtepMac + ")")}{until}, as this node programmed it.", null);
    }

    private void NodeLease(ClusterMembership m, IReadOnlyList<ClusterNodeLease>? leases, string? storeError, string sync, Action<string, HopStatus, string, string?> add)
    {
        const string hop = "NodeLease";
        if (storeError is not null || leases is null)
        {
            add(hop, HopStatus.Skipped, "Not checked: etcd cannot be reached.", null);
            return;
        }
        var own = leases.FirstOrDefault(l => l.Key == m.LeaseKey);
        if (own is null || own.Value != m.LeaseValue)
            add(hop, HopStatus.Broken, own is null
                ? $"This node's own lease of {m.Subnet} is gone from etcd: the other nodes drop their route back to its pods at their next sync, so replies never return."
                : $"Another node ({own.PublicIP}) holds this node's subnet {m.Subnet} now: replies go there.",
                own is null ? $"{sync}  # takes {m.Subnet} again" : $"{FixCommand.Cmdlet("Disconnect-ContainerCluster -Force", H)}  # then connect again for a new subnet");
        else
            add(hop, HopStatus.Ok, $"This node ({m.Node}) holds {m.Subnet} in etcd{(own.Expires is { } x ? $" until {x.UtcDateTime:u}" : "")}: the others route replies back.", null);
    }

    /// <summary>A command for the peer node: with -NetNamespace when the node is a namespace on this machine, else "on NODE: …".</summary>
    private static string PeerCommand(string cmdlet, string? node, string publicIp)
    {
        if (node is not null && NetNamespace.ListNames().Contains(node, StringComparer.Ordinal)) return FixCommand.Cmdlet(cmdlet, node);
        return $"on node {node ?? publicIp}: {cmdlet}";
    }
}
