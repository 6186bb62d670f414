using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Model;

/// <summary>
/// Port publishing of endpoints (<c>docker run -p</c>): Docker's notation resolved against the host ports the records
/// hold, and the mappings written to (and read back from) the host's port maps, owned "endpoint:ID12".
/// </summary>
public sealed class PortPublishing : ModelService
{
    internal PortPublishing(NetworkContext context) : base(context)
    {
    }

    private ContainerFirewall Fw => Context.Rules.Fw;

    private static List<IPNetwork> Subnets(ContainerNetwork n) => NetworkRules.Subnets(n);

    private static string EndpointOwner(ContainerEndpoint e) => NetworkRules.EndpointOwner(e);

    /// <summary>
    /// The host ports for <paramref name="specs"/> (Docker's <c>-p</c> strings, parsed). A host port is taken when an
    /// endpoint record holds it (kept in memory under the lock; <paramref name="self"/>'s own excepted), when the host's
    /// port maps hold it (any owner: Publish-ContainerPort's too), or when a socket of the host namespace is bound to it
    /// (sock_diag, as <c>ss -ltn</c>/<c>-lun</c>): a chosen port skips those, an explicit one fails with
    /// "PortAlreadyAllocated" (records, maps) or "HostPortInUse" naming the process that listens. An explicit port is
    /// looked up by itself (the records scanned for it, its map keys and the sockets on that port asked for: one round
    /// trip each); a port chosen among many candidates is tested against the records' ports and the sockets read whole
    /// once (the maps are asked per candidate the records leave: usually the first), and a long explicit range against
    /// the maps read whole too.
    /// </summary>
    internal List<PublishedPort> Resolve(IReadOnlyList<PortSpec> specs, string? self = null)
    {
        var ports = new List<PublishedPort>();
        if (specs.Count == 0) return ports;
        var endpoints = State.ListAllEndpoints();
        Dictionary<(PortProtocol, ushort), List<(PublishedPort Port, ContainerEndpoint Endpoint)>>? taken = null;
        PublishedHostPorts? published = null;
        var listeners = new Dictionary<PortProtocol, List<SockDiag.BoundSocket>>();
        ContainerEndpoint? RecordHolding(PublishedPort m, bool many)
        {
            if (!many)
            {
                foreach (var e in endpoints)
                    if (e.Id != self && e.Ports.Any(p => p.ConflictsWith(m))) return e;
                return null;
            }
            if (taken is null)
            {
                taken = [];
                foreach (var e in endpoints)
                {
                    if (e.Id == self) continue;
                    foreach (var p in e.Ports)
                    {
                        if (!taken.TryGetValue((p.Protocol, p.HostPort), out var l)) taken[(p.Protocol, p.HostPort)] = l = [];
                        l.Add((p, e));
                    }
                }
            }
            return taken.TryGetValue((m.Protocol, m.HostPort), out var held) ? held.FirstOrDefault(t => t.Port.ConflictsWith(m)).Endpoint : null;
        }
        ContainerNetworkingException? Conflict(PublishedPort m, PortSpec ps)
        {
            var many = ps.ChoosesHostPorts || ps.ContainerPortCount > LookedUpOneByOne;
            var proto = m.Protocol.ToString().ToLowerInvariant();
            var where = $"{m.HostIp switch { null => "", { AddressFamily: AddressFamily.InterNetworkV6 } v6 => $"[{v6}]:", var v4 => v4 + ":" }}{m.HostPort}/{proto}";
            if (RecordHolding(m, many) is { } other)
                return new ContainerNetworkingException("PortAlreadyAllocated", ErrorKind.AlreadyExists,
                    $"Host port {where} is already published by endpoint {other.Id[..12]} ({other.Container}) on network '{other.Network}'. Publish on another host port, or disconnect it first.");
            var wholeMaps = many && !ps.ChoosesHostPorts;
            if (wholeMaps ? (published ??= Fw.GetPublishedHostPorts()).Holds(m.Protocol, m.HostPort, m.HostIp) : Fw.IsPublished(m.Protocol, m.HostPort, m.HostIp))
                return new ContainerNetworkingException("PortAlreadyAllocated", ErrorKind.AlreadyExists,
                    $"Host port {where} is already published{In} (Get-ContainerPort lists it). Publish on another host port, or unpublish it first (Unpublish-ContainerPort).");
            List<SockDiag.BoundSocket> bound;
            if (!many) bound = Host.SockDiag.ListBound((byte)m.Protocol, m.HostPort);
            else if (!listeners.TryGetValue(m.Protocol, out bound!)) listeners[m.Protocol] = bound = Host.SockDiag.ListBound((byte)m.Protocol);
            if (bound.FirstOrDefault(b => b.Port == m.HostPort && (m.HostIp is null || b.OnEveryAddress || b.Address.Equals(m.HostIp)
                    || (PublishedPort.IsWildcard(m.HostIp) && b.Address.AddressFamily == m.HostIp.AddressFamily))) is { } s)
            {
                var holders = SockDiag.SocketDiagClient.Holders(s.Inode);
                var who = holders.Count == 0 ? $"a socket (inode {s.Inode}, uid {s.Uid})" : string.Join(", ", holders.Select(h => $"process {h.Pid} ({h.Command})"));
                return new ContainerNetworkingException("HostPortInUse", ErrorKind.AlreadyExists,
                    $"Host port {where} is in use{In}: {who} {(m.Protocol == PortProtocol.Udp ? "is bound to" : "listens on")} " +
                    $"{(s.Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{s.Address}]" : s.Address.ToString())}:{s.Port}, and publishing the port would take its traffic. " +
                    "Publish on another host port, or stop that process first.");
            }
            return null;
        }
        foreach (var ps in specs)
            ports.AddRange(ps.Resolve(m => ports.Any(t => t.ConflictsWith(m))
                ? new ContainerNetworkingException("PortAlreadyAllocated", ErrorKind.AlreadyExists, $"Host port {m.HostPort}/{m.Protocol.ToString().ToLowerInvariant()} is given twice. Give each host port once.")
                : Conflict(m, ps)));
        return ports;
    }

    /// <summary>The most explicit ports of one -Publish looked up one by one; more are tested against the records, maps and sockets read whole.</summary>
    private const int LookedUpOneByOne = 8;

    private string In => Host.IsCurrent && Host.Name is null ? " in this host" : $" in the host namespace '{Host.Label}'";

    internal string DescribePorts(ContainerNetwork n, ContainerEndpoint e) =>
        $"elements of the port maps of table inet {ContainerFirewall.TableName}: " + string.Join(", ", Mappings(e));

    /// <summary>
    /// The endpoint's addresses, one per family, each with the ports published for that family: a port without a host
    /// address goes to both (Docker and netavark publish on both families of a dual-stack container), one with a host
    /// address (or 0.0.0.0, ::) to the address of that family.
    /// </summary>
    private static IEnumerable<(IPAddress Target, List<PublishedPort> Ports)> ByFamily(ContainerEndpoint e)
    {
        foreach (var a in new[] { e.IPv4Address, e.IPv6Address })
            if (a is not null && e.Ports.Where(p => p.Covers(a.AddressFamily)).ToList() is { Count: > 0 } ports) yield return (a, ports);
    }

    /// <summary>Each port of the endpoint with the container address it is published to, one entry per family.</summary>
    internal static IEnumerable<PortTarget> Mappings(ContainerEndpoint e) =>
        ByFamily(e).SelectMany(f => f.Ports.Select(p => new PortTarget(p, f.Target)));

    /// <summary>
    /// Refuses ports the network cannot carry: a host address of a family the network has no subnet for
    /// (InvalidPortSpec, naming the fix).
    /// </summary>
    internal static void CheckFamilies(ContainerNetwork n, IEnumerable<PortSpec> specs)
    {
        foreach (var s in specs)
        {
            if (s.HostIp is not { } ip) continue;
            var v6 = ip.AddressFamily == AddressFamily.InterNetworkV6;
            if (v6 ? n.SubnetV6 is null : n.Subnet is null)
                throw new ContainerNetworkingException("InvalidPortSpec", ErrorKind.InvalidArgument,
                    $"Cannot publish on {(v6 ? $"[{ip}]" : ip)}: network '{n.Name}' has no {(v6 ? "IPv6" : "IPv4")} subnet, so its containers have no {(v6 ? "IPv6" : "IPv4")} address to forward to. " +
                    $"Publish without a host address (or on {(v6 ? "0.0.0.0 or an IPv4 address" : "[::] or an IPv6 address")}), or use a network {(v6 ? "created with -IPv6" : "with an IPv4 subnet")}.");
        }
    }

    /// <summary>
    /// Publishes an endpoint's ports in one batch (one mapping per run of consecutive ports and family): all or none.
    /// With <paramref name="only"/>, just those of its mappings (the ones missing from the kernel), each as part of the
    /// run it was published in (the elements' comments name that run, as when it was published whole).
    /// </summary>
    internal void AddPorts(ContainerNetwork n, ContainerEndpoint e, IReadOnlyCollection<PortTarget>? only = null)
    {
        var specs = new List<PortMappingSpec>();
        foreach (var (target, ports) in ByFamily(e))
            foreach (var run in Runs(ports))
            {
                var wanted = only is null ? run : run.Where(p => only.Contains(new PortTarget(p, target))).ToList();
                foreach (var part in only is null ? [run] : Runs(wanted))
                    specs.Add(new PortMappingSpec(part[0].Protocol, part[0].HostPort, target, part[0].ContainerPort)
                    {
                        HostPortEnd = part.Count > 1 ? part[^1].HostPort : null,
                        ContainerPortEnd = part.Count > 1 ? part[^1].ContainerPort : null,
                        HostAddress = part[0].HostIp,
                        Owner = EndpointOwner(e),
                        PublishedRange = part.Count == run.Count ? null : (run[0].HostPort, run[^1].HostPort),
                    });
            }
        Fw.Publish(specs, Subnets(n));
    }

    /// <summary>
    /// The endpoint's mappings (port and container address, one per family) that are not in the kernel's maps as its
    /// record says (to that address, same container port and host address).
    /// </summary>
    internal static List<PortTarget> MissingPorts(ContainerEndpoint e, IReadOnlyList<(PublishedPort Port, IPAddress Target, string? Owner)> present) =>
        Mappings(e).Where(m => !present.Any(x => x.Target.Equals(m.Target) && x.Port.Protocol == m.Port.Protocol && x.Port.HostPort == m.Port.HostPort
            && x.Port.ContainerPort == m.Port.ContainerPort && Equals(x.Port.HostIp, KernelHostIp(m.Port)))).ToList();

    /// <summary>The host address as the port maps keep it: none for 0.0.0.0 and :: (the map of every address of that family).</summary>
    private static IPAddress? KernelHostIp(PublishedPort p) => p.HostIp is { } ip && PublishedPort.IsWildcard(ip) ? null : p.HostIp;

    /// <summary>
    /// Unpublishes an endpoint's ports; ports already gone are fine. Their conntrack entries are left to the caller
    /// (Disconnect notes the endpoint's address and UDP host ports, flushed before either is used again).
    /// </summary>
    internal void RemovePorts(ContainerNetwork n, ContainerEndpoint e)
    {
        // Only elements that still point at this endpoint: a port that someone else holds now is not ours to remove.
        foreach (var (target, ports) in ByFamily(e))
            foreach (var run in Runs(ports)) TryUnpublish(run[0].Protocol, run[0].HostPort, run[0].HostIp, target, flushConntrack: false);
    }

    private void TryUnpublish(PortProtocol p, int hostPort, IPAddress? hostIp, IPAddress target, bool flushConntrack = true)
    {
        try { Fw.Unpublish(p, hostPort, hostIp, target.AddressFamily, flushConntrack, target); }
        catch (ContainerNetworkingException x) when (x.ErrorId == "PortNotPublished") { }
    }

    /// <summary>Consecutive ports (same protocol and host address, host and container port both +1) grouped into runs.</summary>
    private static List<List<PublishedPort>> Runs(IEnumerable<PublishedPort> ports)
    {
        var runs = new List<List<PublishedPort>>();
        foreach (var p in ports)
        {
            var last = runs.Count > 0 ? runs[^1][^1] : null;
            if (last is not null && last.Protocol == p.Protocol && Equals(last.HostIp, p.HostIp)
                && p.HostPort == last.HostPort + 1 && p.ContainerPort == last.ContainerPort + 1)
                runs[^1].Add(p);
            else runs.Add([p]);
        }
        return runs;
    }

    /// <summary>The published ports whose target lies in the network's subnets, one entry per port, with the mapping's owner.</summary>
    internal IReadOnlyList<(PublishedPort Port, IPAddress Target, string? Owner)> ListPorts(ContainerNetwork n)
    {
        var subnets = Subnets(n);
        var list = new List<(PublishedPort, IPAddress, string?)>();
        foreach (var m in Fw.GetPublishedPorts())
        {
            if (!subnets.Any(s => s.Contains(m.ContainerAddress))) continue;
            for (var i = 0; i <= m.HostPortEnd - m.HostPort; i++)
            {
                var cport = m.ContainerPortEnd == m.ContainerPort ? m.ContainerPort : m.ContainerPort + i;
                list.Add((new PublishedPort(m.HostAddress, (ushort)(m.HostPort + i), (ushort)cport, m.Protocol), m.ContainerAddress, m.Owner));
            }
        }
        return list;
    }

    /// <summary>Removes the mapping (its whole range) that holds this host port.</summary>
    internal void RemovePort(ContainerNetwork n, PublishedPort port, IPAddress target) => TryUnpublish(port.Protocol, port.HostPort, port.HostIp, target);
}

/// <summary>One published port of an endpoint with the container address (of one family) it is forwarded to.</summary>
internal readonly record struct PortTarget(PublishedPort Port, IPAddress Target)
{
    public override string ToString() =>
        $"{Port} -> {(Target.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Target}]" : Target)}:{Port.ContainerPort}";
}
