using System.Buffers.Binary;
using System.Net;
using static ContainerNetworking.Netfilter.FirewallLayout;

namespace ContainerNetworking.Netfilter;

// Bridge networks: masquerade out, hairpin, isolation, ICC and internal networks, with their spec on the networks set.
public sealed partial class ContainerFirewall
{
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
    /// itself, isolation from the other networks, ICC on the bridge, no outside access for an internal network, and (unless
    /// <see cref="BridgeNetworkRules.Routed"/>) no direct access to the containers' addresses from outside.
    /// Roughly <c>nft add rule inet containernetworking nat-postrouting ip saddr SUBNET oifname != BR masquerade</c>,
    /// <c>… isolation iifname BR oifname != BR oifname @networks drop</c>, <c>… networks iifname BR oifname BR accept</c>,
    /// <c>… networks iifname BR accept</c>, unless routed <c>… networks oifname BR drop</c> (no direct access from
    /// outside: only published ports, translated, get in), and for ICC off <c>nft add rule bridge containernetworking forward
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

            var bridgeTable = false;
            foreach (var (rule, _) in NetworkRuleSet(spec, tag))
            {
                if (rule.Family == NftFamily.Bridge && !bridgeTable)
                {
                    // ICC off: the bridge family's table and forward chain, before its first rule.
                    b.AddTable(new NftTable(NftFamily.Bridge, TableName));
                    b.AddChain(new NftChain(NftFamily.Bridge, TableName, ChainBridgeForward)
                        { Hook = NftHook.Forward, Priority = 0, Type = "filter", Policy = global::ContainerNetworking.Netfilter.Nft.NF_ACCEPT });
                    bridgeTable = true;
                }
                b.AddRule(rule);
            }
            return b;
        }, $"set up the firewall of bridge network {spec.Bridge}");

        var warnings = new List<string>();
        SetRouteLocalnet(spec.Bridge, spec.LoopbackPublishing && !spec.Internal && spec.Subnets.Any(s => !IsV6(s.BaseAddress)), warnings);
        warnings.AddRange(FindForeignDrops());
        var fw = GetBridgeNetwork(spec.Bridge)!;
        return fw with { Warnings = warnings };
    }

    /// <summary>
    /// The rules of a bridge network (<see cref="AddBridgeNetwork"/>), in the order they are added, each with its nft
    /// text; rules of the bridge family (ICC off) have <see cref="NftFamily.Bridge"/>.
    /// </summary>
    private static List<(NftRule Rule, string Text)> NetworkRuleSet(BridgeNetworkRules spec, string tag)
    {
        var list = new List<(NftRule, string)>();
        void Add(NftRule r, string text) => list.Add((r, text));
        var inBr = NftMatch.IfName(false, spec.Bridge);
        var outBr = NftMatch.IfName(true, spec.Bridge);
        var notOutBr = NftMatch.IfName(true, spec.Bridge, equal: false);
        var notInBr = NftMatch.IfName(false, spec.Bridge, equal: false);
        foreach (var subnet in spec.Subnets)
        {
            var fam = IsV6(subnet.BaseAddress) ? global::ContainerNetworking.Netfilter.Nft.NFPROTO_IPV6 : global::ContainerNetworking.Netfilter.Nft.NFPROTO_IPV4;
            if (spec.Masquerade && !spec.Internal)
                Add(Rule(ChainPostrouting, tag, NftMatch.NfProto(fam), NftMatch.Address(true, subnet), notOutBr, E(new NftCounter(), new NftMasq())), $"{ChainPostrouting} {Saddr(subnet)} oifname != {spec.Bridge} masquerade");
            // hairpin: a container reaching a published port through the host comes back out of its own bridge
            Add(Rule(ChainPostrouting, tag, NftMatch.NfProto(fam), NftMatch.Address(true, subnet), outBr,
                NftMatch.CtBits(global::ContainerNetworking.Netfilter.Nft.NFT_CT_STATUS, global::ContainerNetworking.Netfilter.Nft.IPS_DST_NAT), E(new NftCounter(), new NftMasq())),
                $"{ChainPostrouting} {Saddr(subnet)} oifname {spec.Bridge} ct status dnat masquerade");
        }
        if (spec.Internal)
        {
            Add(Rule(ChainIsolation, tag, inBr, notOutBr, E(new NftCounter(), NftImmediate.Drop())), $"{ChainIsolation} iifname {spec.Bridge} oifname != {spec.Bridge} drop");
            Add(Rule(ChainIsolation, tag, outBr, notInBr, E(new NftCounter(), NftImmediate.Drop())), $"{ChainIsolation} oifname {spec.Bridge} iifname != {spec.Bridge} drop");
        }
        else
        {
            // Not for a flow a published port translated: a container of another network may use it (through the
            // host's address), as with Docker and netavark; the forward chain accepts it right after isolation.
            Add(Rule(ChainIsolation, tag, inBr, notOutBr,
                E(new NftMeta(global::ContainerNetworking.Netfilter.Nft.NFT_META_OIFNAME), new NftLookup(SetNetworks)),
                NftMatch.CtBits(global::ContainerNetworking.Netfilter.Nft.NFT_CT_STATUS, global::ContainerNetworking.Netfilter.Nft.IPS_DST_NAT, set: false),
                E(new NftCounter(), NftImmediate.Drop())), $"{ChainIsolation} iifname {spec.Bridge} oifname != {spec.Bridge} oifname @{SetNetworks} ct status != dnat drop");
        }
        Add(Rule(ChainNetworks, tag, inBr, outBr, E(new NftCounter(), spec.InterContainerCommunication ? NftImmediate.Accept() : NftImmediate.Drop())),
            $"{ChainNetworks} iifname {spec.Bridge} oifname {spec.Bridge} {(spec.InterContainerCommunication ? "accept" : "drop")}");
        if (!spec.Internal) Add(Rule(ChainNetworks, tag, inBr, E(new NftCounter(), NftImmediate.Accept())), $"{ChainNetworks} iifname {spec.Bridge} accept");
        // No direct access (Docker 28's "DROP DIRECT ACCESS"): whatever else is routed to the bridge (a neighbour
        // with a route to the subnet via this host) is dropped; published ports were accepted before (ct status dnat),
        // replies before that (established), allowed pairs in isolation. An internal network drops it in isolation.
        if (!spec.Internal && !spec.Routed) Add(Rule(ChainNetworks, tag, outBr, E(new NftCounter(), NftImmediate.Drop())), $"{ChainNetworks} oifname {spec.Bridge} drop");
        if (!spec.InterContainerCommunication)
        {
            // Bridged traffic between two ports never reaches the IP forward hook (unless br_netfilter is loaded):
            // stop it in the bridge family's forward hook.
            // Matched by subnet (both ends inside it), not by "meta ibrname": that needs nft_meta_bridge, which
            // not every kernel has; the forward hook of the bridge family only sees port-to-port traffic anyway.
            foreach (var subnet in spec.Subnets)
            {
                var v6 = IsV6(subnet.BaseAddress);
                var et = new byte[2];
                BinaryPrimitives.WriteUInt16BigEndian(et, v6 ? (ushort)0x86dd : (ushort)0x0800);
                Add(new NftRule(NftFamily.Bridge, TableName, ChainBridgeForward,
                    [new NftMeta(global::ContainerNetworking.Netfilter.Nft.NFT_META_PROTOCOL), new NftCmp(global::ContainerNetworking.Netfilter.Nft.NFT_CMP_EQ, et),
                        .. NftMatch.Address(true, subnet), .. NftMatch.Address(false, subnet), new NftCounter(), NftImmediate.Drop()]) { Comment = tag },
                    $"bridge {TableName} {ChainBridgeForward} {Saddr(subnet)} {Saddr(subnet).Replace("saddr", "daddr", StringComparison.Ordinal)} drop");
            }
        }
        return list;
    }

    private static string Saddr(IPNetwork subnet) => $"{(IsV6(subnet.BaseAddress) ? "ip6" : "ip")} saddr {subnet}";

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
}
