using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netlink;
using ContainerNetworking.Values;

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
/// Each operation is one atomic batch, planned against the generation it read and retried if the ruleset changed.
/// </summary>
public sealed class ContainerFirewall
{
    public const string TableName = "containernetworking";
    public const NftFamily Family = NftFamily.Inet;

    internal const string ChainRaw = "raw-prerouting";
    internal const string ChainPrerouting = "nat-prerouting";
    internal const string ChainOutput = "nat-output";
    internal const string ChainPublished = "published";
    internal const string ChainPostrouting = "nat-postrouting";
    internal const string ChainForward = "forward";
    internal const string ChainIsolation = "isolation";
    internal const string ChainNetworks = "networks";
    internal const string ChainBridgeForward = "forward";
    internal const string SetNetworks = "networks";
    internal const string MapPorts4 = "ports4";
    internal const string MapHostPorts4 = "hostports4";
    internal const string MapPorts6 = "ports6";
    internal const string MapHostPorts6 = "hostports6";

    private const string TagBase = RuleComment.Prefix + RuleComment.Base;

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

    // ============================================================================================================
    // Foreign rulesets
    // ============================================================================================================

    /// <summary>
    /// Base chains of other tables on the forward hook whose policy is drop (iptables-nft's <c>table ip filter { chain
    /// FORWARD { policy drop } }</c> once Docker is installed, firewalld …): they drop forwarded container traffic that
    /// none of their own rules accept, whatever this module does. One warning per chain, naming it and the fix.
    /// </summary>
    public IReadOnlyList<string> FindForeignDrops()
    {
        var warnings = new List<string>();
        foreach (var c in _nft.ListChains())
        {
            if (c.Table == TableName && c.Family is NftFamily.Inet or NftFamily.Bridge) continue;
            if (c.Hook != NftHook.Forward || c.Policy != global::ContainerNetworking.Netfilter.Nft.NF_DROP) continue;
            if (c.Family is not (NftFamily.IPv4 or NftFamily.IPv6 or NftFamily.Inet)) continue;
            warnings.Add($"table {NftText.Family(c.Family)} {c.Table} chain {c.Name} (hook forward, priority {c.Priority}) has policy drop: " +
                "forwarded container traffic that no rule of that chain accepts is dropped there, whatever this module's rules say. " +
                $"Accept the bridges' traffic in that chain (e.g. 'iptables -I {c.Name} -i BRIDGE -j ACCEPT' and '-o BRIDGE -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT') or set its policy to accept.");
        }
        return warnings;
    }

    // ============================================================================================================
    // The table's skeleton
    // ============================================================================================================

    private static readonly NftSet[] Maps =
    [
        PortMap(MapPorts4, [global::ContainerNetworking.Netfilter.Nft.TYPE_INET_PROTOCOL, global::ContainerNetworking.Netfilter.Nft.TYPE_INET_SERVICE], [1, 2], v6: false),
        PortMap(MapHostPorts4, [global::ContainerNetworking.Netfilter.Nft.TYPE_IPADDR, global::ContainerNetworking.Netfilter.Nft.TYPE_INET_PROTOCOL, global::ContainerNetworking.Netfilter.Nft.TYPE_INET_SERVICE], [4, 1, 2], v6: false),
        PortMap(MapPorts6, [global::ContainerNetworking.Netfilter.Nft.TYPE_INET_PROTOCOL, global::ContainerNetworking.Netfilter.Nft.TYPE_INET_SERVICE], [1, 2], v6: true),
        PortMap(MapHostPorts6, [global::ContainerNetworking.Netfilter.Nft.TYPE_IP6ADDR, global::ContainerNetworking.Netfilter.Nft.TYPE_INET_PROTOCOL, global::ContainerNetworking.Netfilter.Nft.TYPE_INET_SERVICE], [16, 1, 2], v6: true),
    ];

    private static NftSet PortMap(string name, uint[] keyTypes, uint[] fieldLengths, bool v6) => new(Family, TableName, name)
    {
        Flags = global::ContainerNetworking.Netfilter.Nft.NFT_SET_MAP,
        KeyType = global::ContainerNetworking.Netfilter.Nft.ConcatType(keyTypes),
        KeyLength = (uint)fieldLengths.Sum(f => (f + 3) / 4 * 4),
        DataType = global::ContainerNetworking.Netfilter.Nft.ConcatType(v6 ? global::ContainerNetworking.Netfilter.Nft.TYPE_IP6ADDR : global::ContainerNetworking.Netfilter.Nft.TYPE_IPADDR, global::ContainerNetworking.Netfilter.Nft.TYPE_INET_SERVICE),
        DataLength = v6 ? 20u : 8u,
        ConcatFieldLengths = fieldLengths,
        Counters = true,
    };

    private static NftRule Rule(string chain, string comment, params NftExpr[][] parts) =>
        new(Family, TableName, chain, parts.SelectMany(p => p).ToArray()) { Comment = comment };

    private static NftExpr[] E(params NftExpr[] e) => e;

    private static NftChain Base(string name, NftHook hook, int prio, string type) =>
        new(Family, TableName, name) { Hook = hook, Priority = prio, Type = type, Policy = global::ContainerNetworking.Netfilter.Nft.NF_ACCEPT };

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
        const byte v4 = global::ContainerNetworking.Netfilter.Nft.NFPROTO_IPV4, v6 = global::ContainerNetworking.Netfilter.Nft.NFPROTO_IPV6;
        // exclusive: two processes setting up at once collide here, and the loser plans again against the winner's table
        b.AddTable(new NftTable(Family, TableName), exclusive: true);
        b.AddChain(Base(ChainRaw, NftHook.Prerouting, -300, "filter"));
        b.AddChain(Base(ChainPrerouting, NftHook.Prerouting, -100, "nat"));
        b.AddChain(Base(ChainOutput, NftHook.Output, -100, "nat"));
        b.AddChain(Base(ChainPostrouting, NftHook.Postrouting, 100, "nat"));
        b.AddChain(Base(ChainForward, NftHook.Forward, 0, "filter"));
        b.AddChain(new NftChain(Family, TableName, ChainPublished));
        b.AddChain(new NftChain(Family, TableName, ChainIsolation));
        b.AddChain(new NftChain(Family, TableName, ChainNetworks));
        foreach (var m in Maps) b.AddSet(m);
        b.AddSet(new NftSet(Family, TableName, SetNetworks)
        {
            KeyType = global::ContainerNetworking.Netfilter.Nft.TYPE_IFNAME, KeyLength = global::ContainerNetworking.Netfilter.Nft.IFNAMSIZ,
            KeyByteOrder = 1, // host order, as nft declares ifname sets
        });

        // CVE-2020-8558 guard: nothing addressed to 127.0.0.0/8 comes in from anywhere but lo.
        b.AddRule(Rule(ChainRaw, TagBase + " guard: no 127.0.0.0/8 from outside lo (CVE-2020-8558)",
            NftMatch.NfProto(v4), NftMatch.IfName(false, "lo", equal: false),
            NftMatch.Address(false, new IPNetwork(IPAddress.Parse("127.0.0.0"), 8)), E(new NftCounter(), NftImmediate.Drop())));
        b.AddRule(Rule(ChainPrerouting, TagBase + " published ports", NftMatch.DaddrIsLocal(), E(NftImmediate.Jump(ChainPublished))));
        b.AddRule(Rule(ChainOutput, TagBase + " published ports", NftMatch.DaddrIsLocal(), E(NftImmediate.Jump(ChainPublished))));
        // dnat ip to ip daddr . meta l4proto . th dport map @hostports4, then the unbound map; the same for IPv6.
        foreach (var (map, bound, fam) in new[] { (MapHostPorts4, true, v4), (MapPorts4, false, v4), (MapHostPorts6, true, v6), (MapPorts6, false, v6) })
        {
            var addrLen = fam == v4 ? 4u : 16u;
            var exprs = new List<NftExpr>(NftMatch.NfProto(fam));
            uint reg = global::ContainerNetworking.Netfilter.Nft.NFT_REG32_00;
            if (bound)
            {
                exprs.Add(new NftPayload(global::ContainerNetworking.Netfilter.Nft.NFT_PAYLOAD_NETWORK_HEADER, fam == v4 ? 16u : 24u, addrLen, global::ContainerNetworking.Netfilter.Nft.NFT_REG_1));
                reg += addrLen / 4;
            }
            exprs.Add(new NftMeta(global::ContainerNetworking.Netfilter.Nft.NFT_META_L4PROTO, bound ? reg : global::ContainerNetworking.Netfilter.Nft.NFT_REG_1));
            exprs.Add(new NftPayload(global::ContainerNetworking.Netfilter.Nft.NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg + 1));
            exprs.Add(new NftLookup(map, global::ContainerNetworking.Netfilter.Nft.NFT_REG_1, global::ContainerNetworking.Netfilter.Nft.NFT_REG_1));
            exprs.Add(new NftNat(global::ContainerNetworking.Netfilter.Nft.NFT_NAT_DNAT, fam, global::ContainerNetworking.Netfilter.Nft.NFT_REG_1,
                fam == v4 ? global::ContainerNetworking.Netfilter.Nft.NFT_REG32_00 + 1 : global::ContainerNetworking.Netfilter.Nft.NFT_REG_2));
            b.AddRule(Rule(ChainPublished, TagBase + " published ports", exprs.ToArray()));
        }
        // A host connection to 127.0.0.1:PORT leaves through the bridge after DNAT: give it the bridge's address.
        b.AddRule(Rule(ChainPostrouting, TagBase + " loopback to published ports",
            NftMatch.NfProto(v4), NftMatch.Address(true, new IPNetwork(IPAddress.Parse("127.0.0.0"), 8)),
            NftMatch.CtBits(global::ContainerNetworking.Netfilter.Nft.NFT_CT_STATUS, global::ContainerNetworking.Netfilter.Nft.IPS_DST_NAT), E(new NftCounter(), new NftMasq())));
        // The forward filter: replies first, then isolation (drops), published ports, then each network's accepts.
        b.AddRule(Rule(ChainForward, TagBase + " established",
            NftMatch.CtBits(global::ContainerNetworking.Netfilter.Nft.NFT_CT_STATE, global::ContainerNetworking.Netfilter.Nft.NF_CT_STATE_ESTABLISHED | global::ContainerNetworking.Netfilter.Nft.NF_CT_STATE_RELATED),
            E(new NftCounter(), NftImmediate.Accept())));
        b.AddRule(Rule(ChainForward, TagBase + " isolation", E(NftImmediate.Jump(ChainIsolation))));
        b.AddRule(Rule(ChainForward, TagBase + " published ports",
            NftMatch.CtBits(global::ContainerNetworking.Netfilter.Nft.NFT_CT_STATUS, global::ContainerNetworking.Netfilter.Nft.IPS_DST_NAT), E(new NftCounter(), NftImmediate.Accept())));
        b.AddRule(Rule(ChainForward, TagBase + " networks", E(NftImmediate.Jump(ChainNetworks))));
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

    // ============================================================================================================
    // Validation helpers
    // ============================================================================================================

    private static ContainerNetworkingException Invalid(string id, string message) => new(id, ErrorKind.InvalidArgument, message);

    private static void CheckOwner(string? owner) => RuleComment.ValidateOwner(owner);

    private static void CheckBridgeName(string? name, string what) => InterfaceName.Validate(name, what);

    private static bool IsV6(IPAddress a) => a.AddressFamily == AddressFamily.InterNetworkV6;

    private static IPAddress Normalize(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;


    // ============================================================================================================
    // Masquerade
    // ============================================================================================================

    /// <summary>
    /// Masquerades (or SNATs) a source prefix: <c>nft add rule inet containernetworking nat-postrouting ip saddr SOURCE
    /// oifname != BRIDGE counter masquerade comment "cn:masquerade …"</c>, as <c>iptables -t nat -A POSTROUTING -s SOURCE
    /// ! -o BRIDGE -j MASQUERADE</c> (or <c>-j SNAT --to-source ADDR</c>). Adding one that exists returns it unchanged.
    /// </summary>
    public NatMasquerade AddMasquerade(MasqueradeSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.ExcludeOutInterface is not null) CheckBridgeName(spec.ExcludeOutInterface, "excluded output interface");
        CheckOwner(spec.Owner);
        var v6 = IsV6(spec.Source.BaseAddress);
        if (spec.SnatAddress is { } snat && IsV6(Normalize(snat)) != v6)
            throw Invalid("InvalidMasquerade", $"The SNAT address {snat} is not of the same family as the source prefix {spec.Source}: give an {(v6 ? "IPv6" : "IPv4")} address.");
        var comment = MasqueradeComment(spec);
        NatMasquerade? existing = null;
        Transact(gen =>
        {
            var b = new NftBatch();
            existing = GetMasquerades().FirstOrDefault(m => m.Comment == comment);
            if (existing is not null) return b;
            EnsureBase(b, gen);
            b.AddRule(MasqueradeRule(spec, comment));
            return b;
        }, $"masquerade {spec.Source}");
        return existing ?? GetMasquerades().First(m => m.Comment == comment);
    }

    private static string MasqueradeComment(MasqueradeSpec s) => RuleComment.ForMasquerade(s);

    private static NftRule MasqueradeRule(MasqueradeSpec s, string comment)
    {
        var v6 = IsV6(s.Source.BaseAddress);
        var fam = v6 ? global::ContainerNetworking.Netfilter.Nft.NFPROTO_IPV6 : global::ContainerNetworking.Netfilter.Nft.NFPROTO_IPV4;
        var parts = new List<NftExpr[]> { NftMatch.NfProto(fam), NftMatch.Address(true, s.Source) };
        if (s.ExcludeOutInterface is { } br) parts.Add(NftMatch.IfName(true, br, equal: false));
        parts.Add(E(new NftCounter()));
        if (s.SnatAddress is { } a)
            parts.Add(E(NftImmediate.Value(Normalize(a).GetAddressBytes()),
                new NftNat(global::ContainerNetworking.Netfilter.Nft.NFT_NAT_SNAT, fam, global::ContainerNetworking.Netfilter.Nft.NFT_REG_1)));
        else parts.Add(E(new NftMasq()));
        return Rule(ChainPostrouting, comment, parts.ToArray());
    }

    /// <summary>
    /// The masquerade rules (<c>nft -a list chain inet containernetworking nat-postrouting</c>), with counters: those of
    /// <see cref="AddMasquerade"/> and those of the bridge networks (<see cref="AddBridgeNetwork"/>, one per subnet, the
    /// network's owner; not the hairpin rules).
    /// </summary>
    public IReadOnlyList<NatMasquerade> GetMasquerades()
    {
        if (!_nft.TableExists(Family, TableName)) return [];
        var list = new List<NatMasquerade>();
        var rules = _nft.ListRules(Family, TableName, ChainPostrouting);
        foreach (var r in rules)
        {
            if (RuleComment.Parse(r.Comment)?.ToMasquerade() is not { } m) continue;
            var (p, bytes) = r.Counters;
            list.Add(new NatMasquerade(m.Source, m.ExcludeOutInterface, m.SnatAddress, m.Owner, r.Handle, p, bytes, r.Comment!));
        }
        foreach (var e in _nft.ListElements(Family, TableName, SetNetworks))
        {
            if (ParseSpec(e.Comment) is not { Masquerade: true, Internal: false } spec) continue;
            foreach (var subnet in spec.Subnets)
            {
                var match = NftMatch.Address(true, subnet);
                var r = rules.FirstOrDefault(r => IsNetworkTag(r.Comment, spec.Bridge) && r.Expressions.Any(x => x is NftMasq)
                    && !r.Expressions.Any(x => x is NftCt) && ContainsRun(r.Expressions, match));
                if (r is null) continue;
                var (p, bytes) = r.Counters;
                list.Add(new NatMasquerade(subnet, spec.Bridge, null, spec.Owner, r.Handle, p, bytes, r.Comment!));
            }
        }
        return list;
    }

    private static bool ContainsRun(IReadOnlyList<NftExpr> exprs, NftExpr[] run)
    {
        for (var i = 0; i + run.Length <= exprs.Count; i++)
            if (run.Select((x, j) => x.Equals(exprs[i + j])).All(eq => eq)) return true;
        return false;
    }

    /// <summary><c>nft delete rule inet containernetworking nat-postrouting handle H</c> for this masquerade.</summary>
    public void RemoveMasquerade(NatMasquerade masquerade)
    {
        ArgumentNullException.ThrowIfNull(masquerade);
        if (IsNetworkTag(masquerade.Comment, masquerade.ExcludeOutInterface ?? ""))
            throw new ContainerNetworkingException("MasqueradeOwnedByNetwork", ErrorKind.InvalidOperation,
                $"The masquerade of {masquerade.Source} is part of the bridge network on {masquerade.ExcludeOutInterface} (owner {masquerade.Owner ?? "none"}): without it " +
                "that network's containers lose the outside, and Repair-ContainerNetwork would put it back. It goes with the network: remove the network with Remove-ContainerNetwork.");
        Transact(_ =>
        {
            var current = GetMasquerades().FirstOrDefault(m => m.Handle == masquerade.Handle && m.Comment == masquerade.Comment)
                ?? throw new ContainerNetworkingException("MasqueradeNotFound", ErrorKind.NotFound,
                    $"The masquerade for {masquerade.Source} (rule handle {masquerade.Handle}) does not exist (any more). List them with Get-NatMasquerade.");
            return new NftBatch().DeleteRule(Family, TableName, ChainPostrouting, current.Handle);
        }, $"remove masquerade {masquerade.Source}");
    }

    // ============================================================================================================
    // Port publishing
    // ============================================================================================================

    private sealed record Normalized(PortProtocol Protocol, IPAddress? HostAddress, int HostPort, int HostPortEnd,
        IPAddress ContainerAddress, int ContainerPort, int ContainerPortEnd, string? Owner)
    {
        public bool V6 => IsV6(ContainerAddress);
        public string Map => (V6, HostAddress is not null) switch
        {
            (false, false) => MapPorts4, (false, true) => MapHostPorts4, (true, false) => MapPorts6, _ => MapHostPorts6,
        };
        public string Comment => RuleComment.ForPublish(HostPort, HostPortEnd, Owner);
    }

    private static Normalized Validate(PortMappingSpec spec, IReadOnlyList<IPNetwork>? allowedContainerSubnets)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!Enum.IsDefined(spec.Protocol))
            throw Invalid("InvalidProtocol", $"Unknown protocol number {(byte)spec.Protocol}: ports can be published for tcp, udp or sctp.");
        static void Port(int p, string what) => Ports.Validate(p, what);
        Port(spec.HostPort, "host port");
        Port(spec.ContainerPort, "container port");
        var hostEnd = spec.HostPortEnd ?? spec.HostPort;
        Port(hostEnd, "last host port");
        if (hostEnd < spec.HostPort)
            throw Invalid("InvalidPortRange", $"The host port range {spec.HostPort}-{hostEnd} ends before it starts: give the lower port first.");
        var length = hostEnd - spec.HostPort;
        var containerEnd = spec.ContainerPortEnd ?? spec.ContainerPort + length;
        Port(containerEnd, "last container port");
        if (containerEnd < spec.ContainerPort)
            throw Invalid("InvalidPortRange", $"The container port range {spec.ContainerPort}-{containerEnd} ends before it starts: give the lower port first.");
        if (containerEnd - spec.ContainerPort != length)
            throw Invalid("InvalidPortRange", $"The host port range {spec.HostPort}-{hostEnd} ({length + 1} ports) and the container port range " +
                $"{spec.ContainerPort}-{containerEnd} ({containerEnd - spec.ContainerPort + 1} ports) differ in length: give ranges of the same length.");
        if (length + 1 > MaxRangeLength)
            throw new ContainerNetworkingException("PortRangeTooLarge", ErrorKind.LimitsExceeded,
                $"The range {spec.HostPort}-{hostEnd} has {length + 1} ports; at most {MaxRangeLength} can be published at once: split it.");
        if (spec.ContainerAddress is null)
            throw Invalid("InvalidAddress", "The container address is missing: give the container's IPv4 or IPv6 address.");
        var container = Normalize(spec.ContainerAddress);
        if (container.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) ||
            container.Equals(IPAddress.Any) || container.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(container) ||
            (IsV6(container) ? container.IsIPv6Multicast : (container.GetAddressBytes()[0] & 0xf0) == 0xe0) || container.Equals(IPAddress.Broadcast))
            throw Invalid("InvalidAddress", $"{spec.ContainerAddress} cannot be a container's address: give the unicast address of the container on its bridge.");
        IPAddress? host = spec.HostAddress is null ? null : Normalize(spec.HostAddress);
        if (host is not null && (host.Equals(IPAddress.Any) || host.Equals(IPAddress.IPv6Any))) host = null;
        if (host is not null && IsV6(host) != IsV6(container))
            throw Invalid("InvalidAddress", $"The host address {host} and the container address {container} are of different families: publish IPv4 to IPv4 and IPv6 to IPv6.");
        if (host is not null && IsV6(host) && IPAddress.IsLoopback(host))
            throw Invalid("InvalidAddress", "Ports cannot be published on ::1: the kernel never routes IPv6 loopback traffic out of the host. Publish on 127.0.0.1 or on all addresses.");
        if (allowedContainerSubnets is not null && !allowedContainerSubnets.Any(n => n.Contains(container)))
            throw Invalid("ContainerAddressOutsideSubnets", $"The container address {container} is outside every bridge's subnet ({string.Join(", ", allowedContainerSubnets)}): " +
                "give the address the container has on one of those networks.");
        CheckOwner(spec.Owner);
        return new Normalized(spec.Protocol, host, spec.HostPort, hostEnd, container, spec.ContainerPort, containerEnd, spec.Owner);
    }

    private static byte[] Key(Normalized n, int hostPort)
    {
        var addr = n.HostAddress?.GetAddressBytes() ?? [];
        var k = new byte[addr.Length + 8];
        addr.CopyTo(k, 0);
        k[addr.Length] = (byte)n.Protocol;
        BinaryPrimitives.WriteUInt16BigEndian(k.AsSpan(addr.Length + 4), (ushort)hostPort);
        return k;
    }

    private static byte[] Data(IPAddress container, int port)
    {
        var a = container.GetAddressBytes();
        var d = new byte[a.Length + 4];
        a.CopyTo(d, 0);
        BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(a.Length), (ushort)port);
        return d;
    }

    /// <summary>
    /// Publishes a host port (range) to a container, as <c>docker run -p</c>: adds elements to the port maps in one
    /// batch, e.g. <c>nft add element inet containernetworking ports4 '{ tcp . 8088 : 192.168.0.2 . 80 }'</c>. Fails with
    /// ErrorId PortAlreadyPublished (and changes nothing) if any of the host ports is published already for the same
    /// protocol on the same (or every) host address; bad input fails with ErrorKind.InvalidArgument. When
    /// <paramref name="allowedContainerSubnets"/> is given, the container address must be inside one of them.
    /// </summary>
    public PortMapping Publish(PortMappingSpec spec, IReadOnlyList<IPNetwork>? allowedContainerSubnets = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Publish([spec], allowedContainerSubnets)[0];
    }

    /// <summary>
    /// Publishes several mappings in ONE batch (one transaction: all of them or none), e.g. every <c>-p</c> of a
    /// container: <c>nft add element inet containernetworking ports4 '{ tcp . 8088 : 192.168.0.2 . 80, udp . 53 : … }'</c>.
    /// The cost does not grow with the number of ports published already: duplicates in the same map are refused by
    /// the kernel (the elements are created exclusively), and only the counterpart map is consulted (for a mapping on
    /// one host address, the key in the map of every address; for a mapping on every address, the host-address-bound
    /// map, which holds only the mappings bound to one address). Errors as <see cref="Publish(PortMappingSpec, IReadOnlyList{IPNetwork}?)"/>;
    /// two mappings of the list that overlap each other are refused with PortAlreadyPublished as well.
    /// </summary>
    public IReadOnlyList<PortMapping> Publish(IReadOnlyList<PortMappingSpec> specs, IReadOnlyList<IPNetwork>? allowedContainerSubnets = null)
    {
        ArgumentNullException.ThrowIfNull(specs);
        if (specs.Count == 0) return [];
        var ns = new List<Normalized>(specs.Count);
        foreach (var spec in specs) ns.Add(Validate(spec, allowedContainerSubnets));
        var total = 0;
        foreach (var n in ns) total += n.HostPortEnd - n.HostPort + 1;
        if (ns.Count > 1)
        {
            // Overlaps within the request, port by port: (protocol, family, port) used by any mapping, by one on every
            // address, and (…, address) by one on one address.
            var any = new HashSet<(PortProtocol, bool, int)>();
            var unbound = new HashSet<(PortProtocol, bool, int)>();
            var bound = new HashSet<(PortProtocol, bool, int, IPAddress)>();
            foreach (var n in ns)
            {
                for (var p = n.HostPort; p <= n.HostPortEnd; p++)
                {
                    var k = (n.Protocol, n.V6, p);
                    var clash = n.HostAddress is null ? any.Contains(k) : unbound.Contains(k) || bound.Contains((n.Protocol, n.V6, p, n.HostAddress));
                    if (clash)
                        throw new ContainerNetworkingException("PortAlreadyPublished", ErrorKind.AlreadyExists,
                            $"Host port {Describe(n)} overlaps another mapping of the same request (at port {p}). Unpublish it first or give each host port once.");
                }
                for (var p = n.HostPort; p <= n.HostPortEnd; p++)
                {
                    any.Add((n.Protocol, n.V6, p));
                    if (n.HostAddress is null) unbound.Add((n.Protocol, n.V6, p));
                    else bound.Add((n.Protocol, n.V6, p, n.HostAddress));
                }
            }
        }
        var byMap = new Dictionary<string, List<NftSetElement>>();
        foreach (var n in ns)
        {
            if (!byMap.TryGetValue(n.Map, out var list)) byMap[n.Map] = list = new List<NftSetElement>(total);
            for (var p = n.HostPort; p <= n.HostPortEnd; p++)
                list.Add(new NftSetElement(Key(n, p)) { Data = Data(n.ContainerAddress, n.ContainerPort + (p - n.HostPort)), Comment = n.Comment });
        }
        var what = ns.Count == 1 ? Describe(ns[0]) : $"{ns.Count} mappings ({total} ports)";
        try
        {
            Transact(gen =>
            {
                var b = new NftBatch();
                // A table this batch creates has no elements yet: nothing to conflict with.
                if (EnsureBase(b, gen) && FindCounterpartConflict(ns) is { } c)
                    throw new ContainerNetworkingException("PortAlreadyPublished", ErrorKind.AlreadyExists,
                        $"Host port {Describe(c.Wanted)} is already published ({c.Existing}). Unpublish it first (Unpublish-ContainerPort), or choose another host port.");
                foreach (var (map, elements) in byMap)
                    for (var i = 0; i < elements.Count; i += ElementsPerMessage)
                        b.AddElements(Family, TableName, map, elements.GetRange(i, Math.Min(ElementsPerMessage, elements.Count - i)), exclusive: true);
                return b;
            }, $"publish {what}");
        }
        catch (NetlinkException e) when (e.ErrorNumber == Interop.LibC.EEXIST)
        {
            // Name the mapping in the way (the error path may read everything).
            foreach (var n in ns)
                if (FindConflict(n) is { } c)
                    throw new ContainerNetworkingException("PortAlreadyPublished", ErrorKind.AlreadyExists,
                        $"Host port {Describe(n)} is already published ({c}). Unpublish it first (Unpublish-ContainerPort), or choose another host port.", e);
            throw new ContainerNetworkingException("PortAlreadyPublished", ErrorKind.AlreadyExists,
                $"Host port {what} is already published. Unpublish it first (Unpublish-ContainerPort), or choose another host port.", e);
        }
        EnableLoopbackPath(ns);
        return ns.Select(n => new PortMapping(n.Protocol, n.HostAddress, n.HostPort, n.HostPortEnd, n.ContainerAddress, n.ContainerPort, n.ContainerPortEnd, n.Owner, 0, 0)).ToList();
    }

    /// <summary>The interfaces (by index) on which this firewall has made sure of route_localnet.</summary>
    private readonly HashSet<int> _loopbackPathReady = [];

    /// <summary>
    /// Makes IPv4 mappings reachable from the host's 127.0.0.1 (those on every host address or on a loopback one) also
    /// where the bridge was not set up by <see cref="AddBridgeNetwork"/> (a bridge built by hand, as in the walkthroughs):
    /// route_localnet on the interface the kernel routes the container address through (<c>ip route get ADDRESS</c>, one
    /// lookup), once per interface. Safe beside the CVE-2020-8558 guard of the base ruleset. Best effort: publishing
    /// has succeeded already; without a route to the container there is nothing to enable.
    /// </summary>
    private void EnableLoopbackPath(List<Normalized> mappings)
    {
        if (_host is null) return;
        foreach (var n in mappings)
        {
            if (n.V6 || (n.HostAddress is not null && !IPAddress.IsLoopback(n.HostAddress))) continue;
            try
            {
                if (_host.RouteInterfaceIndex(n.ContainerAddress) is not int oif || !_loopbackPathReady.Add(oif)) continue;
                _host.SetLoopbackRouting(oif, true);
            }
            catch (Exception e) when (e is NetlinkException or ContainerNetworkingException or IOException or UnauthorizedAccessException) { }
        }
    }

    private static string Describe(Normalized n) =>
        $"{(n.HostAddress is null ? "" : n.HostAddress + ":")}{n.HostPort}{(n.HostPortEnd != n.HostPort ? "-" + n.HostPortEnd : "")}/{n.Protocol.ToString().ToLowerInvariant()}";

    /// <summary>Fewer keys than this are looked up one by one in the counterpart map; more read the map once.</summary>
    private const int KeyLookupLimit = 16;

    /// <summary>
    /// A conflict of <paramref name="ns"/> with the other map of its family: a mapping on one host address against the
    /// map of every address (looked up by key), a mapping on every address against the host-address-bound map (read
    /// once per family: it holds only the mappings bound to one address, usually none). Same-map conflicts are the
    /// kernel's (exclusive create).
    /// </summary>
    private (Normalized Wanted, string Existing)? FindCounterpartConflict(List<Normalized> ns)
    {
        var dumps = new Dictionary<string, List<NftSetElement>>();
        List<NftSetElement> Dumped(string map)
        {
            if (!dumps.TryGetValue(map, out var l)) dumps[map] = l = _nft.ListElements(Family, TableName, map);
            return l;
        }
        foreach (var n in ns)
        {
            var alen = n.V6 ? 16 : 4;
            if (n.HostAddress is not null)
            {
                var other = n.V6 ? MapPorts6 : MapPorts4;
                var unbound = n with { HostAddress = null };
                if (n.HostPortEnd - n.HostPort < KeyLookupLimit)
                {
                    for (var p = n.HostPort; p <= n.HostPortEnd; p++)
                        if (_nft.GetElement(Family, TableName, other, Key(unbound, p)) is { } e)
                            return (n, DescribeElement(e, bound: false, alen));
                }
                else
                {
                    foreach (var e in Dumped(other))
                    {
                        if (e.Key.Length < 8 || e.Key[0] != (byte)n.Protocol) continue;
                        var hp = BinaryPrimitives.ReadUInt16BigEndian(e.Key.AsSpan(4));
                        if (hp >= n.HostPort && hp <= n.HostPortEnd) return (n, DescribeElement(e, bound: false, alen));
                    }
                }
            }
            else
            {
                foreach (var e in Dumped(n.V6 ? MapHostPorts6 : MapHostPorts4))
                {
                    if (e.Key.Length < alen + 8 || e.Key[alen] != (byte)n.Protocol) continue;
                    var hp = BinaryPrimitives.ReadUInt16BigEndian(e.Key.AsSpan(alen + 4));
                    if (hp >= n.HostPort && hp <= n.HostPortEnd) return (n, DescribeElement(e, bound: true, alen));
                }
            }
        }
        return null;
    }

    private static string DescribeElement(NftSetElement e, bool bound, int alen)
    {
        var off = bound ? alen : 0;
        var host = bound ? new IPAddress(e.Key.AsSpan(0, alen)) + ":" : "";
        var hp = BinaryPrimitives.ReadUInt16BigEndian(e.Key.AsSpan(off + 4));
        var proto = ((PortProtocol)e.Key[off]).ToString().ToLowerInvariant();
        var to = e.Data is { } d && d.Length >= alen + 2 ? $" -> {new IPAddress(d.AsSpan(0, alen))}:{BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(alen))}" : "";
        return $"{host}{hp}/{proto}{to}{(e.Comment is { } c ? " " + c : "")}";
    }

    private PortMapping? FindConflict(Normalized n)
    {
        if (!_nft.TableExists(Family, TableName)) return null;
        foreach (var m in GetPublishedPorts())
        {
            if (m.Protocol != n.Protocol || IsV6(m.ContainerAddress) != n.V6) continue;
            if (m.HostAddress is not null && n.HostAddress is not null && !m.HostAddress.Equals(n.HostAddress)) continue;
            if (m.HostPort <= n.HostPortEnd && n.HostPort <= m.HostPortEnd) return m;
        }
        return null;
    }

    /// <summary>The published ports (<c>nft list map inet containernetworking ports4</c> …), grouped back into the ranges published, with counters.</summary>
    public IReadOnlyList<PortMapping> GetPublishedPorts()
    {
        if (!_nft.TableExists(Family, TableName)) return [];
        var result = new List<PortMapping>();
        foreach (var map in new[] { MapPorts4, MapHostPorts4, MapPorts6, MapHostPorts6 })
        {
            var v6 = map is MapPorts6 or MapHostPorts6;
            var bound = map is MapHostPorts4 or MapHostPorts6;
            var alen = v6 ? 16 : 4;
            var items = new List<(PortProtocol Proto, IPAddress? Host, int HostPort, IPAddress Container, int ContainerPort, string Comment, ulong P, ulong B)>();
            foreach (var e in _nft.ListElements(Family, TableName, map))
            {
                var k = e.Key;
                var klen = (bound ? alen : 0) + 8;
                if (k.Length < klen || e.Data is not { } d || d.Length < alen + 2) continue;
                var host = bound ? new IPAddress(k.AsSpan(0, alen)) : null;
                var off = bound ? alen : 0;
                var proto = (PortProtocol)k[off];
                var hp = BinaryPrimitives.ReadUInt16BigEndian(k.AsSpan(off + 4));
                var ca = new IPAddress(d.AsSpan(0, alen));
                var cp = BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(alen));
                items.Add((proto, host, hp, ca, cp, e.Comment ?? "", e.Packets, e.Bytes));
            }
            // One published range = the elements that share protocol, host address, comment (which names the range) and offset.
            foreach (var g in items.GroupBy(i => (i.Proto, Host: i.Host?.ToString(), i.Comment, i.Container, Delta: i.ContainerPort - i.HostPort))
                         .OrderBy(g => g.Min(i => i.HostPort)))
            {
                var sorted = g.OrderBy(i => i.HostPort).ToList();
                // split where ports are not contiguous (elements without our comment)
                var start = 0;
                for (var i = 1; i <= sorted.Count; i++)
                {
                    if (i < sorted.Count && sorted[i].HostPort == sorted[i - 1].HostPort + 1) continue;
                    var first = sorted[start];
                    var last = sorted[i - 1];
                    var owner = RuleComment.Parse(first.Comment, RuleComment.Publish)?.Owner;
                    ulong p = 0, b = 0;
                    for (var j = start; j < i; j++) { p += sorted[j].P; b += sorted[j].B; }
                    result.Add(new PortMapping(first.Proto, first.Host, first.HostPort, last.HostPort, first.Container, first.ContainerPort, last.ContainerPort, owner, p, b));
                    start = i;
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Unpublishes the mapping that holds host port <paramref name="hostPort"/> (its whole range): deletes its map elements
    /// in one batch and then the conntrack entries still translated by it (<c>conntrack -D</c>), so no stale (UDP) flow
    /// keeps reaching the container. Throws PortNotPublished when there is none. The mapping is found by its key
    /// (<c>nft get element …</c>: the element's comment names the range it was published with), not by reading every
    /// published port, so the cost does not grow with their number. The counters returned are those of that one port.
    /// </summary>
    public PortMapping Unpublish(PortProtocol protocol, int hostPort, IPAddress? hostAddress = null, AddressFamily family = AddressFamily.InterNetwork) =>
        Unpublish(protocol, hostPort, hostAddress, family, flushConntrack: true);

    /// <summary>
    /// As the public overload; <paramref name="expectedContainer"/> (when given) must be the mapping's target, or it is
    /// treated as not published (the port now belongs to someone else and is left alone).
    /// </summary>
    internal PortMapping Unpublish(PortProtocol protocol, int hostPort, IPAddress? hostAddress, AddressFamily family, bool flushConntrack,
        IPAddress? expectedContainer = null)
    {
        var host = hostAddress is null ? null : Normalize(hostAddress);
        if (host is not null && (host.Equals(IPAddress.Any) || host.Equals(IPAddress.IPv6Any))) host = null;
        var v6 = host is not null ? IsV6(host) : family == AddressFamily.InterNetworkV6;
        ContainerNetworkingException NotPublished() => new("PortNotPublished", ErrorKind.NotFound,
            $"Host port {(host is null ? "" : host + ":")}{hostPort}/{protocol.ToString().ToLowerInvariant()} is not published. List the published ports with Get-ContainerPort.");
        if (hostPort is < 1 or > 65535 || !Enum.IsDefined(protocol)) throw NotPublished();
        var probe = new Normalized(protocol, host, hostPort, hostPort, v6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 1, 1, null);
        var e = _nft.GetElement(Family, TableName, probe.Map, Key(probe, hostPort)) ?? throw NotPublished();
        var alen = v6 ? 16 : 4;
        if (e.Data is not { } d || d.Length < alen + 2) throw NotPublished();
        var container = new IPAddress(d.AsSpan(0, alen));
        if (expectedContainer is not null && !Normalize(expectedContainer).Equals(container)) throw NotPublished();
        var cport = BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(alen));
        // "cn:publish FIRST-LAST[ owner=…]" names the range; an element without it (added by hand) is one port.
        int first = hostPort, last = hostPort;
        string? owner = null;
        if (RuleComment.Parse(e.Comment, RuleComment.Publish) is { } c)
        {
            owner = c.Owner;
            if (c.ToPublishedRange() is { } r && r.First <= hostPort && hostPort <= r.Last) (first, last) = r;
        }
        var cfirst = cport - (hostPort - first);
        var mapping = new PortMapping(protocol, host, first, last, container, cfirst, cfirst + (last - first), owner, e.Packets, e.Bytes);
        try
        {
            return Unpublish(mapping, flushConntrack);
        }
        catch (ContainerNetworkingException x) when (x.ErrorId == "PortNotPublished" && first != last)
        {
            // Part of the range is gone (deleted by hand): fall back to the contiguous piece that holds the port.
            var m = GetPublishedPorts().FirstOrDefault(p => p.Protocol == protocol && IsV6(p.ContainerAddress) == v6 &&
                        Equals(p.HostAddress, host) && p.HostPort <= hostPort && hostPort <= p.HostPortEnd) ?? throw NotPublished();
            return Unpublish(m, flushConntrack);
        }
    }

    /// <summary>
    /// True when host port <paramref name="hostPort"/> is published for <paramref name="protocol"/> on
    /// <paramref name="hostAddress"/> (null: every address) or in a way that overlaps it: looked up by key in the map of
    /// every address, and for a mapping on every address also in the host-address-bound map. IPv4 unless the address is IPv6.
    /// </summary>
    public bool IsPublished(PortProtocol protocol, int hostPort, IPAddress? hostAddress = null)
    {
        var host = hostAddress is null ? null : Normalize(hostAddress);
        if (host is not null && (host.Equals(IPAddress.Any) || host.Equals(IPAddress.IPv6Any))) host = null;
        if (hostPort is < 1 or > 65535) return false;
        var v6 = host is not null && IsV6(host);
        var unbound = new Normalized(protocol, null, hostPort, hostPort, v6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 1, 1, null);
        if (_nft.GetElement(Family, TableName, unbound.Map, Key(unbound, hostPort)) is not null) return true;
        if (host is not null)
        {
            var bound = unbound with { HostAddress = host };
            return _nft.GetElement(Family, TableName, bound.Map, Key(bound, hostPort)) is not null;
        }
        if (!_nft.TableExists(Family, TableName)) return false;
        const int alen = 4;
        foreach (var e in _nft.ListElements(Family, TableName, MapHostPorts4))
            if (e.Key.Length >= alen + 8 && e.Key[alen] == (byte)protocol && BinaryPrimitives.ReadUInt16BigEndian(e.Key.AsSpan(alen + 4)) == hostPort)
                return true;
        return false;
    }

    /// <summary>Unpublishes a mapping read with <see cref="GetPublishedPorts"/> (see the other overload).</summary>
    public PortMapping Unpublish(PortMapping mapping) => Unpublish(mapping, flushConntrack: true);

    /// <summary>
    /// Deletes a mapping's elements; with <paramref name="flushConntrack"/> also its conntrack entries (a caller that
    /// flushes every entry of the container address afterwards, as the network model does, passes false).
    /// </summary>
    internal PortMapping Unpublish(PortMapping mapping, bool flushConntrack)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var n = new Normalized(mapping.Protocol, mapping.HostAddress, mapping.HostPort, mapping.HostPortEnd,
            mapping.ContainerAddress, mapping.ContainerPort, mapping.ContainerPortEnd, mapping.Owner);
        var keys = new List<NftSetElement>();
        for (var p = n.HostPort; p <= n.HostPortEnd; p++) keys.Add(new NftSetElement(Key(n, p)));
        try
        {
            Transact(_ =>
            {
                var b = new NftBatch();
                for (var i = 0; i < keys.Count; i += ElementsPerMessage)
                    b.DeleteElements(Family, TableName, n.Map, keys.GetRange(i, Math.Min(ElementsPerMessage, keys.Count - i)));
                return b;
            }, $"unpublish {mapping}");
        }
        catch (NetlinkException e) when (e.ErrorNumber == Interop.LibC.ENOENT)
        {
            throw new ContainerNetworkingException("PortNotPublished", ErrorKind.NotFound,
                $"{mapping} is not published (any more). List the published ports with Get-ContainerPort.", e);
        }
        if (flushConntrack) FlushConntrack(n);
        return mapping;
    }

    /// <summary>Deletes the conntrack entries translated by a mapping: original to a host port, reply from the container's port.</summary>
    private int FlushConntrack(Normalized n)
    {
        return _ct.Delete(n.V6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, e =>
            e.Original.Protocol == (byte)n.Protocol &&
            e.Original.DestinationPort >= n.HostPort && e.Original.DestinationPort <= n.HostPortEnd &&
            (n.HostAddress is null || e.Original.Destination.Equals(n.HostAddress)) &&
            e.Reply.Source.Equals(n.ContainerAddress) &&
            e.Reply.SourcePort >= n.ContainerPort && e.Reply.SourcePort <= n.ContainerPortEnd);
    }

    // ============================================================================================================
    // Bridge networks: the forward filter, masquerade and hairpin
    // ============================================================================================================

    private static string NetworkTag(string bridge, string? owner) => RuleComment.ForNetworkRule(bridge, owner);

    private static bool IsNetworkTag(string? comment, string bridge) => RuleComment.Parse(comment)?.IsNetwork(bridge) == true;

    private static string SpecComment(BridgeNetworkRules s) => RuleComment.ForNetwork(s);

    private static BridgeNetworkRules? ParseSpec(string? comment) => RuleComment.Parse(comment)?.ToNetwork();

    private static void ValidateNetwork(BridgeNetworkRules spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        CheckBridgeName(spec.Bridge, "bridge name");
        CheckOwner(spec.Owner);
        if (spec.Subnets is null || spec.Subnets.Count == 0)
            throw Invalid("InvalidBridgeNetwork", $"Bridge network {spec.Bridge} has no subnet: give its IPv4 subnet (and optionally an IPv6 one), e.g. 192.168.0.0/24.");
        foreach (var s in spec.Subnets)
        {
            if (s.PrefixLength == 0)
                throw Invalid("InvalidBridgeNetwork", $"The subnet {s} of {spec.Bridge} covers every address: give the bridge's own subnet, e.g. 192.168.0.0/24.");
        }
        if (spec.Subnets.Count(s => !IsV6(s.BaseAddress)) > 4 || spec.Subnets.Count > 8)
            throw Invalid("InvalidBridgeNetwork", $"Bridge network {spec.Bridge} has too many subnets ({spec.Subnets.Count}); give at most 4 per family.");
    }

    /// <summary>
    /// Sets up (or replaces, atomically) the firewall of a bridge network, as Docker's bridge driver does with iptables:
    /// masquerade of its subnets out of other interfaces, hairpin masquerade for published ports used from the bridge
    /// itself, isolation from the other networks, ICC on the bridge, no outside access for an internal network.
    /// Roughly <c>nft add rule inet containernetworking nat-postrouting ip saddr SUBNET oifname != BR masquerade</c>,
    /// <c>… isolation iifname BR oifname != BR oifname @networks drop</c>, <c>… networks iifname BR oifname BR accept</c>,
    /// <c>… networks iifname BR accept</c>, and for ICC off <c>nft add rule bridge containernetworking forward
    /// BR meta protocol ip ip saddr SUBNET ip daddr SUBNET drop</c>. One batch.
    /// </summary>
    public BridgeNetworkFirewall AddBridgeNetwork(BridgeNetworkRules spec)
    {
        ValidateNetwork(spec);
        var tag = NetworkTag(spec.Bridge, spec.Owner);
        Transact(gen =>
        {
            var b = new NftBatch();
            EnsureBase(b, gen);
            RemoveNetworkRules(b, spec.Bridge, dropElement: false);
            var nets = _nft.TableExists(Family, TableName) ? _nft.ListElements(Family, TableName, SetNetworks) : [];
            var name = NftMatch.IfNameBytes(spec.Bridge);
            if (nets.Any(e => e.Key.AsSpan().SequenceEqual(name)))
                b.DeleteElements(Family, TableName, SetNetworks, [new NftSetElement(name)]);
            b.AddElements(Family, TableName, SetNetworks, [new NftSetElement(name) { Comment = SpecComment(spec) }]);

            var inBr = NftMatch.IfName(false, spec.Bridge);
            var outBr = NftMatch.IfName(true, spec.Bridge);
            var notOutBr = NftMatch.IfName(true, spec.Bridge, equal: false);
            var notInBr = NftMatch.IfName(false, spec.Bridge, equal: false);
            foreach (var subnet in spec.Subnets)
            {
                var fam = IsV6(subnet.BaseAddress) ? global::ContainerNetworking.Netfilter.Nft.NFPROTO_IPV6 : global::ContainerNetworking.Netfilter.Nft.NFPROTO_IPV4;
                if (spec.Masquerade && !spec.Internal)
                    b.AddRule(Rule(ChainPostrouting, tag, NftMatch.NfProto(fam), NftMatch.Address(true, subnet), notOutBr, E(new NftCounter(), new NftMasq())));
                // hairpin: a container reaching a published port through the host comes back out of its own bridge
                b.AddRule(Rule(ChainPostrouting, tag, NftMatch.NfProto(fam), NftMatch.Address(true, subnet), outBr,
                    NftMatch.CtBits(global::ContainerNetworking.Netfilter.Nft.NFT_CT_STATUS, global::ContainerNetworking.Netfilter.Nft.IPS_DST_NAT), E(new NftCounter(), new NftMasq())));
            }
            if (spec.Internal)
            {
                b.AddRule(Rule(ChainIsolation, tag, inBr, notOutBr, E(new NftCounter(), NftImmediate.Drop())));
                b.AddRule(Rule(ChainIsolation, tag, outBr, notInBr, E(new NftCounter(), NftImmediate.Drop())));
            }
            else
            {
                b.AddRule(Rule(ChainIsolation, tag, inBr, notOutBr,
                    E(new NftMeta(global::ContainerNetworking.Netfilter.Nft.NFT_META_OIFNAME), new NftLookup(SetNetworks)), E(new NftCounter(), NftImmediate.Drop())));
            }
            b.AddRule(Rule(ChainNetworks, tag, inBr, outBr, E(new NftCounter(), spec.InterContainerCommunication ? NftImmediate.Accept() : NftImmediate.Drop())));
            if (!spec.Internal) b.AddRule(Rule(ChainNetworks, tag, inBr, E(new NftCounter(), NftImmediate.Accept())));
            if (!spec.InterContainerCommunication)
            {
                // Bridged traffic between two ports never reaches the IP forward hook (unless br_netfilter is loaded):
                // stop it in the bridge family's forward hook.
                b.AddTable(new NftTable(NftFamily.Bridge, TableName));
                b.AddChain(new NftChain(NftFamily.Bridge, TableName, ChainBridgeForward)
                    { Hook = NftHook.Forward, Priority = 0, Type = "filter", Policy = global::ContainerNetworking.Netfilter.Nft.NF_ACCEPT });
                // Matched by subnet (both ends inside it), not by "meta ibrname": that needs nft_meta_bridge, which
                // not every kernel has; the forward hook of the bridge family only sees port-to-port traffic anyway.
                foreach (var subnet in spec.Subnets)
                {
                    var v6 = IsV6(subnet.BaseAddress);
                    var et = new byte[2];
                    BinaryPrimitives.WriteUInt16BigEndian(et, v6 ? (ushort)0x86dd : (ushort)0x0800);
                    b.AddRule(new NftRule(NftFamily.Bridge, TableName, ChainBridgeForward,
                        [new NftMeta(global::ContainerNetworking.Netfilter.Nft.NFT_META_PROTOCOL), new NftCmp(global::ContainerNetworking.Netfilter.Nft.NFT_CMP_EQ, et),
                            .. NftMatch.Address(true, subnet), .. NftMatch.Address(false, subnet), new NftCounter(), NftImmediate.Drop()]) { Comment = tag });
                }
            }
            return b;
        }, $"set up the firewall of bridge network {spec.Bridge}");

        var warnings = new List<string>();
        SetRouteLocalnet(spec.Bridge, spec.LoopbackPublishing && !spec.Internal && spec.Subnets.Any(s => !IsV6(s.BaseAddress)), warnings);
        warnings.AddRange(FindForeignDrops());
        var fw = GetBridgeNetwork(spec.Bridge)!;
        return fw with { Warnings = warnings };
    }

    private void SetRouteLocalnet(string bridge, bool on, List<string>? warnings)
    {
        if (_host is null)
        {
            if (on) warnings?.Add($"route_localnet was not set on {bridge} (no namespace given): ports published on 127.0.0.1 will not reach its containers.");
            return;
        }
        try
        {
            _host.SetLoopbackRouting(bridge, on);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (on) warnings?.Add($"route_localnet could not be set on {bridge} ({e.Message}); create the bridge before its firewall, or ports published on 127.0.0.1 will not reach its containers.");
        }
    }

    private void RemoveNetworkRules(NftBatch b, string bridge, bool dropElement)
    {
        if (_nft.TableExists(Family, TableName))
        {
            foreach (var r in _nft.ListRules(Family, TableName))
                if (IsNetworkTag(r.Comment, bridge)) b.DeleteRule(Family, TableName, r.Chain, r.Handle);
            if (dropElement)
            {
                var name = NftMatch.IfNameBytes(bridge);
                if (_nft.ListElements(Family, TableName, SetNetworks).Any(e => e.Key.AsSpan().SequenceEqual(name)))
                    b.DeleteElements(Family, TableName, SetNetworks, [new NftSetElement(name)]);
            }
        }
        if (_nft.TableExists(NftFamily.Bridge, TableName))
            foreach (var r in _nft.ListRules(NftFamily.Bridge, TableName))
                if (IsNetworkTag(r.Comment, bridge)) b.DeleteRule(NftFamily.Bridge, TableName, r.Chain, r.Handle);
    }

    /// <summary>Removes a bridge network's rules and its entry in the networks set (one batch); throws BridgeNetworkNotFound if it has none.</summary>
    public void RemoveBridgeNetwork(string bridge)
    {
        CheckBridgeName(bridge, "bridge name");
        Transact(_ =>
        {
            var b = new NftBatch();
            RemoveNetworkRules(b, bridge, dropElement: true);
            // the pairs it was allowed to talk with go with it
            foreach (var r in AllowRules()) if (AllowPair(r.Comment) is { } p && (p.A == bridge || p.B == bridge))
                b.DeleteRule(Family, TableName, r.Chain, r.Handle);
            if (b.Count == 0)
                throw new ContainerNetworkingException("BridgeNetworkNotFound", ErrorKind.NotFound,
                    $"Bridge network {bridge} has no firewall rules to remove. List them with GetBridgeNetworks().");
            return b;
        }, $"remove the firewall of bridge network {bridge}");
        SetRouteLocalnet(bridge, false, null);
    }

    // ============================================================================================================
    // Traffic between two networks (isolation lifted on request)
    // ============================================================================================================

    private static (string A, string B) Ordered(string a, string b) => RuleComment.OrderedPair(a, b);

    private static string AllowComment(string a, string b, string? owner) => RuleComment.ForAllow(a, b, owner);

    /// <summary>The (ordered) pair an allow rule's comment names, or null for any other comment.</summary>
    private static (string A, string B)? AllowPair(string? comment) => RuleComment.Parse(comment)?.ToAllowPair();

    private List<NftRule> AllowRules() =>
        _nft.TableExists(Family, TableName)
            ? _nft.ListRules(Family, TableName, ChainIsolation).Where(r => AllowPair(r.Comment) is not null).ToList()
            : [];

    private static void CheckPair(string bridgeA, string bridgeB)
    {
        CheckBridgeName(bridgeA, "bridge name");
        CheckBridgeName(bridgeB, "bridge name");
        if (bridgeA == bridgeB)
            throw Invalid("InvalidNetworkPair", $"Both sides of the pair are bridge {bridgeA}: traffic inside one network is governed by its inter-container communication (ICC) setting; give two different bridge networks.");
    }

    private void RequireBridgeNetworks(params string[] bridges)
    {
        var nets = _nft.TableExists(Family, TableName) ? _nft.ListElements(Family, TableName, SetNetworks) : [];
        foreach (var bridge in bridges)
        {
            var name = NftMatch.IfNameBytes(bridge);
            if (!nets.Any(e => e.Key.AsSpan().SequenceEqual(name)))
                throw new ContainerNetworkingException("BridgeNetworkNotFound", ErrorKind.NotFound,
                    $"Bridge {bridge} has no network firewall here, so there is no isolation to lift. Set its network up first " +
                    $"(AddBridgeNetwork, or New-ContainerNetwork), or list the bridge networks with GetBridgeNetworks().");
        }
    }

    /// <summary>
    /// Lets two bridge networks talk to each other, both ways, despite the isolation between networks (which stays for
    /// every other network): <c>nft insert rule inet containernetworking isolation iifname A oifname B counter accept
    /// comment "cn:allow A B"</c> and the same from B to A, at the top of the isolation chain so they win over its drops
    /// (and over an internal network's). One batch; allowing a pair that is allowed already changes nothing (a different
    /// owner replaces its rules). Both bridges must be set up with <see cref="AddBridgeNetwork"/> (BridgeNetworkNotFound);
    /// removing either network removes the pair. Docker equivalent: none (its networks are always isolated; the usual
    /// workaround is <c>iptables -I DOCKER-USER -i A -o B -j ACCEPT</c>).
    /// </summary>
    public AllowedNetworkPair AllowBetweenNetworks(string bridgeA, string bridgeB, string? owner = null)
    {
        CheckPair(bridgeA, bridgeB);
        CheckOwner(owner);
        var (x, y) = Ordered(bridgeA, bridgeB);
        var comment = AllowComment(x, y, owner);
        Transact(_ =>
        {
            var b = new NftBatch();
            RequireBridgeNetworks(x, y);
            var existing = AllowRules().Where(r => AllowPair(r.Comment) == (x, y)).ToList();
            if (existing.Count == 2 && existing.All(r => r.Comment == comment)) return b;
            foreach (var r in existing) b.DeleteRule(Family, TableName, r.Chain, r.Handle);
            b.InsertRule(Rule(ChainIsolation, comment, NftMatch.IfName(false, y), NftMatch.IfName(true, x), E(new NftCounter(), NftImmediate.Accept())));
            b.InsertRule(Rule(ChainIsolation, comment, NftMatch.IfName(false, x), NftMatch.IfName(true, y), E(new NftCounter(), NftImmediate.Accept())));
            return b;
        }, $"allow traffic between bridge networks {x} and {y}");
        return GetAllowedNetworkPairs().First(p => p.BridgeA == x && p.BridgeB == y);
    }

    /// <summary>
    /// Isolates two bridge networks from each other again: deletes the pair's rules (<c>nft delete rule inet
    /// containernetworking isolation handle H</c>, found by their comment "cn:allow A B"), in one batch. Returns false
    /// when the pair was not allowed (nothing changed); throws BridgeNetworkNotFound when it was not allowed and a bridge
    /// has no network here.
    /// </summary>
    public bool DisallowBetweenNetworks(string bridgeA, string bridgeB)
    {
        CheckPair(bridgeA, bridgeB);
        var pair = Ordered(bridgeA, bridgeB);
        var removed = false;
        Transact(_ =>
        {
            var b = new NftBatch();
            foreach (var r in AllowRules().Where(r => AllowPair(r.Comment) == pair)) b.DeleteRule(Family, TableName, r.Chain, r.Handle);
            if (b.Count == 0) RequireBridgeNetworks(pair.A, pair.B);
            removed = b.Count > 0;
            return b;
        }, $"isolate bridge networks {pair.A} and {pair.B} again");
        return removed;
    }

    /// <summary>The pairs of bridge networks allowed to talk (<c>nft -a list chain inet containernetworking isolation</c>), with their rules.</summary>
    public IReadOnlyList<AllowedNetworkPair> GetAllowedNetworkPairs() =>
        AllowRules().GroupBy(r => AllowPair(r.Comment)!.Value)
            .Select(g => new AllowedNetworkPair(g.Key.A, g.Key.B, RuleComment.Parse(g.First().Comment)!.Owner, g.ToList()))
            .OrderBy(p => p.BridgeA, StringComparer.Ordinal).ThenBy(p => p.BridgeB, StringComparer.Ordinal)
            .ToList();

    /// <summary>The bridge networks set up here, with their rules (handles, counters, comments).</summary>
    public IReadOnlyList<BridgeNetworkFirewall> GetBridgeNetworks()
    {
        if (!_nft.TableExists(Family, TableName)) return [];
        var rules = _nft.ListRules(Family, TableName);
        if (_nft.TableExists(NftFamily.Bridge, TableName)) rules.AddRange(_nft.ListRules(NftFamily.Bridge, TableName));
        var list = new List<BridgeNetworkFirewall>();
        foreach (var e in _nft.ListElements(Family, TableName, SetNetworks))
        {
            if (ParseSpec(e.Comment) is not { } spec) continue;
            list.Add(new BridgeNetworkFirewall(spec, rules.Where(r => IsNetworkTag(r.Comment, spec.Bridge)).ToList(), []));
        }
        return list;
    }

    /// <summary>One bridge network's firewall, or null.</summary>
    public BridgeNetworkFirewall? GetBridgeNetwork(string bridge) => GetBridgeNetworks().FirstOrDefault(n => n.Spec.Bridge == bridge);

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
