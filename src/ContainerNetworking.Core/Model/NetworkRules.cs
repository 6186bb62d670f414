using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Model;

/// <summary>
/// The model's networks as rules of the host's firewall (<see cref="ContainerFirewall"/>, table inet
/// containernetworking): a network record's bridge-network rules, allowed pairs, and conntrack clean-up of an
/// endpoint's address (its published ports are <see cref="PortPublishing"/>'s).
/// Owners written into the rules' comments: "network:NAME" and "endpoint:ID12".
/// </summary>
internal sealed class NetworkRules(NetNamespace host)
{
    private ContainerFirewall? _fw;

    /// <summary>The host's firewall, one instance for the rules and the ports (it caches the table's presence).</summary>
    internal ContainerFirewall Fw => _fw ??= new ContainerFirewall(host);

    public static string NetworkOwner(ContainerNetwork n) => NetworkOwner(n.Name);
    public static string NetworkOwner(string network) => "network:" + network;
    public static string EndpointOwner(ContainerEndpoint e) => "endpoint:" + e.Id[..12];

    public string DescribeNetwork(ContainerNetwork n) =>
        $"table inet {ContainerFirewall.TableName}: rules of bridge {n.BridgeName} ({(n.Masquerade ? $"masquerade {string.Join(", ", Subnets(n))} oifname != {n.BridgeName}; " : "")}forward filter, icc {(n.Icc ? "on" : "off")}{(n.Internal ? ", internal" : n.Routed ? ", routed access" : ", no direct access from outside")})";

    internal static List<IPNetwork> Subnets(ContainerNetwork n) => new[] { n.Subnet, n.SubnetV6 }.OfType<IPNetwork>().ToList();

    private static BridgeNetworkRules Rules(ContainerNetwork n) => new(n.BridgeName!, Subnets(n))
    {
        Masquerade = n.Masquerade,
        InterContainerCommunication = n.Icc,
        Internal = n.Internal,
        Routed = n.Routed,
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

    /// <summary>The bridge whose rules a network of this name owns (their comment's owner), found without its record; or null.</summary>
    public string? BridgeOwnedBy(string network) =>
        Fw.GetBridgeNetworks().FirstOrDefault(n => n.Spec.Owner == NetworkOwner(network))?.Spec.Bridge;

    /// <summary>
    /// Puts back what <see cref="MissingPieces"/> finds: each missing rule or element in its place, one batch, nothing
    /// else touched; when the network's settings in the kernel differ from the record, its rules are replaced as a whole.
    /// </summary>
    public void RestoreNetwork(ContainerNetwork n)
    {
        if (SettingsDiffer(n)) AddNetwork(n);
        else Fw.RestoreNetworkPieces(Rules(n));
    }

    /// <summary>True when the kernel holds the network's rules with other settings than its record's (masquerade, internal, ICC, routed).</summary>
    private bool SettingsDiffer(ContainerNetwork n) => Fw.GetBridgeNetwork(n.BridgeName!) is { } fw
        && (fw.Spec.Masquerade != n.Masquerade || fw.Spec.Internal != n.Internal || fw.Spec.InterContainerCommunication != n.Icc || fw.Spec.Routed != n.Routed);

    /// <summary>
    /// What of the network's firewall is not in the kernel as the record wants it: its element of the networks set with
    /// its settings, and each of its rules (one deleted by hand is named). Empty when everything is there.
    /// </summary>
    public IReadOnlyList<string> MissingPieces(ContainerNetwork n)
    {
        if (SettingsDiffer(n))
            return [$"the settings of {n.BridgeName} in set inet {ContainerFirewall.TableName} networks (masquerade, internal, icc, routed) differ from the record"];
        return Fw.FindMissingNetworkPieces(Rules(n));
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

    /// <summary>Deletes the conntrack entries from or answered by an address (<c>conntrack -D -s IP</c>; <c>-D -r IP</c>), as Docker does when an endpoint goes.</summary>
    public void FlushConntrack(IPAddress address) => FlushConntrack([address], []);

    /// <summary>
    /// Deletes the conntrack entries from or answered by each of <paramref name="addresses"/> (<c>conntrack -D -s IP</c>;
    /// <c>-D -r IP</c>) and those to each of <paramref name="udpPorts"/> (<c>conntrack -D -p udp --orig-port-dst PORT</c>,
    /// both families): what a removed container may have left, before its address or UDP host port is used again.
    /// </summary>
    public void FlushConntrack(IReadOnlyCollection<IPAddress> addresses, IReadOnlyCollection<int> udpPorts)
    {
        // Hygiene, not a step that may fail the operation. Read through dumps (older kernels), only port-based entries are
        // deleted (ICMP ones expire in 30 s anyway).
        var ct = new ConntrackClient(host.NetfilterConnection);
        try
        {
            if ((addresses.Count == 0 && udpPorts.Count == 0) || ct.Count() == 0) return;
            foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
            {
                // A container's flows are those it started (original source) and those it answers (reply source: to it,
                // directly or translated from a published port); a flow to its address that was translated elsewhere is
                // not. The flush takes the address's ICMP entries along too (they would expire in 30 s), where a filter
                // per protocol would cost a pass each. A UDP host port's: every UDP flow to that port, translated or not
                // (a client's untranslated one, made while nothing was published there, would bypass the new mapping too).
                var of = addresses.Where(a => a.AddressFamily == family).ToList();
                var filters = of.SelectMany(a => new[] { ConntrackFilter.OriginalSource(a), ConntrackFilter.ReplySource(a) })
                    .Concat(udpPorts.Select(p => new ConntrackFilter { Protocol = (byte)PortProtocol.Udp, DestinationPort = (ushort)p })).ToList();
                if (filters.Count == 0) continue;
                // The kernel deletes them itself, one pass over the table per filter, all in one datagram (Linux 6.5+);
                // an older kernel filters the dumps on exactly that, so the cost does not grow with other flows either.
                // Many at once (a network removed after thousands of Disconnects): one pass each would take seconds,
                // so the table is read once instead and the entries of any of them deleted.
                var few = filters.Count <= MaxFlushFilters;
                if (few && ct.TryFlush(family, filters)) continue;
                var set = of.ToHashSet();
                var ports = udpPorts.Select(p => (ushort)p).ToHashSet();
                ct.Delete(family, c =>
                    (c.Original.Protocol is 6 or 17 or 132 && (set.Contains(c.Original.Source) || set.Contains(c.Reply.Source))) ||
                    (c.Original.Protocol == (byte)PortProtocol.Udp && ports.Contains(c.Original.DestinationPort)), few ? filters : []);
            }
        }
        catch (Interop.LinuxException) { }
    }

    /// <summary>
    /// The most filters <see cref="FlushConntrack(IReadOnlyCollection{IPAddress}, IReadOnlyCollection{int})"/> has the
    /// kernel flush with (each one pass over the table's occupied buckets, some 0.3 ms); beyond, one dump of the table.
    /// </summary>
    internal const int MaxFlushFilters = 64;

    /// <summary>Foreign forward chains with policy drop (see <see cref="ContainerFirewall.FindForeignDrops"/>).</summary>
    public IReadOnlyList<string> ForeignDropPolicies() => Fw.FindForeignDrops();
}
