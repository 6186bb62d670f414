using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netlink;
using ContainerNetworking.Values;
using static ContainerNetworking.Netfilter.FirewallLayout;

namespace ContainerNetworking.Netfilter;

/// <summary>
/// NAT, port publishing and the forward filter of container networks, written straight to nf_tables.
/// <para>
/// Ownership. Everything lives in one table of the <c>inet</c> family, <c>table inet containernetworking</c> (plus, only
/// once a network turns inter-container communication off, <c>table bridge containernetworking</c>, because traffic
/// between two ports of one bridge never crosses the IP forward hook). One inet table rather than an ip and an ip6 table:
/// a dual-stack network is one set of rules in one place, the base chains are hooked once, and IPv4 and IPv6 differ
/// only in the match (<c>meta nfproto</c>) and in the maps' address types; this is what Podman's netavark does too.
/// Nothing outside these tables is ever changed, so the module lives beside iptables-nft, Docker's and firewalld's
/// tables. Every rule carries a comment "cn:KIND KEY owner=OWNER" saying what it belongs to.
/// </para>
/// <para>
/// Port publishing is a lookup in maps keyed on <c>meta l4proto . th dport</c> (and <c>ip daddr . meta l4proto .
/// th dport</c> for mappings bound to one host address), whose data is the container's <c>address . port</c>: the cost
/// of a new connection does not grow with the number of published ports. Prerouting and output jump to the lookup for
/// packets to a local address (<c>fib daddr type local</c>), so published ports answer from another machine, from the
/// host itself and from a container (hairpin: translated flows that leave through the bridge they came from are
/// masqueraded, so the reply comes back through the host; a container reaching its own published port also needs
/// hairpin mode on its bridge port, <c>RouteClient.SetBridgePort(port, new BridgePortOptions { Hairpin = true })</c>, as
/// Docker sets it when the userland proxy is off).
/// </para>
/// <para>
/// 127.0.0.1. A connection from the host to 127.0.0.1:PORT is translated in the output hook to the container; a packet
/// with a loopback source may leave through the bridge only if the bridge has route_localnet (it is set on that bridge
/// alone, never on "all" or "default"), and the postrouting chain masquerades it to the bridge's address. route_localnet
/// on an interface also makes the kernel accept packets to 127.0.0.0/8 arriving on it, which would let a neighbour reach
/// services bound to the host's loopback (CVE-2020-8558). The guard, as Docker's fix: a raw-priority prerouting rule
/// drops every packet to 127.0.0.0/8 that did not arrive on lo. It runs before connection tracking and NAT, so the
/// replies of translated flows (addressed to the bridge's address on the wire) are not affected.
/// </para>
/// The rules are split by purpose over one layout (<see cref="FirewallLayout"/>): ContainerFirewall.Masquerade.cs,
/// .PublishedPorts.cs (with .PortMaps.cs, the maps' elements), .BridgeNetworks.cs, .AllowedPairs.cs, .ForeignPolicies.cs.
/// Each operation is one atomic batch, planned against the generation it read and retried if the ruleset changed.
/// </summary>
public sealed partial class ContainerFirewall
{
    public const string TableName = FirewallLayout.TableName;
    public const NftFamily Family = FirewallLayout.Family;
    internal const string ChainIsolation = FirewallLayout.ChainIsolation;

    /// <summary>The most ports one mapping may span (one map element each, all in one batch).</summary>
    public const int MaxRangeLength = 8192;
    private const int ElementsPerMessage = 512;

    private readonly NftClient _nft;
    private readonly ConntrackClient _ct;
    private readonly IHostSettings? _host;

    // The generation at which this firewall last saw its table (with the base chains, maps and fixed rules) in place:
    // while the ruleset stays at that generation nothing can have removed it, so EnsureBase skips the lookup. After a
    // committed batch planned at G with the base in place the ruleset is at G + 1 (the kernel counts commits).
    private uint? _baseAt;
    private bool _baseInPlan;

    /// <summary>The firewall of a namespace ("the host"): its nf_tables and conntrack connection, and its host settings.</summary>
    public ContainerFirewall(INetfilterNamespace ns)
        : this(ns.Nft, ns.NetfilterConnection, ns.HostSettings)
    {
    }

    /// <summary>
    /// Over a given client and a NETLINK_NETFILTER connection for ctnetlink; without <paramref name="host"/> the host
    /// settings rules rely on (route_localnet for ports published on 127.0.0.1) are not made.
    /// </summary>
    public ContainerFirewall(NftClient nft, NetlinkConnection netfilter, IHostSettings? host = null)
    {
        _nft = nft;
        _ct = new ConntrackClient(netfilter);
        _host = host;
    }

    public NftClient Nft => _nft;

    /// <summary>
    /// Adds the table, its chains, maps and fixed rules to <paramref name="b"/> unless the table exists at generation
    /// <paramref name="gen"/> (known without a lookup when this firewall saw it at that generation). Returns true when
    /// the table existed already, false when the batch creates it.
    /// </summary>
    private bool EnsureBase(NftBatch b, uint gen)
    {
        _baseInPlan = true;
        if (_baseAt == gen) return true;
        if (_nft.TableExists(Family, TableName))
        {
            _baseAt = gen;
            return true;
        }
        AddBase(b);
        return false;
    }

    /// <summary>
    /// One read-modify-write transaction (<see cref="NftClient.Transaction(Func{uint, NftBatch}, string?)"/>) that keeps
    /// the base cache: after a committed batch whose plan had the base in place, the table is known at the next generation.
    /// </summary>
    private void Transact(Func<uint, NftBatch> plan, string context)
    {
        uint planned = 0;
        var count = 0;
        var baseKnown = false;
        try
        {
            _nft.Transaction(gen =>
            {
                planned = gen;
                _baseInPlan = false;
                var b = plan(gen);
                count = b.Count;
                baseKnown = _baseInPlan || _baseAt == gen;
                return b;
            }, context);
        }
        catch
        {
            _baseAt = null;
            throw;
        }
        if (count == 0) return;
        _baseAt = baseKnown ? (planned == uint.MaxValue ? 1u : planned + 1) : null;
    }

    private static ContainerNetworkingException Invalid(string id, string message) => new(id, ErrorKind.InvalidArgument, message);

    private static void CheckOwner(string? owner) => RuleComment.ValidateOwner(owner);

    private static void CheckBridgeName(string? name, string what) => InterfaceName.Validate(name, what);

    private static bool IsV6(IPAddress a) => a.AddressFamily == AddressFamily.InterNetworkV6;

    private static IPAddress Normalize(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;

    /// <summary>
    /// <c>nft delete table inet containernetworking</c> (and the bridge one): removes everything this module set up here.
    /// Nothing else is touched.
    /// </summary>
    public void RemoveAll()
    {
        var b = new NftBatch();
        if (_nft.TableExists(Family, TableName)) b.DeleteTable(Family, TableName);
        if (_nft.TableExists(NftFamily.Bridge, TableName)) b.DeleteTable(NftFamily.Bridge, TableName);
        _baseAt = null;
        _nft.Commit(b, context: "remove the containernetworking tables");
    }
}
