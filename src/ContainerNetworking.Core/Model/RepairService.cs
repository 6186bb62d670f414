using System.Net;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Model;

/// <summary>Repair: what a crashed or killed process left behind, found and removed or re-created (Repair-ContainerNetwork).</summary>
public sealed class RepairService : ModelService
{
    internal RepairService(NetworkContext context) : base(context)
    {
    }

    /// <summary>
    /// Finds what a crashed or killed process left behind and, unless <paramref name="whatIf"/>, removes or
    /// re-creates it: half-built networks and endpoints (records still in state Creating: everything they list is
    /// undone), endpoints whose namespace or veth is gone, container-mode endpoints whose pod is gone, leases
    /// without an endpoint, veths on a network's bridge that no endpoint owns, published ports (map elements)
    /// that point at addresses nobody owns, and a network's bridge or rules that someone deleted or flushed
    /// (re-created); first the state files themselves (records that cannot be read, temporary files of killed
    /// writers, see <see cref="RepairStateFiles"/>). Runs under the state lock, so it never sees an operation in progress.
    /// </summary>
    public IReadOnlyList<RepairFinding> Repair(bool whatIf = false)
    {
        lock (Sync)
        using (State.Lock())
        {
            var findings = new List<RepairFinding>();
            void Found(string kind, string network, string obj, string detail, Action fix, bool recreate = false)
            {
                if (whatIf)
                {
                    findings.Add(new RepairFinding(kind, network, obj, recreate ? "WouldRecreate" : "WouldRemove", detail));
                    return;
                }
                try
                {
                    fix();
                    findings.Add(new RepairFinding(kind, network, obj, recreate ? "Recreated" : "Removed", detail));
                }
                catch (Exception e) when (e is ContainerNetworkingException or IOException or UnauthorizedAccessException)
                {
                    findings.Add(new RepairFinding(kind, network, obj, "Failed", detail + " Repair failed: " + e.Message));
                }
            }

            RepairStateFiles(Found);

            // The table's base (fixed rules such as the CVE-2020-8558 guard, its chains and maps), piece by piece:
            // everything a network relies on, deleted by someone while the rest stayed.
            var missingBase = Rules.Fw.FindMissingBase();
            if (missingBase.Count > 0)
                Found("MissingBaseRules", "", "table inet " + ContainerFirewall.TableName,
                    $"Parts of the ruleset every network relies on are missing (deleted by hand?): {string.Join("; ", missingBase)}. They are put back; every other rule and element stays.",
                    () => Rules.Fw.RestoreBase(), recreate: true);

            // Damaged records count as absent from here on (they are once set aside; with -WhatIf they are still there).
            using var ignoring = State.IgnoringCorruptRecords();
            foreach (var net in State.ListNetworks())
            {
                if (net.State == RecordState.Removing)
                {
                    var removing = net;
                    Found("IncompleteNetworkRemoval", net.Name, net.Name,
                        $"The removal of network '{net.Name}' was interrupted half-way; it is finished (its endpoints, rules, bridge {net.BridgeName} and record are removed), not undone.",
                        () => Context.Networks.FinishRemoval(removing));
                    continue;
                }
                if (net.State == RecordState.Creating)
                {
                    Found("IncompleteNetwork", net.Name, net.Name,
                        $"Network '{net.Name}' was left half-created by process {net.OwnerPid}; its rules, bridge {net.BridgeName} and record are removed.",
                        () =>
                        {
                            foreach (var e in State.ListEndpoints(net.Name)) RemoveEndpointRemains(e, net);
                            if (net.BridgeName is not null)
                            {
                                Rules.RemoveNetwork(net);
                                DeleteLinkIfExists(Host, net.BridgeName);
                            }
                            Context.Endpoints.FlushAllStaleFlows(net.Name);
                            State.DeleteNetwork(net.Name);
                        });
                    continue;
                }
                RepairNetwork(net, whatIf, Found);
            }
            RepairAllowances(Found);
            // Names between containers: hosts files deleted or changed by hand, or left stale by a killed process.
            foreach (var (network, obj, detail, fix) in Context.Names.FindStale())
                Found("StaleHostsFile", network, obj, detail, fix, recreate: true);
            // The veths of the namespaces removed above go with them in the kernel's cleanup, moments later: waited for
            // (as Disconnect-ContainerNetwork waits), so that the host is as Repair reports when it returns and a
            // Repair right after finds no veth on a bridge that no endpoint owns.
            if (!whatIf) Context.Endpoints.WaitForTeardown();
            return findings;
        }
    }

    private delegate void Finding(string kind, string network, string obj, string detail, Action fix, bool recreate = false);

    /// <summary>
    /// The state files themselves: temporary files that a writer killed mid-write left (removed once their process is
    /// gone), and records that cannot be read (empty or cut short by a power cut, damaged by hand), which are set aside
    /// into ROOT/corrupt together with what they described: a network's bridge and rules (found by their owner,
    /// network:NAME) and its endpoints' veths, namespaces, ports and leases; an endpoint's veth (named for its id) and
    /// leases (its published ports, which point at its address, are found as orphans below).
    /// </summary>
    private void RepairStateFiles(Finding found)
    {
        foreach (var f in State.LeftoverTemporaryFiles())
        {
            var file = f;
            found("LeftoverTemporaryFile", NetworkOfPath(f), f,
                $"{f} was being written by process {StateStore.TemporaryFileWriter(f)}, which was killed before it renamed it into place; it is removed (the record it was to replace is intact).",
                () => State.RemoveLeftover(file));
        }
        foreach (var d in State.LeftoverDeletedDirectories())
        {
            var dir = d;
            found("LeftoverDeletedDirectory", "", d,
                $"{d} is the directory of a removed network that a process killed during the removal left; it is deleted.",
                () => State.RemoveLeftover(dir));
        }
        foreach (var d in State.EmptyNetworkDirectories())
        {
            var dir = d;
            found("LeftoverNetworkDirectory", Path.GetFileName(d), d,
                $"{d} holds no network record and no file (a New-ContainerNetwork killed before it wrote its record left it); it is removed.",
                () => State.RemoveLeftover(dir));
        }
        foreach (var r in State.FindCorruptRecords())
        {
            var record = r;
            if (r.EndpointId is not { } id)
            {
                var bridge = Rules.BridgeOwnedBy(r.Network);
                found("CorruptNetworkRecord", r.Network, r.Path,
                    $"The record of network '{r.Network}' cannot be read: {r.Damage}. It is set aside (with the network's leases and endpoint records) into {State.CorruptDirectory}; " +
                    (bridge is null ? "no bridge or rules of it are left in the kernel" : $"its bridge {bridge} and its rules are removed") +
                    ", with its endpoints' veths, namespaces and ports. Create the network again with New-ContainerNetwork.",
                    () => RemoveDamagedNetwork(record, bridge));
            }
            else
            {
                var veth = "veth" + (id.Length >= 7 ? id[..7] : id);
                found("CorruptEndpointRecord", r.Network, id,
                    $"The record of endpoint {(id.Length >= 12 ? id[..12] : id)} on network '{r.Network}' cannot be read: {r.Damage}. It is set aside into {State.CorruptDirectory}; " +
                    $"its veth {veth} and its leases are removed (its published ports, pointing at an address nobody owns now, go below). Connect the container again.",
                    () =>
                    {
                        State.SetAside(record);
                        DeleteLinkIfExists(Host, veth);
                        foreach (var (address, owner) in State.Leases(record.Network))
                            if (owner == id) ReleaseNotingFlows(record.Network, address, id);
                    });
            }
        }
    }

    /// <summary>The network a state file belongs to (ROOT/networks/NAME/…), or "" for one outside any.</summary>
    private string NetworkOfPath(string path)
    {
        var networks = Path.Combine(State.Root, "networks") + "/";
        if (!path.StartsWith(networks, StringComparison.Ordinal)) return "";
        var rest = path[networks.Length..];
        var slash = rest.IndexOf('/');
        return slash < 0 ? "" : rest[..slash];
    }

    /// <summary>What a network whose record is damaged left: its readable endpoints' remains, its rules and bridge; then its directory is set aside.</summary>
    private void RemoveDamagedNetwork(CorruptRecord record, string? bridge)
    {
        var standIn = new ContainerNetwork
        {
            Name = record.Network,
            Id = "",
            Driver = bridge is null ? NetworkDriver.None : NetworkDriver.Bridge,
            BridgeName = bridge,
        };
        using (State.IgnoringCorruptRecords())
            foreach (var e in State.ListEndpoints(record.Network)) RemoveEndpointRemains(e, standIn);
        if (bridge is not null)
        {
            Rules.RemoveNetwork(standIn);
            DeleteLinkIfExists(Host, bridge);
        }
        Context.Endpoints.FlushAllStaleFlows(record.Network); // its subnet may be created again
        State.SetAside(record);
    }

    /// <summary>Releases a lease Repair found without its endpoint, its address noted as "conntrack flush pending" first (as Disconnect notes it).</summary>
    private void ReleaseNotingFlows(string network, System.Net.IPAddress address, string owner)
    {
        State.NoteStaleFlows(network, [address], []);
        State.ReleaseLease(network, address, owner);
    }

    private void RepairNetwork(ContainerNetwork net, bool whatIf, Finding found)
    {
        var endpoints = State.ListEndpoints(net.Name).ToList();
        var alive = new List<ContainerEndpoint>();
        var isBridge = net.Driver == NetworkDriver.Bridge;

        if (isBridge)
        {
            if (Host.Rtnl.FindLink(net.BridgeName!) is null)
                found("MissingBridge", net.Name, net.BridgeName!,
                    $"Bridge {net.BridgeName} of network '{net.Name}' is gone; it is re-created with gateway {net.Gateway}. Its endpoints' veths went with it and are cleaned up below.",
                    () =>
                    {
                        var p = new OperationPlan("Re-create bridge " + net.BridgeName);
                        Context.Networks.AddBridgeSteps(p, net);
                        p.Execute();
                    }, recreate: true);
            var missingRules = Rules.MissingPieces(net);
            if (missingRules.Count > 0)
                found("MissingNetworkRules", net.Name, net.BridgeName!,
                    $"The nf_tables rules of network '{net.Name}' (masquerade, forward filter) are missing or incomplete (flushed, or deleted by hand?): {string.Join("; ", missingRules)}. They are put back in their places in one batch; no other rule or element is touched.",
                    () => Rules.RestoreNetwork(net), recreate: true);
        }

        // Endpoints: half-built ones, and ones whose namespace or veth is gone.
        var links = isBridge ? Host.Rtnl.GetLinks() : [];
        foreach (var e in endpoints)
        {
            string? why = null;
            string kind = "BrokenEndpoint";
            if (e.State == RecordState.Removing)
            {
                var removing = e;
                found("IncompleteDisconnect", net.Name, e.Id,
                    $"The Disconnect of endpoint {e.Id[..12]} ({e.Container}) was interrupted half-way; it is finished (what is left of its ports, veth, namespace, leases and record is removed), not undone.",
                    () =>
                    {
                        var plan = new OperationPlan($"Finish disconnecting {removing.Container} from network {net.Name}");
                        Context.Endpoints.AddDisconnectSteps(plan, removing);
                        plan.Execute();
                    });
                continue;
            }
            if (e.State == RecordState.Creating)
            {
                kind = "IncompleteEndpoint";
                why = $"Endpoint {e.Id[..12]} ({e.Container}) was left half-connected by process {e.OwnerPid}; everything it lists is undone.";
            }
            else if (e.Mode == EndpointMode.Container)
            {
                if (!endpoints.Any(o => o.Id == e.SharedWith && o.State == RecordState.Ready))
                    why = $"Container '{e.Container}' shares the namespace of endpoint {e.SharedWith?[..12]}, which no longer exists.";
            }
            else if (e.Mode != EndpointMode.Host && !NamespaceStillThere(e))
            {
                kind = "EndpointNamespaceGone";
                why = $"The namespace of endpoint {e.Id[..12]} ({e.Container}), '{e.Namespace}', is gone (or is another namespace now).";
            }
            else if (e.Mode == EndpointMode.Bridge && !links.Any(l => l.Name == e.HostInterface))
            {
                kind = "EndpointLinkGone";
                why = $"The veth {e.HostInterface} of endpoint {e.Id[..12]} ({e.Container}) is gone, so the container is cut off.";
            }
            if (why is null)
            {
                alive.Add(e);
                continue;
            }
            var ep = e;
            found(kind, net.Name, e.Id, why + " Its veth, ports, leases, record (and the namespace it created) are removed.",
                () => RemoveEndpointRemains(ep, net));
        }

        // Leases that no live endpoint holds. An empty one is what a power cut leaves of a lease renamed into place before
        // its data reached the disk (leases are not fsync'ed, see StateStore): its address is freed, unless the record of
        // a live endpoint holds that address (then the lease is written again for it, as for one naming nobody).
        foreach (var (address, owner) in State.Leases(net.Name))
        {
            if (endpoints.Any(e => e.Id == owner)) continue; // handled with its endpoint
            var a = address;
            if (alive.FirstOrDefault(e => address.Equals(e.IPv4Address) || address.Equals(e.IPv6Address)) is { } holder)
            {
                var holderId = holder.Id;
                found(owner.Length == 0 ? "EmptyLease" : "OrphanLease", net.Name, address.ToString(),
                    $"The lease of address {address} {(owner.Length == 0 ? "is empty (a power cut before it reached the disk?)" : $"names endpoint {(owner.Length >= 12 ? owner[..12] : owner)}, which does not exist")}, " +
                    $"but endpoint {holderId[..12]} ({holder.Container}) holds the address; the lease is written again for it.",
                    () => State.WriteLease(net.Name, a, holderId));
                continue;
            }
            if (owner.Length == 0)
            {
                found("EmptyLease", net.Name, address.ToString(),
                    $"The lease of address {address} is empty (a power cut before it reached the disk?) and no endpoint holds the address; the lease is released.",
                    () => ReleaseNotingFlows(net.Name, a, ""));
                continue;
            }
            found("OrphanLease", net.Name, address.ToString(),
                $"Address {address} is leased to endpoint {(owner.Length >= 12 ? owner[..12] : owner)}, which does not exist; the lease is released.",
                () => ReleaseNotingFlows(net.Name, a, owner));
        }

        if (!isBridge) return;

        // Veths on the bridge that no endpoint owns (a Connect killed before it wrote its record would not leave
        // one: the intent record comes first; this catches records deleted by hand and older leftovers).
        var orphans = OrphanPorts(links, net.BridgeName, endpoints);
        // Disconnect deletes a container's namespace and lets the kernel take the veth with it: the host end goes
        // away asynchronously (cleanup_net), moments later. Give such veths a moment before calling them orphans.
        if (orphans.Count > 0) orphans = WaitForVethsToGo(orphans, TimeSpan.FromSeconds(3));
        foreach (var name in orphans)
        {
            found("OrphanVeth", net.Name, name,
                $"Veth {name} is a port of {net.BridgeName} but belongs to no endpoint; it is deleted (with its peer).",
                () => DeleteLinkIfExists(Host, name));
        }

        // Published ports: elements that point at addresses no endpoint of this network owns, and live endpoints'
        // ports that are missing. A mapping to an endpoint's address that its record does not list (Publish-ContainerPort
        // to the container) is the user's and stays; one that names another endpoint as its owner is a leftover.
        // (Ports of endpoints removed above went with them; with what-if they are reported with their endpoint.)
        var owned = alive.Where(e => e.Mode == EndpointMode.Bridge).ToList();
        var recorded = endpoints.Where(e => e.Mode == EndpointMode.Bridge).ToList();
        foreach (var (port, target, owner) in Ports.ListPorts(net))
        {
            var holder = recorded.FirstOrDefault(e => target.Equals(e.IPv4Address) || target.Equals(e.IPv6Address));
            if (holder is not null && (owner is null || !owner.StartsWith("endpoint:", StringComparison.Ordinal) || owner == NetworkRules.EndpointOwner(holder)))
                continue;
            var (pp, tt) = (port, target);
            found("OrphanPortMapping", net.Name, $"{port} -> {target}",
                $"Host port {port.HostPort}/{port.Protocol.ToString().ToLowerInvariant()} is forwarded to {target}:{port.ContainerPort}, which no endpoint owns: connections to it go nowhere. The mapping is removed.",
                () => Ports.RemovePort(net, pp, tt));
        }
        var present = owned.Any(e => e.Ports.Count > 0) ? Ports.ListPorts(net) : [];
        foreach (var e in owned)
        {
            var missing = PortPublishing.MissingPorts(e, present);
            if (missing.Count == 0) continue;
            var ep = e;
            found("MissingPortMapping", net.Name, e.Id,
                $"Endpoint {e.Id[..12]} ({e.Container}) publishes {string.Join(", ", missing)} but {(missing.Count == 1 ? "that mapping is" : "those mappings are")} not in the kernel (deleted or flushed?); {(missing.Count == 1 ? "it is" : "they are")} re-created, the others stay.",
                () => Ports.AddPorts(net, ep, missing), recreate: true);
        }
        RepairRoutes(net, owned, found);
    }

    /// <summary>The network's static routes missing in a live container (deleted by hand): added again.</summary>
    private static void RepairRoutes(ContainerNetwork net, IEnumerable<ContainerEndpoint> owned, Finding found)
    {
        var routes = net.ResolvedRoutes().ToList();
        if (routes.Count == 0) return;
        foreach (var e in owned)
        {
            if (e.Namespace is null || e.InterfaceName is null) continue;
            List<NetworkRoute> missing;
            try
            {
                using var ns = NetNamespace.Open(e.Namespace);
                var have = ns.Rtnl.GetRoutes();
                missing = routes.Where(r => (e.IPv6Address is not null || r.Destination.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                    && !have.Any(h => h.Destination.Equals(r.Destination) && Equals(h.Gateway, r.Gateway) && h.OutputInterface == e.InterfaceName)).ToList();
            }
            catch (Exception x) when (x is ContainerNetworkingException or IOException or ArgumentException)
            {
                continue; // the namespace went meanwhile: nothing to route
            }
            if (missing.Count == 0) continue;
            var ep = e;
            found("MissingRoute", net.Name, e.Id,
                $"Container '{e.Container}' lacks the network's route{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(r => $"{r.Destination} via {r.Gateway}"))} on {e.InterfaceName}; added again.",
                () =>
                {
                    using var ns = NetNamespace.Open(ep.Namespace!);
                    foreach (var r in missing) ns.Rtnl.AddRoute(new Route.RouteSpec(r.Destination, r.Gateway, ep.InterfaceName), replace: true);
                }, recreate: true);
        }
    }

    /// <summary>
    /// Allowances between networks (<see cref="ContainerNetwork.AllowedNetworks"/>) whose rules are missing (flushed):
    /// re-created, after every network's own rules are back. Each pair is looked at once.
    /// </summary>
    private void RepairAllowances(Finding found)
    {
        var nets = State.ListNetworks().Where(n => n.State == RecordState.Ready && n.Driver == NetworkDriver.Bridge).ToDictionary(n => n.Name);
        foreach (var net in nets.Values)
        {
            foreach (var otherName in net.AllowedNetworks)
            {
                if (!nets.TryGetValue(otherName, out var other)) continue;
                if (!other.AllowedNetworks.Contains(net.Name))
                {
                    // An Allow writes both records before the rules, a Disallow after them: one record written and not
                    // the other is one of them interrupted between the two writes. The records are made to agree (the
                    // pair allowed, as the one record says), then the rules follow them.
                    var (n, o) = (net, other);
                    found("HalfRecordedAllowance", net.Name, $"{net.BridgeName} <-> {other.BridgeName}",
                        $"Network '{net.Name}' lists '{other.Name}' as allowed, but '{other.Name}' does not list '{net.Name}' (an Allow or Disallow was interrupted between its two record writes); both records list each other now and the rules that let them talk ({NetworkRules.DescribeAllowance(net, other)}) are in place. Disallow the pair again if it should not talk.",
                        () =>
                        {
                            o.AllowedNetworks.Add(n.Name);
                            o.AllowedNetworks.Sort(StringComparer.Ordinal);
                            State.WriteNetwork(o);
                            if (!Rules.HasAllowance(n, o)) Rules.AllowNetworks(n, o);
                        }, recreate: true);
                    continue;
                }
                if (string.CompareOrdinal(net.Name, otherName) > 0) continue; // seen from the other side
                if (Rules.HasAllowance(net, other)) continue;
                found("MissingNetworkAllowance", net.Name, $"{net.BridgeName} <-> {other.BridgeName}",
                    $"Networks '{net.Name}' and '{other.Name}' are allowed to talk, but the rules that let them ({NetworkRules.DescribeAllowance(net, other)}) are missing (flushed?); they are re-created.",
                    () => Rules.AllowNetworks(net, other), recreate: true);
            }
        }
    }

    /// <summary>Removes whatever exists of an endpoint: ports, veth, the namespace it created, leases, record. Idempotent.</summary>
    private void RemoveEndpointRemains(ContainerEndpoint e, ContainerNetwork net)
    {
        if (net.Driver == NetworkDriver.Bridge && e.Ports.Count > 0 && e.Mode == EndpointMode.Bridge) Ports.RemovePorts(net, e);
        if (e.HostInterface is { } veth) DeleteLinkIfExists(Host, veth);
        if (e.CreatedNamespace && e.Namespace is { } n && !n.StartsWith('/'))
        {
            // The container stays on another network: that one owns the namespace now, which stays.
            if (e.NamespaceId != 0 && State.ListAllEndpoints().FirstOrDefault(o => o.Id != e.Id && o.NamespaceId == e.NamespaceId
                    && o.Network != e.Network && o.Mode == EndpointMode.Bridge && o.State == RecordState.Ready) is { } heir)
            {
                heir.CreatedNamespace = true;
                State.WriteEndpoint(heir);
            }
            else EndpointService.DeleteNamespaceIfSame(n, e.NamespaceId);
        }
        // Its conntrack entries are flushed when its address or UDP host ports are used again, as after a Disconnect.
        Context.Endpoints.NoteStaleFlows(e);
        foreach (var (address, owner) in State.Leases(e.Network))
            if (owner == e.Id) State.ReleaseLease(e.Network, address, e.Id);
        State.DeleteEndpoint(e.Network, e.Id);
        // It held (or was taking over) the container's default route: the container's other networks get it back.
        if (e.Mode == EndpointMode.Bridge && (e.Gateway is not null || e.GatewayV6 is not null)) Context.Endpoints.HandDefaultRouteOver(e);
        if (e.Mode == EndpointMode.Bridge && e.Namespace is { } name && !name.StartsWith('/')) Context.Names.Refresh([e.Network], [name]);
    }
}
