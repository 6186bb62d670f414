using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;
using ContainerNetworking.Values;

namespace ContainerNetworking.Model;

// Disconnecting: exactly what Connect made is removed, the host ends of veths left to the kernel waited for.
public sealed partial class EndpointService
{
    /// <summary>The plan <see cref="Disconnect"/> would run.</summary>
    public OperationPlan PlanDisconnect(string idOrContainer, string? network = null, bool force = false)
    {
        lock (Sync)
        using (State.LockForReading())
            return BuildDisconnect(idOrContainer, network, force, out _);
    }

    /// <summary>
    /// Removes exactly what Connect made: the published ports, the veth (both ends), the namespace if Connect created
    /// it, the leases, the record. The container's conntrack entries are left to the Connect that takes its address or
    /// publishes its UDP host ports again, which flushes them first (noted as pending in the network's state). Gone
    /// pieces are skipped, so running it again after a failure finishes the job. An endpoint whose namespace other
    /// containers share ("EndpointInUse") is only disconnected with <paramref name="force"/>, which disconnects them too.
    /// Like <c>nft delete element …; ip link del vethXXXXXXX; ip netns del NS</c> (and, deferred, <c>conntrack -D</c>).
    /// Returns the endpoint's record as it was (found under the lock), so that a caller needs no lookup of its own
    /// beforehand: that lookup reads every record of the network outside the lock, whose cache only serves holders.
    /// </summary>
    public ContainerEndpoint Disconnect(string idOrContainer, string? network = null, bool force = false)
    {
        lock (Sync)
        using (State.Lock())
        {
            BuildDisconnect(idOrContainer, network, force, out var ep).Execute();
            return ep;
        }
    }

    private OperationPlan BuildDisconnect(string idOrContainer, string? network, bool force, out ContainerEndpoint endpoint)
    {
        var ep = endpoint = GetEndpoint(idOrContainer, network);
        var sharers = State.ListEndpoints(ep.Network).Where(e => e.SharedWith == ep.Id).ToList();
        if (sharers.Count > 0 && !force)
            throw new ContainerNetworkingException("EndpointInUse", ErrorKind.InvalidOperation,
                $"Containers {string.Join(", ", sharers.Select(s => s.Container))} share the namespace of '{ep.Container}'. Disconnect them first, or use -Force to disconnect them too.");
        var plan = new OperationPlan($"Disconnect {ep.Container} from network {ep.Network}");
        // One mark decides the whole removal: the owner's. Repair finishes a Removing owner and removes the containers
        // that share its namespace with it (they lean on a namespace that is going), so a crash between two marks
        // cannot leave half a pod.
        AddMarkStep(plan, ep);
        foreach (var s in sharers) AddDisconnectSteps(plan, s);
        AddDisconnectSteps(plan, ep);
        return plan;
    }

    /// <summary>
    /// The steps that remove what Connect made of <paramref name="ep"/>; each skips what is gone already, so they also
    /// finish a removal that a killed process left half-done (Repair). The caller marks what decides the removal first
    /// (Disconnect: the endpoint's record, Removing; a network's removal: the network's), so that Repair finishes a
    /// removal killed half-way instead of re-creating its ports.
    /// </summary>
    internal void AddDisconnectSteps(OperationPlan plan, ContainerEndpoint ep)
    {
        var net = Context.Networks.FindNetwork(ep.Network);
        if (ep.Ports.Count > 0 && net is not null && net.Driver == NetworkDriver.Bridge)
            plan.Add("UnpublishPorts", "nft delete " + Ports.DescribePorts(net, ep), () => Ports.RemovePorts(net, ep));
        // The container stays on other networks: its namespace stays too (handed over to one of them if it is ours),
        // and the default route moves to another network's gateway if it went through this one.
        var mates = ep.Mode == EndpointMode.Bridge ? NamespaceMates(ep.NamespaceId, ep.Network, ep.Id) : [];
        if (mates.Count > 0)
        {
            if (ep.HostInterface is { } v)
                plan.Add("DeleteVeth", $"ip link del {v} (the container stays on {string.Join(", ", mates.Select(m => m.Network))})", () => DeleteLinkIfExists(Host, v));
            if (ep.CreatedNamespace)
            {
                var heir = mates[0];
                plan.Add("HandOverNamespace", $"endpoint {heir.Id[..12]} on {heir.Network} owns namespace {ep.Namespace} now", () =>
                {
                    heir.CreatedNamespace = true;
                    State.WriteEndpoint(heir);
                });
            }
            AddRouteHandOver(plan, ep, mates, v6: false);
            AddRouteHandOver(plan, ep, mates, v6: true);
        }
        else if (ep.CreatedNamespace && ep.Namespace is { } nsName && !nsName.StartsWith('/'))
        {
            // Deleting the namespace takes the veth with it, both ends, in the kernel's batched namespace cleanup
            // (cleanup_net): an explicit veth delete costs a synchronous RCU grace period of its own (tens of ms).
            // The host end disappears asynchronously, moments later. But a process still running in the namespace
            // (a running container) keeps it, and its veth on the bridge, alive after the name is gone: then the veth
            // is deleted explicitly first, as docker network disconnect does. So it is too when the namespace is not
            // ours any more (or was gone).
            var hostVeth = ep.HostInterface;
            plan.Add("DeleteNamespace", $"ip netns del {nsName}{(hostVeth is null ? "" : $" (takes {hostVeth} with it)")}", () =>
            {
                if (hostVeth is not null && ep.NamespaceId != 0 && NetNamespace.HasProcesses(ep.NamespaceId))
                    DeleteLinkIfExists(Host, hostVeth);
                if (!DeleteNamespaceIfSame(nsName, ep.NamespaceId)) { if (hostVeth is not null) DeleteLinkIfExists(Host, hostVeth); }
                else if (hostVeth is not null) lock (_leftToKernel) _leftToKernel.Add(hostVeth);
            });
        }
        else if (ep.HostInterface is { } veth)
            // The kernel deletes a veth synchronously, after an RCU grace period (15-35 ms on this project's machine,
            // whichever end goes, whether it is down first, detached first or moved to a dying namespace instead).
            plan.Add("DeleteVeth", $"ip link del {veth}", () => DeleteLinkIfExists(Host, veth));
        // The container's conntrack entries are not flushed here: a flush walks the kernel's whole conntrack table, which
        // all namespaces share (some ms, growing with unrelated flows), and a stale entry only misdirects traffic once the
        // address is a container's again or its UDP host port is published again. So the address and UDP ports are noted
        // as pending, before the leases go (a killed Disconnect leaves a superset), and the Connect that uses one again
        // flushes it first (StateStore.PendingDir); removing the network flushes the rest.
        if (ep.Mode == EndpointMode.Bridge && Addresses(ep) is { Count: > 0 } addresses)
            plan.Add("ReleaseAddress", $"release {string.Join(" and ", addresses)} (noted in {State.Root}/networks/{ep.Network}/conntrack-pending/: conntrack -D before reuse)", () =>
            {
                NoteStaleFlows(ep);
                foreach (var a in addresses) State.ReleaseLease(ep.Network, a, ep.Id);
            });
        plan.Add("DeleteEndpointRecord", $"rm {State.Root}/networks/{ep.Network}/endpoints/{ep.Id}.json", () => State.DeleteEndpoint(ep.Network, ep.Id));
        // The others of the network forget its name; its own files follow its networks left, or go with the last.
        if (ep.Mode == EndpointMode.Bridge && ep.Namespace is { } n && !n.StartsWith('/'))
            plan.Add("UpdateHostsFiles", $"rewrite {State.NetworkHostsPath(ep.Network)}{(mates.Count > 0 ? $" and {NameResolution.DirectoryOf(n)}/hosts" : $"; rm {NameResolution.DirectoryOf(n)}/hosts and resolv.conf")}",
                () => Context.Names.Refresh([ep.Network], [n]));
    }

    /// <summary>
    /// After <paramref name="gone"/> was removed by Repair (a Connect killed half-way, whose record claims the default
    /// route it was taking over, or an endpoint whose veth is gone): the container's default route of each family it
    /// claimed goes via the gateway of its network of the highest priority left, as <see cref="Disconnect"/> moves it,
    /// and that endpoint's record holds it again.
    /// </summary>
    internal void HandDefaultRouteOver(ContainerEndpoint gone)
    {
        var mates = NamespaceMates(gone.NamespaceId, gone.Network, gone.Id);
        if (mates.Count == 0) return;
        var plan = new OperationPlan($"Give the default route of {gone.Container} back to its other networks");
        AddRouteHandOver(plan, gone, mates, v6: false);
        AddRouteHandOver(plan, gone, mates, v6: true);
        plan.Execute();
    }

    /// <summary>The step that marks the record Removing (written before anything of the endpoint is taken away).</summary>
    private void AddMarkStep(OperationPlan plan, ContainerEndpoint ep)
    {
        if (ep.State == RecordState.Removing) return;
        plan.Add("MarkEndpointRemoving", $"mark endpoint {ep.Id[..12]} Removing ({State.Root}/networks/{ep.Network}/endpoints/{ep.Id}.json)", () =>
        {
            ep.State = RecordState.Removing;
            State.WriteEndpoint(ep);
        });
    }

    /// <summary>The endpoint's addresses, IPv4 first (an IPv6-only network's endpoints have only the IPv6 one).</summary>
    internal static List<IPAddress> Addresses(ContainerEndpoint ep) => new[] { ep.IPv4Address, ep.IPv6Address }.OfType<IPAddress>().ToList();

    /// <summary>
    /// When <paramref name="ep"/> held the container's default route of a family, it goes via the gateway of the
    /// container's network of the highest priority left (ties: the one connected first), as Docker moves it.
    /// </summary>
    private void AddRouteHandOver(OperationPlan plan, ContainerEndpoint ep, List<ContainerEndpoint> mates, bool v6)
    {
        if ((v6 ? ep.GatewayV6 : ep.Gateway) is null) return;
        foreach (var m in mates.OrderByDescending(m => m.GatewayPriority))
        {
            if (m.NoDefaultRoute || Context.Networks.FindNetwork(m.Network) is not { } mnet || mnet.Internal || mnet.NoDefaultRoute) continue;
            if ((v6 ? mnet.GatewayV6 : mnet.Gateway) is not { } gw) continue;
            plan.Add("MoveDefaultRoute" + (v6 ? "V6" : ""), $"ip -n {m.Namespace}{(v6 ? " -6" : "")} route replace default via {gw} dev {m.InterfaceName} (network {m.Network})", () =>
            {
                if (!NamespaceStillThere(m)) return;
                using var ns = NetNamespace.Open(m.Namespace!);
                ns.Rtnl.AddRoute(DefaultRoute(gw, m.InterfaceName!), replace: true);
                if (v6) m.GatewayV6 = gw; else m.Gateway = gw;
                State.WriteEndpoint(m);
            });
            return;
        }
    }

    /// <summary>Host ends of veths that Disconnect left to the kernel's namespace cleanup (see <see cref="WaitForTeardown"/>).</summary>
    private readonly List<string> _leftToKernel = [];


    /// <summary>
    /// Disconnect leaves the host end of a container's veth to the kernel's namespace cleanup, which removes it moments
    /// later. This waits until every such veth of this manager's Disconnects is gone (at most <paramref name="timeout"/>,
    /// <see cref="TeardownWait"/> by default) and deletes any still there then, so that afterwards the host holds none
    /// of them. Call it once after many Disconnects: the kernel cleans namespaces up in batches, so one wait covers them
    /// all. A veth outlives the wait when something still pins its namespace (an open socket or handle inside it).
    /// </summary>
    public void WaitForTeardown(TimeSpan? timeout = null)
    {
        List<string> pending;
        lock (_leftToKernel)
        {
            pending = [.. _leftToKernel];
            _leftToKernel.Clear();
        }
        if (pending.Count == 0) return;
        foreach (var name in WaitForVethsToGo(pending, timeout ?? TeardownWait)) DeleteLinkIfExists(Host, name);
    }

    /// <summary>
    /// How long teardown waits for the kernel's namespace cleanup to take veths away before deleting them itself: the
    /// cleanup takes some 20-60 ms here, even for a thousand namespaces at once.
    /// </summary>
    public static readonly TimeSpan TeardownWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Deletes /run/netns/NAME if it is still the namespace of that inode (0: any); true when it did. An empty plain file
    /// of that name is what a delete of ours killed between its umount and its unlink leaves: it is removed too (nothing
    /// could open it as a namespace any more, and it would block the name for ever).
    /// </summary>
    internal static bool DeleteNamespaceIfSame(string name, ulong id)
    {
        if (!NetNamespace.Exists(name)) return false;
        try
        {
            using var ns = NetNamespace.Open(name);
            if (id != 0 && ns.Id != id) return false; // someone made a new namespace of that name: not ours
        }
        catch (NetNamespaceNotFoundException) { return false; }
        catch (NotANetNamespaceException)
        {
            var file = new FileInfo(Path.Combine(NetNamespace.RunDirectory, name));
            if (!file.Exists || file.Length != 0) throw;
        }
        try
        {
            NetNamespace.Delete(name);
            return true;
        }
        catch (NetNamespaceNotFoundException) { return false; }
    }
}
