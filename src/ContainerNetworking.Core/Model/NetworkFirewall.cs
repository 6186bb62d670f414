using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Model;

/// <summary>
/// The model's view of the host's nf_tables rules (<see cref="ContainerFirewall"/>, table inet containernetworking):
/// turns a network record into its bridge-network rules and an endpoint's published ports into map elements.
/// Owners written into the rules' comments: "network:NAME" and "endpoint:ID12".
/// </summary>
internal sealed class NetworkFirewall(NetNamespace host)
{
    private ContainerFirewall? _fw;
    private ContainerFirewall Fw => _fw ??= new ContainerFirewall(host);

    public static string NetworkOwner(ContainerNetwork n) => "network:" + n.Name;
    public static string EndpointOwner(ContainerEndpoint e) => "endpoint:" + e.Id[..12];

    public string DescribeNetwork(ContainerNetwork n) =>
        $"table inet {ContainerFirewall.TableName}: rules of bridge {n.BridgeName} ({(n.Masquerade ? $"masquerade {string.Join(", ", Subnets(n))} oifname != {n.BridgeName}; " : "")}forward filter, icc {(n.Icc ? "on" : "off")}{(n.Internal ? ", internal" : "")})";

    public string DescribePorts(ContainerNetwork n, ContainerEndpoint e) =>
        $"elements of the port maps of table inet {ContainerFirewall.TableName}: " + string.Join(", ", e.Ports.Select(p => $"{p} -> {e.IPv4Address}:{p.ContainerPort}"));

    private static List<IPNetwork> Subnets(ContainerNetwork n) => new[] { n.Subnet, n.SubnetV6 }.OfType<IPNetwork>().ToList();

    private static BridgeNetworkRules Rules(ContainerNetwork n) => new(n.BridgeName!, Subnets(n))
    {
        Masquerade = n.Masquerade,
        InterContainerCommunication = n.Icc,
        Internal = n.Internal,
        Owner = NetworkOwner(n),
    };

    /// <summary>Sets up (or replaces) the network's rules: masquerade, isolation, ICC, internal.</summary>
    public void AddNetwork(ContainerNetwork n) => Fw.AddBridgeNetwork(Rules(n));

    /// <summary>Removes the network's rules; none there is fine.</summary>
    public void RemoveNetwork(ContainerNetwork n)
    {
        try { Fw.RemoveBridgeNetwork(n.BridgeName!); }
        catch (ContainerNetworkingException e) when (e.ErrorId == "BridgeNetworkNotFound") { }
    }

    /// <summary>True when the network's rules are in the kernel as the record wants them.</summary>
    public bool HasNetwork(ContainerNetwork n)
    {
        var fw = Fw.GetBridgeNetwork(n.BridgeName!);
        return fw is not null && fw.Rules.Count > 0 && fw.Spec.Masquerade == n.Masquerade && fw.Spec.Internal == n.Internal
            && fw.Spec.InterContainerCommunication == n.Icc;
    }

    private static string? PairOwner(ContainerNetwork a, ContainerNetwork b)
    {
        var (x, y) = string.CompareOrdinal(a.Name, b.Name) <= 0 ? (a, b) : (b, a);
        var owner = $"network:{x.Name}+{y.Name}";
        return owner.Length <= 64 ? owner : null; // the firewall's limit for owners; the comment names the bridges anyway
    }

    public static string DescribeAllowance(ContainerNetwork a, ContainerNetwork b) =>
        $"table inet {ContainerFirewall.TableName} chain {ContainerFirewall.ChainIsolation}: iifname {a.BridgeName} oifname {b.BridgeName} accept, iifname {b.BridgeName} oifname {a.BridgeName} accept";

    /// <summary>Lets two networks talk to each other (accept rules for both directions ahead of the isolation drops).</summary>
    public void AllowNetworks(ContainerNetwork a, ContainerNetwork b) => Fw.AllowBetweenNetworks(a.BridgeName!, b.BridgeName!, PairOwner(a, b));

    /// <summary>Isolates two networks again; rules already gone (or a network without rules) are fine.</summary>
    public void DisallowNetworks(ContainerNetwork a, ContainerNetwork b)
    {
        try { Fw.DisallowBetweenNetworks(a.BridgeName!, b.BridgeName!); }
        catch (ContainerNetworkingException e) when (e.ErrorId == "BridgeNetworkNotFound") { }
    }

    /// <summary>True when both directions of the pair's rules are in the kernel.</summary>
    public bool HasAllowance(ContainerNetwork a, ContainerNetwork b)
    {
        var (x, y) = string.CompareOrdinal(a.BridgeName, b.BridgeName) <= 0 ? (a.BridgeName, b.BridgeName) : (b.BridgeName, a.BridgeName);
        return Fw.GetAllowedNetworkPairs().Any(p => p.BridgeA == x && p.BridgeB == y && p.Rules.Count == 2);
    }

    /// <summary>Publishes an endpoint's ports in one batch (one mapping per run of consecutive ports): all or none.</summary>
    public void AddPorts(ContainerNetwork n, ContainerEndpoint e)
    {
        var specs = Runs(e.Ports).Select(run => new PortMappingSpec(run[0].Protocol, run[0].HostPort, e.IPv4Address!, run[0].ContainerPort)
        {
            HostPortEnd = run.Count > 1 ? run[^1].HostPort : null,
            ContainerPortEnd = run.Count > 1 ? run[^1].ContainerPort : null,
            HostAddress = run[0].HostIp,
            Owner = EndpointOwner(e),
        }).ToList();
        Fw.Publish(specs, Subnets(n));
    }

    /// <summary>
    /// Unpublishes an endpoint's ports; ports already gone are fine. Their conntrack entries are left to the caller's
    /// <see cref="FlushConntrack"/> of the endpoint's address (one conntrack read instead of one per mapping).
    /// </summary>
    public void RemovePorts(ContainerNetwork n, ContainerEndpoint e)
    {
        // Only elements that still point at this endpoint: a port that someone else holds now is not ours to remove.
        foreach (var run in Runs(e.Ports)) TryUnpublish(run[0].Protocol, run[0].HostPort, run[0].HostIp, flushConntrack: false, e.IPv4Address);
    }

    private void TryUnpublish(PortProtocol p, int hostPort, IPAddress? hostIp, bool flushConntrack = true, IPAddress? expected = null)
    {
        try { Fw.Unpublish(p, hostPort, hostIp, hostIp?.AddressFamily ?? AddressFamily.InterNetwork, flushConntrack, expected); }
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

    /// <summary>The published ports whose target lies in the network's subnets, one entry per port.</summary>
    public IReadOnlyList<(PublishedPort Port, IPAddress Target)> ListPorts(ContainerNetwork n)
    {
        var subnets = Subnets(n);
        var list = new List<(PublishedPort, IPAddress)>();
        foreach (var m in Fw.GetPublishedPorts())
        {
            if (!subnets.Any(s => s.Contains(m.ContainerAddress))) continue;
            for (var i = 0; i <= m.HostPortEnd - m.HostPort; i++)
            {
                var cport = m.ContainerPortEnd == m.ContainerPort ? m.ContainerPort : m.ContainerPort + i;
                list.Add((new PublishedPort(m.HostAddress, (ushort)(m.HostPort + i), (ushort)cport, m.Protocol), m.ContainerAddress));
            }
        }
        return list;
    }

    /// <summary>Removes the mapping (its whole range) that holds this host port.</summary>
    public void RemovePort(ContainerNetwork n, PublishedPort port, IPAddress target) => TryUnpublish(port.Protocol, port.HostPort, port.HostIp, expected: target);

    /// <summary>Deletes the conntrack entries from or answered by an address (<c>conntrack -D -s IP</c>; <c>-D -r IP</c>), as Docker does when an endpoint goes.</summary>
    public void FlushConntrack(IPAddress address)
    {
        // Hygiene, not a step that may fail a Disconnect: only port-based entries (ICMP ones expire in 30 s anyway).
        var ct = new ConntrackClient(host.NetfilterConnection);
        try
        {
            // The container's flows are those it started (original source) and those it answers (reply source: to it,
            // directly or translated from a published port); a flow to its address that was translated elsewhere is not.
            // In a busy table the kernel filters the dumps on exactly that, so the cost does not grow with other flows.
            ct.Delete(address.AddressFamily, c => c.Original.Protocol is 6 or 17 or 132 &&
                (c.Original.Source.Equals(address) || c.Reply.Source.Equals(address)),
                [ConntrackFilter.OriginalSource(address), ConntrackFilter.ReplySource(address)]);
        }
        catch (Interop.LinuxException) { }
    }

    /// <summary>Foreign forward chains with policy drop (see <see cref="ContainerFirewall.FindForeignDrops"/>).</summary>
    public IReadOnlyList<string> ForeignDropPolicies() => Fw.FindForeignDrops();
}
