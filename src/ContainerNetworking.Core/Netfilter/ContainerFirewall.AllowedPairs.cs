
using static ContainerNetworking.Netfilter.FirewallLayout;

namespace ContainerNetworking.Netfilter;

// Allowed pairs: two bridge networks let through the isolation between networks, both ways.
public sealed partial class ContainerFirewall
{
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
}
