using System.Net;

namespace ContainerNetworking.Netfilter;

/// <summary>
/// The one layout every rule of <see cref="ContainerFirewall"/> is written into: the table <c>inet
/// containernetworking</c> (and <c>bridge containernetworking</c> for ICC off), its base chains hooked once, the
/// regular chains they jump to, the set of bridge networks and the four published-port maps, and the fixed rules
/// that tie them together. Each purpose file (masquerade, published ports, bridge networks, allowed pairs) adds
/// rules to these chains and elements to these sets; none creates a chain or a set of its own.
/// <code>
/// raw-prerouting (filter, prerouting -300)  guard: no 127.0.0.0/8 from outside lo (CVE-2020-8558)
/// nat-prerouting (nat, prerouting -100)     fib daddr type local → jump published
/// nat-output     (nat, output -100)         fib daddr type local → jump published
/// published                                 dnat through @hostports4, @ports4, @hostports6, @ports6
/// nat-postrouting (nat, postrouting 100)    loopback to published ports; masquerades; networks' hairpin
/// forward        (filter, forward 0)        invalid to/from @networks → drop; established → accept; jump isolation;
///                                           DNAT → accept; jump networks
/// isolation                                 allowed pairs (accept), internal networks' drops, drops between networks
///                                           (sparing DNAT'd flows: published ports answer other networks)
/// networks                                  each network's accepts (ICC, outbound), then unless routed the drop of
///                                           everything else to its bridge (no direct access from outside)
/// set networks (ifname)                     the bridges of the networks, the comment holding each network's spec
/// </code>
/// </summary>
internal static class FirewallLayout
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

    internal const string TagBase = RuleComment.Prefix + RuleComment.Base;

    internal static readonly NftSet[] Maps =
    [
        PortMap(MapPorts4, [Nft.TYPE_INET_PROTOCOL, Nft.TYPE_INET_SERVICE], [1, 2], v6: false),
        PortMap(MapHostPorts4, [Nft.TYPE_IPADDR, Nft.TYPE_INET_PROTOCOL, Nft.TYPE_INET_SERVICE], [4, 1, 2], v6: false),
        PortMap(MapPorts6, [Nft.TYPE_INET_PROTOCOL, Nft.TYPE_INET_SERVICE], [1, 2], v6: true),
        PortMap(MapHostPorts6, [Nft.TYPE_IP6ADDR, Nft.TYPE_INET_PROTOCOL, Nft.TYPE_INET_SERVICE], [16, 1, 2], v6: true),
    ];

    internal static NftSet PortMap(string name, uint[] keyTypes, uint[] fieldLengths, bool v6) => new(Family, TableName, name)
    {
        Flags = Nft.NFT_SET_MAP,
        KeyType = Nft.ConcatType(keyTypes),
        KeyLength = (uint)fieldLengths.Sum(f => (f + 3) / 4 * 4),
        DataType = Nft.ConcatType(v6 ? Nft.TYPE_IP6ADDR : Nft.TYPE_IPADDR, Nft.TYPE_INET_SERVICE),
        DataLength = v6 ? 20u : 8u,
        ConcatFieldLengths = fieldLengths,
        Counters = true,
    };

    internal static NftRule Rule(string chain, string comment, params NftExpr[][] parts) =>
        new(Family, TableName, chain, parts.SelectMany(p => p).ToArray()) { Comment = comment };

    internal static NftExpr[] E(params NftExpr[] e) => e;

    internal static NftChain Base(string name, NftHook hook, int prio, string type) =>
        new(Family, TableName, name) { Hook = hook, Priority = prio, Type = type, Policy = Nft.NF_ACCEPT };

    /// <summary>The base and regular chains of the table, in the order they are created.</summary>
    internal static NftChain[] Chains() =>
    [
        Base(ChainRaw, NftHook.Prerouting, -300, "filter"),
        Base(ChainPrerouting, NftHook.Prerouting, -100, "nat"),
        Base(ChainOutput, NftHook.Output, -100, "nat"),
        Base(ChainPostrouting, NftHook.Postrouting, 100, "nat"),
        Base(ChainForward, NftHook.Forward, 0, "filter"),
        new NftChain(Family, TableName, ChainPublished),
        new NftChain(Family, TableName, ChainIsolation),
        new NftChain(Family, TableName, ChainNetworks),
    ];

    /// <summary>The port maps and the set of networks.</summary>
    internal static NftSet[] Sets() =>
    [
        .. Maps,
        new NftSet(Family, TableName, SetNetworks)
        {
            KeyType = Nft.TYPE_IFNAME, KeyLength = Nft.IFNAMSIZ,
            KeyByteOrder = 1, // host order, as nft declares ifname sets
        },
    ];

    /// <summary>The table, its chains, sets and maps, and the fixed rules: what a batch that creates the table adds.</summary>
    internal static void AddBase(NftBatch b)
    {
        // exclusive: two processes setting up at once collide here, and the loser plans again against the winner's table
        b.AddTable(new NftTable(Family, TableName), exclusive: true);
        foreach (var c in Chains()) b.AddChain(c);
        foreach (var s in Sets()) b.AddSet(s);
        foreach (var r in BaseRules()) b.AddRule(r);
    }

    /// <summary>
    /// The fixed rules, in order; each chain's fixed rules come before any other rule of that chain (they are added
    /// with the table, everything else is appended later). All carry a comment starting with <see cref="TagBase"/>.
    /// </summary>
    internal static List<NftRule> BaseRules()
    {
        const byte v4 = Nft.NFPROTO_IPV4, v6 = Nft.NFPROTO_IPV6;
        var rules = new List<NftRule>();
        // CVE-2020-8558 guard: nothing addressed to 127.0.0.0/8 comes in from anywhere but lo.
        rules.Add(Rule(ChainRaw, TagBase + " guard: no 127.0.0.0/8 from outside lo (CVE-2020-8558)",
            NftMatch.NfProto(v4), NftMatch.IfName(false, "lo", equal: false),
            NftMatch.Address(false, new IPNetwork(IPAddress.Parse("127.0.0.0"), 8)), E(new NftCounter(), NftImmediate.Drop())));
        rules.Add(Rule(ChainPrerouting, TagBase + " published ports", NftMatch.DaddrIsLocal(), E(NftImmediate.Jump(ChainPublished))));
        rules.Add(Rule(ChainOutput, TagBase + " published ports", NftMatch.DaddrIsLocal(), E(NftImmediate.Jump(ChainPublished))));
        // dnat ip to ip daddr . meta l4proto . th dport map @hostports4, then the unbound map; the same for IPv6.
        foreach (var (map, bound, fam) in new[] { (MapHostPorts4, true, v4), (MapPorts4, false, v4), (MapHostPorts6, true, v6), (MapPorts6, false, v6) })
        {
            var addrLen = fam == v4 ? 4u : 16u;
            var exprs = new List<NftExpr>(NftMatch.NfProto(fam));
            uint reg = Nft.NFT_REG32_00;
            if (bound)
            {
                exprs.Add(new NftPayload(Nft.NFT_PAYLOAD_NETWORK_HEADER, fam == v4 ? 16u : 24u, addrLen, Nft.NFT_REG_1));
                reg += addrLen / 4;
            }
            exprs.Add(new NftMeta(Nft.NFT_META_L4PROTO, bound ? reg : Nft.NFT_REG_1));
            exprs.Add(new NftPayload(Nft.NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg + 1));
            exprs.Add(new NftLookup(map, Nft.NFT_REG_1, Nft.NFT_REG_1));
            exprs.Add(new NftNat(Nft.NFT_NAT_DNAT, fam, Nft.NFT_REG_1,
                fam == v4 ? Nft.NFT_REG32_00 + 1 : Nft.NFT_REG_2));
            rules.Add(Rule(ChainPublished, TagBase + " published ports", exprs.ToArray()));
        }
        // A host connection to 127.0.0.1:PORT leaves through the bridge after DNAT: give it the bridge's address.
        rules.Add(Rule(ChainPostrouting, TagBase + " loopback to published ports",
            NftMatch.NfProto(v4), NftMatch.Address(true, new IPNetwork(IPAddress.Parse("127.0.0.0"), 8)),
            NftMatch.CtBits(Nft.NFT_CT_STATUS, Nft.IPS_DST_NAT), E(new NftCounter(), new NftMasq())));
        rules.AddRange(ForwardRules());
        return rules;
    }

    /// <summary>
    /// The fixed rules of the forward chain, in order. Packets conntrack finds invalid (out of any connection's
    /// window, bad flags, no conntrack entry to translate by) are dropped to and from container networks first, as
    /// netavark does: such a packet is never translated, so letting it through would leak untranslated addresses.
    /// Then replies; then isolation (allowed pairs, internal networks, and the drops between networks, which spare
    /// DNAT'd flows: a port published by a container of another network is reachable through the host's address, as
    /// with Docker and netavark); then every flow a published port translated is accepted; then each network's own
    /// rules (ICC, outbound, and the drop of everything else routed to its bridge: no direct access from outside).
    /// </summary>
    internal static NftRule[] ForwardRules() =>
    [
        Rule(ChainForward, TagBase + " invalid in", E(new NftMeta(Nft.NFT_META_IIFNAME), new NftLookup(SetNetworks)),
            NftMatch.CtBits(Nft.NFT_CT_STATE, Nft.NF_CT_STATE_INVALID_BIT), E(new NftCounter(), NftImmediate.Drop())),
        Rule(ChainForward, TagBase + " invalid out", E(new NftMeta(Nft.NFT_META_OIFNAME), new NftLookup(SetNetworks)),
            NftMatch.CtBits(Nft.NFT_CT_STATE, Nft.NF_CT_STATE_INVALID_BIT), E(new NftCounter(), NftImmediate.Drop())),
        Rule(ChainForward, TagBase + " established",
            NftMatch.CtBits(Nft.NFT_CT_STATE, Nft.NF_CT_STATE_ESTABLISHED | Nft.NF_CT_STATE_RELATED),
            E(new NftCounter(), NftImmediate.Accept())),
        Rule(ChainForward, TagBase + " isolation", E(NftImmediate.Jump(ChainIsolation))),
        Rule(ChainForward, TagBase + " published ports",
            NftMatch.CtBits(Nft.NFT_CT_STATUS, Nft.IPS_DST_NAT), E(new NftCounter(), NftImmediate.Accept())),
        Rule(ChainForward, TagBase + " networks", E(NftImmediate.Jump(ChainNetworks))),
    ];
}
