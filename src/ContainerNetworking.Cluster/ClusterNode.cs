using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;

namespace ContainerNetworking.Cluster;

/// <summary>A node of a cluster network as Connect-, Sync- and Get-ContainerCluster show it.</summary>
public sealed record ClusterNodeInfo
{
    public string Node { get; init; } = "";
    public string? NetNamespace { get; init; }
    public bool Connected { get; init; }
    public IPNetwork Subnet { get; init; }
    public IPAddress PublicIP { get; init; } = IPAddress.None;
    public string Interface { get; init; } = "";
    public ClusterBackend Backend { get; init; }
    public string? Device { get; init; }
    public string? VtepMac { get; init; }
    public int Mtu { get; init; }
    public string Network { get; init; } = "";
    public string Bridge { get; init; } = "";
    public IPNetwork ClusterNetwork { get; init; }
    public string Store { get; init; } = "";
    public string Prefix { get; init; } = "";
    public DateTimeOffset? Expires { get; init; }
    public IReadOnlyList<ClusterPeer> Peers { get; init; } = [];
}

/// <summary>What one reconciliation did: the peers whose entries were added, removed or changed.</summary>
public sealed record ClusterSyncResult
{
    public ClusterNodeInfo Node { get; init; } = new();
    public IReadOnlyList<ClusterPeer> Added { get; init; } = [];
    public IReadOnlyList<ClusterPeer> Removed { get; init; } = [];
    public IReadOnlyList<ClusterPeer> Changed { get; init; } = [];
    /// <summary>Peers whose lease did not change but whose route, neighbour or FDB entry had gone missing or wrong on this node, and were put back.</summary>
    public IReadOnlyList<ClusterPeer> Repaired { get; init; } = [];
    public IReadOnlyList<string> Skipped { get; init; } = [];
    public bool Renewed { get; init; }
    public DateTimeOffset Time { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>What <see cref="ClusterNodeManager.Connect"/> should do.</summary>
public sealed record ClusterConnectSpec
{
    public required string Store { get; init; }
    public string Prefix { get; init; } = ClusterConfig.DefaultPrefix;
    /// <summary>The underlay interface (flannel's --iface); by default the one holding <see cref="PublicIP"/>, or of the default route.</summary>
    public string? Interface { get; init; }
    /// <summary>The address other nodes reach this one at (flannel's --public-ip); by default the interface's first IPv4 address.</summary>
    public IPAddress? PublicIP { get; init; }
    /// <summary>The container network the node's pods join (Connect-ContainerNetwork NAME).</summary>
    public string Network { get; init; } = "cluster";
    public string Bridge { get; init; } = "cni0";
    /// <summary>The etcd lease's time to live; renewed by every sync (flannel: 24 h).</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromHours(24);
    /// <summary>The node's name in its lease; by default the namespace's name or the machine's host name.</summary>
    public string? Node { get; init; }
}

/// <summary>
/// One node of a flannel-style cluster network: the node's namespace (<see cref="Host"/>) leases a pod subnet in etcd,
/// gets a container network on it (through <see cref="ContainerNetworkManager"/>), the backend's device, masquerade for
/// traffic leaving the cluster, and, for every other node's lease, a route (host-gw) or a route, a neighbour and an FDB
/// entry on the VXLAN device (vxlan). Connect is all or nothing; Sync adds and removes exactly the entries of nodes that
/// joined, left or changed.
/// </summary>
public sealed class ClusterNodeManager(ContainerNetworkManager manager)
{
    private readonly ContainerNetworkManager _manager = manager;
    private NetNamespace Host => _manager.Host;
    private RouteClient Rtnl => Host.Rtnl;
    private string Where => Host.Name is null ? "this machine" : $"namespace '{Host.Name}'";

    public ClusterMembership? Membership => ClusterMembership.Read(_manager.State.Root);

    internal ClusterMembership RequireConnected()
    {
        var m = Membership;
        if (m is null || !m.Connected)
            throw new ContainerNetworkingException("ClusterNotConnected", ErrorKind.InvalidOperation,
                $"{Cap(Where)} is not connected to a cluster network. Connect it first: Connect-ContainerCluster -Store URL{NsArg}.");
        return m;
    }

    private string NsArg => Host.Name is null ? "" : $" -NetNamespace {Host.Name}";
    private static string Cap(string s) => char.ToUpperInvariant(s[0]) + s[1..];

    // ---- connect ----------------------------------------------------------------------------------------------

    /// <summary>What Connect would do, validated against the store and the node, nothing changed (-WhatIf).</summary>
    public IReadOnlyList<string> PlanConnect(ClusterConnectSpec spec)
    {
        using var store = new ClusterStore(spec.Store, spec.Prefix);
        var (config, uplink, publicIp, mtu) = Validate(spec, store);
        var steps = new List<string> { $"lease a /{config.SubnetLength} of {config.Network} in etcd {spec.Store} ({spec.Prefix}/subnets/…) for {publicIp}" };
        if (config.Backend == ClusterBackend.Vxlan)
            steps.Add($"ip link add flannel.{config.Vni} type vxlan id {config.Vni} local {publicIp} dev {uplink} dstport {config.Port} nolearning mtu {mtu}");
        steps.Add($"New-ContainerNetwork {spec.Network} -Subnet <the lease> -BridgeName {spec.Bridge} -Mtu {mtu} -DisableMasquerade -Routed");
        steps.Add($"masquerade <the lease> leaving {config.Network}");
        steps.Add(config.Backend == ClusterBackend.Vxlan ? "a route, a neighbour and an FDB entry per other node" : "a route per other node via its public address");
        return steps;
    }

    private (ClusterConfig Config, string Uplink, IPAddress PublicIp, int Mtu) Validate(ClusterConnectSpec spec, ClusterStore store)
    {
        if (TimeSpan.FromSeconds(2) > spec.LeaseDuration)
            throw new ContainerNetworkingException("InvalidLeaseDuration", ErrorKind.InvalidArgument, $"A lease of {spec.LeaseDuration} is too short: give 2 seconds or more (flannel uses 24 hours).");
        var config = store.GetConfig() ?? throw new ContainerNetworkingException("ClusterNotFound", ErrorKind.NotFound,
            $"No cluster network is configured at {store.ConfigKey} in etcd {store.Endpoint}. Create it first: New-ContainerCluster -Subnet 10.244.0.0/16 -Store {store.Endpoint}.");
        if (Membership is { Connected: true } m)
            throw new ContainerNetworkingException("ClusterAlreadyConnected", ErrorKind.AlreadyExists,
                $"{Cap(Where)} is already connected to the cluster at {m.Store}{m.Prefix} with subnet {m.Subnet}. Use Sync-ContainerCluster{NsArg}, or Disconnect-ContainerCluster{NsArg} first.");
        if (_manager.FindNetwork(spec.Network) is not null)
            throw new ContainerNetworkingException("NetworkExists", ErrorKind.AlreadyExists,
                $"Network '{spec.Network}' already exists in {Where}. Give the cluster's pod network another -NetworkName, or remove it first (Remove-ContainerNetwork {spec.Network}{NsArg}).");
        var (uplink, publicIp) = FindUplink(spec);
        var uplinkMtu = Rtnl.GetLink(uplink).Mtu;
        var mtu = config.Backend == ClusterBackend.Vxlan ? uplinkMtu - 50 : uplinkMtu;
        if (config.Backend == ClusterBackend.Vxlan && Rtnl.FindLink(DeviceName(config)) is { } dev)
            throw new ContainerNetworkingException("LinkExists", ErrorKind.AlreadyExists,
                $"A link named '{dev.Name}' ({dev.Kind ?? "device"}) already exists in {Where}. Remove it first (Remove-NetLink {dev.Name}{NsArg}).");
        return (config, uplink, publicIp, mtu);
    }

    private static string DeviceName(ClusterConfig c) => $"flannel.{c.Vni}";

    private (string Interface, IPAddress PublicIp) FindUplink(ClusterConnectSpec spec)
    {
        var addrs = Rtnl.GetAddresses(family: AddressFamily.InterNetwork).Where(a => a.Scope == 0).ToList();
        if (spec.PublicIP is { } ip)
        {
            var a = addrs.FirstOrDefault(x => x.Address.Equals(ip));
            if (a is not null) return (spec.Interface ?? a.InterfaceName!, ip);
            if (spec.Interface is null)
                throw new ContainerNetworkingException("PublicAddressNotFound", ErrorKind.NotFound,
                    $"No interface in {Where} has the address {ip}. Give -PublicIP one of {string.Join(", ", addrs.Select(x => x.Address))}, or -Interface too (an address reached through NAT).");
            Rtnl.GetLink(spec.Interface);
            return (spec.Interface, ip);
        }
        string name;
        if (spec.Interface is not null)
        {
            name = Rtnl.GetLink(spec.Interface).Name;
        }
        else
        {
            var def = Rtnl.GetRoutes(AddressFamily.InterNetwork).FirstOrDefault(r => r.IsDefault && r.OutputInterface is not null)
                ?? throw new ContainerNetworkingException("UplinkNotFound", ErrorKind.NotFound,
                    $"{Cap(Where)} has no default route to find its uplink by. Give -Interface (the underlay interface, as flannel's --iface).");
            name = def.OutputInterface!;
        }
        var addr = addrs.FirstOrDefault(x => x.InterfaceName == name)
            ?? throw new ContainerNetworkingException("PublicAddressNotFound", ErrorKind.NotFound,
                $"Interface '{name}' in {Where} has no global IPv4 address for other nodes to reach this one at. Add one (New-NetIPAddress -InterfaceAlias {name}{NsArg}) or give -PublicIP.");
        return (name, addr.Address);
    }

    /// <summary>
    /// Connects the node: validates everything and reads the cluster config first (an unreachable etcd changes nothing),
    /// then the VXLAN device, the lease (compare-and-swap), the pod network, masquerade and the peers' entries. A step
    /// that fails undoes the ones before it, the lease included.
    /// </summary>
    public ClusterNodeInfo Connect(ClusterConnectSpec spec)
    {
        using var store = new ClusterStore(spec.Store, spec.Prefix);
        var (config, uplink, publicIp, mtu) = Validate(spec, store);
        var previous = Membership;
        var node = spec.Node ?? Host.Name ?? Environment.MachineName;
        var m = new ClusterMembership
        {
            Store = spec.Store, Prefix = spec.Prefix, Node = node, Network = spec.Network, Bridge = spec.Bridge, Interface = uplink,
            PublicIP = publicIp.ToString(), Backend = config.BackendType, Vni = config.Vni, Port = config.Port, Mtu = mtu,
            ClusterNetwork = config.Network.ToString(), LeaseSeconds = (long)spec.LeaseDuration.TotalSeconds,
        };
        var undo = new Stack<Action>();
        try
        {
            if (config.Backend == ClusterBackend.Vxlan)
            {
                m.Device = DeviceName(config);
                // The same VTEP MAC as last time (other nodes may still hold FDB entries for it), else a fresh one.
                m.VtepMac = previous?.VtepMac ?? RandomMac();
                Rtnl.CreateVxlan(m.Device, new VxlanOptions
                {
                    Vni = config.Vni, Port = config.Port, Local = publicIp, Underlay = uplink, Learning = false, Mtu = mtu, MacAddress = m.VtepMac,
                });
                undo.Push(() => DeleteLink(m.Device));
            }
            var value = ClusterNodeLease.ToJson(publicIp, config.BackendType, config.Backend == ClusterBackend.Vxlan ? config.Vni : null, m.VtepMac, node);
            var lease = Acquire(store, config, publicIp, previous, value, spec.LeaseDuration);
            undo.Push(() => { try { store.Release(lease); } catch (ContainerNetworkingException) { } });
            m.Subnet = lease.Subnet.ToString();
            SetLease(m, lease);

            _manager.CreateNetwork(new NetworkSpec { Name = spec.Network, BridgeName = spec.Bridge, Subnet = lease.Subnet, Mtu = mtu, Masquerade = false, Routed = true });
            undo.Push(() => { try { _manager.RemoveNetwork(spec.Network, force: true); } catch (ContainerNetworkingException) { } });
            if (m.Device is not null)
            {
                Rtnl.AddAddress(m.Device, lease.Subnet.BaseAddress, 32);
                Rtnl.SetLinkUp(m.Device);
            }
            var fw = new ClusterFirewall(Host);
            fw.Install(lease.Subnet, config.Network);
            undo.Push(fw.Remove);
            m.Connected = true;
            var result = Reconcile(m, store.GetLeases());
            undo.Push(() => { foreach (var p in m.Peers) RemovePeer(m, p); });
            m.Write(_manager.State.Root);
            _ = result;
            return Info(m);
        }
        catch
        {
            while (undo.TryPop(out var u))
            {
                try { u(); } catch (Exception) { /* the original failure matters more */ }
            }
            throw;
        }
    }

    private ClusterNodeInfo Info(ClusterMembership m, ClusterSyncResult? with_peers = null) => new()
    {
        Node = m.Node, NetNamespace = Host.Name, Connected = m.Connected, Subnet = m.SubnetNetwork, PublicIP = m.PublicAddress,
        Interface = m.Interface, Backend = m.BackendKind, Device = m.Device, VtepMac = m.VtepMac, Mtu = m.Mtu, Network = m.Network,
        Bridge = m.Bridge, ClusterNetwork = IPNetwork.Parse(m.ClusterNetwork), Store = m.Store, Prefix = m.Prefix, Expires = m.Expires,
        Peers = m.Peers.ToList(),
    };

    private static void SetLease(ClusterMembership m, ClusterNodeLease lease)
    {
        m.LeaseKey = lease.Key;
        m.LeaseValue = lease.Value;
        m.LeaseId = lease.LeaseId;
        m.Expires = lease.Expires;
    }

    /// <summary>
    /// flannel's choice: the lease this address already holds (taken over with the new value), else the subnet this
    /// node held last time if it is free, else the first free subnet from SubnetMin on; each taken with a transaction
    /// that fails when someone else got there first, and then the next candidate is tried.
    /// </summary>
    private static ClusterNodeLease Acquire(ClusterStore store, ClusterConfig config, IPAddress publicIp, ClusterMembership? previous, string value, TimeSpan ttl)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var leases = store.GetLeases();
            if (leases.FirstOrDefault(l => l.PublicIP.Equals(publicIp) && config.Network.Contains(l.Subnet.BaseAddress)) is { } mine)
            {
                if (store.Renew(mine, value, ttl) is { } renewed) return renewed;
                continue;
            }
            var taken = leases.Select(l => Subnets.ToUInt(l.Subnet.BaseAddress)).ToHashSet();
            var candidates = new List<IPNetwork>();
            if (previous is not null && previous.Prefix == store.Prefix && IPNetwork.TryParse(previous.Subnet, out var prev)
                && prev.PrefixLength == config.SubnetLength && config.Network.Contains(prev.BaseAddress) && !taken.Contains(Subnets.ToUInt(prev.BaseAddress)))
                candidates.Add(prev);
            candidates.AddRange(Subnets.Range(config).Where(s => !taken.Contains(Subnets.ToUInt(s.BaseAddress))).Take(64));
            if (candidates.Count == 0)
                throw new ContainerNetworkingException("SubnetPoolExhausted", ErrorKind.LimitsExceeded,
                    $"Every /{config.SubnetLength} of {config.Network} ({config.SubnetMin} to {config.SubnetMax}) is leased. Remove nodes that are gone (their leases expire), or make the cluster network larger.");
            foreach (var c in candidates)
                if (store.TryAcquire(c, value, ttl) is { } got) return got;
        }
        throw new ContainerNetworkingException("SubnetContention", ErrorKind.ResourceBusy,
            $"Other nodes took every subnet this node tried, five times over. Try again (Connect-ContainerCluster).");
    }

    // ---- sync -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Reconciles the node with the store once: renews this node's lease (taking its subnet again if the lease had
    /// expired and the subnet is still free), then adds the entries of nodes that joined, removes those of nodes that
    /// left (released or expired), replaces those of nodes whose address or VTEP changed, and puts back the entries of
    /// unchanged nodes that went missing or wrong in the kernel (someone deleted a route, a neighbour, an FDB entry).
    /// </summary>
    public ClusterSyncResult Sync()
    {
        var m = RequireConnected();
        using var store = new ClusterStore(m.Store, m.Prefix);
        return Sync(m, store);
    }

    private ClusterSyncResult Sync(ClusterMembership m, ClusterStore store)
    {
        var leases = store.GetLeases();
        var ttl = TimeSpan.FromSeconds(m.LeaseSeconds);
        var current = leases.FirstOrDefault(l => l.Key == m.LeaseKey);
        ClusterNodeLease? renewed;
        if (current is not null && current.Value == m.LeaseValue) renewed = store.Renew(current, m.LeaseValue, ttl);
        else if (current is null) renewed = store.TryAcquire(m.SubnetNetwork, m.LeaseValue, ttl);
        else renewed = null;
        if (renewed is null)
            throw new ContainerNetworkingException("SubnetLost", ErrorKind.InvalidOperation,
                $"The lease of {m.Subnet} ran out and another node ({current?.PublicIP}) holds the subnet now. Disconnect this node (Disconnect-ContainerCluster{NsArg} -Force) and connect it again for a new subnet.");
        SetLease(m, renewed);
        var result = Reconcile(m, store.GetLeases());
        m.Write(_manager.State.Root);
        return result with { Renewed = true };
    }

    private ClusterSyncResult Reconcile(ClusterMembership m, IReadOnlyList<ClusterNodeLease> leases)
    {
        var desired = new Dictionary<string, ClusterPeer>(StringComparer.Ordinal);
        var skipped = new List<string>();
        foreach (var l in leases)
        {
            if (l.Key == m.LeaseKey) continue;
            if (l.BackendType != m.Backend) { skipped.Add($"{l.Subnet}: backend {l.BackendType}, this node uses {m.Backend}"); continue; }
            if (m.BackendKind == ClusterBackend.Vxlan && l.VtepMac is null) { skipped.Add($"{l.Subnet}: no VtepMAC in its lease"); continue; }
            desired[l.Subnet.ToString()] = new ClusterPeer(l.Subnet.ToString(), l.PublicIP.ToString(), l.VtepMac, l.Node);
        }
        var have = m.Peers.ToDictionary(p => p.Subnet, StringComparer.Ordinal);
        var added = new List<ClusterPeer>();
        var removed = new List<ClusterPeer>();
        var changed = new List<ClusterPeer>();
        var repaired = new List<ClusterPeer>();
        ClusterPeerEntries? kernel = null;
        foreach (var (subnet, old) in have)
        {
            if (desired.TryGetValue(subnet, out var now) && now.PublicIP == old.PublicIP && now.VtepMac == old.VtepMac)
            {
                kernel ??= ClusterPeerEntries.Read(Rtnl, m);
                if (!kernel.AllPresent(old))
                {
                    AddPeer(m, old);
                    repaired.Add(old);
                }
                continue;
            }
            RemovePeer(m, old);
            m.Peers.Remove(old);
            if (desired.ContainsKey(subnet)) changed.Add(desired[subnet]); else removed.Add(old);
        }
        foreach (var (subnet, p) in desired)
        {
            if (m.Peers.Any(x => x.Subnet == subnet)) continue;
            AddPeer(m, p);
            m.Peers.Add(p);
            if (!changed.Contains(p)) added.Add(p);
        }
        m.Peers.Sort((a, b) => Subnets.ToUInt(IPNetwork.Parse(a.Subnet).BaseAddress).CompareTo(Subnets.ToUInt(IPNetwork.Parse(b.Subnet).BaseAddress)));
        return new ClusterSyncResult { Node = Info(m), Added = added, Removed = removed, Changed = changed, Repaired = repaired, Skipped = skipped };
    }

    private void AddPeer(ClusterMembership m, ClusterPeer p)
    {
        var subnet = IPNetwork.Parse(p.Subnet);
        var publicIp = IPAddress.Parse(p.PublicIP);
        if (m.BackendKind == ClusterBackend.Vxlan)
        {
            // flannel's order: neighbour and FDB first, so the route never points at an unresolvable VTEP.
            Rtnl.AddNeighbor(m.Device!, subnet.BaseAddress, p.VtepMac!, replace: true);
            Rtnl.AddFdb(m.Device!, p.VtepMac!, publicIp, replace: true);
            Rtnl.AddRoute(new RouteSpec(subnet, subnet.BaseAddress, m.Device) { OnLink = true }, replace: true);
        }
        else
        {
            Rtnl.AddRoute(new RouteSpec(subnet, publicIp, m.Interface), replace: true);
        }
    }

    private void RemovePeer(ClusterMembership m, ClusterPeer p)
    {
        var subnet = IPNetwork.Parse(p.Subnet);
        Ignore(() => Rtnl.RemoveRoute(new RouteSpec(subnet) { Interface = m.BackendKind == ClusterBackend.Vxlan ? m.Device : m.Interface }));
        if (m.BackendKind != ClusterBackend.Vxlan) return;
        Ignore(() => Rtnl.RemoveNeighbor(m.Device!, subnet.BaseAddress));
        Ignore(() => Rtnl.RemoveFdb(m.Device!, p.VtepMac!, IPAddress.Parse(p.PublicIP)));
    }

    private static void Ignore(Action a)
    {
        try { a(); }
        catch (ContainerNetworkingException e) when (e.Kind == ErrorKind.NotFound) { }
    }

    /// <summary>
    /// Syncs now and then again whenever a lease under the prefix changes (etcd's watch), and at least every
    /// <paramref name="interval"/> (which also renews the lease), until <paramref name="cancel"/> is cancelled.
    /// <paramref name="report"/> runs on the calling thread after each sync.
    /// </summary>
    public void Watch(Action<ClusterSyncResult> report, CancellationToken cancel, TimeSpan? interval = null)
    {
        var m = RequireConnected();
        var every = interval ?? TimeSpan.FromSeconds(Math.Clamp(m.LeaseSeconds / 4, 1, 60));
        using var store = new ClusterStore(m.Store, m.Prefix);
        using var signal = new SemaphoreSlim(0);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var watch = store.WatchLeases(() => { try { signal.Release(); } catch (ObjectDisposedException) { } }, stop.Token);
        try
        {
            report(Sync(m, store));
            while (!cancel.IsCancellationRequested)
            {
                try { signal.Wait(every, cancel); }
                catch (OperationCanceledException) { break; }
                while (signal.Wait(0)) { } // several events, one sync
                m = RequireConnected();
                report(Sync(m, store));
            }
        }
        finally
        {
            stop.Cancel();
            try { watch.Wait(TimeSpan.FromSeconds(2)); } catch (Exception) { /* cancelled */ }
        }
    }

    // ---- disconnect -------------------------------------------------------------------------------------------

    /// <summary>
    /// Releases the lease and removes what Connect built: the peers' entries, masquerade, the pod network (refused
    /// while pods are attached, unless <paramref name="force"/>), the VXLAN device. The local record keeps the subnet
    /// and VTEP MAC for the next Connect. With <paramref name="force"/> an unreachable store does not stop the local teardown.
    /// </summary>
    public ClusterNodeInfo Disconnect(bool force = false)
    {
        var m = RequireConnected();
        if (!force && _manager.FindNetwork(m.Network) is not null && _manager.GetEndpoints(m.Network).Count > 0)
            throw new ContainerNetworkingException("NetworkHasEndpoints", ErrorKind.InvalidOperation,
                $"Network '{m.Network}' of {Where} still has containers. Disconnect them first (Get-ContainerEndpoint -Network {m.Network}{NsArg} | Disconnect-ContainerNetwork), or use -Force.");
        try
        {
            using var store = new ClusterStore(m.Store, m.Prefix);
            store.Release(m.Lease);
        }
        catch (ContainerNetworkingException e) when (force && e.ErrorId == "ClusterStoreUnreachable") { /* the lease expires by itself */ }
        foreach (var p in m.Peers.ToList()) RemovePeer(m, p);
        m.Peers.Clear();
        new ClusterFirewall(Host).Remove();
        if (_manager.FindNetwork(m.Network) is not null) _manager.RemoveNetwork(m.Network, force);
        if (m.Device is not null) DeleteLink(m.Device);
        m.Connected = false;
        m.Expires = null;
        m.Write(_manager.State.Root);
        return Info(m);
    }

    /// <summary>The node's state as its local record and the store have it (Get-ContainerCluster -NetNamespace).</summary>
    public ClusterNodeInfo? GetNode()
    {
        var m = Membership;
        return m is null ? null : Info(m);
    }

    private void DeleteLink(string name)
    {
        try { Rtnl.DeleteLink(name); }
        catch (ContainerNetworkingException e) when (e.ErrorId == "LinkNotFound") { }
    }

    private static string RandomMac()
    {
        Span<byte> b = stackalloc byte[6];
        RandomNumberGenerator.Fill(b);
        b[0] = (byte)((b[0] & 0xfe) | 0x02);
        return string.Join(':', b.ToArray().Select(x => x.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }
}
