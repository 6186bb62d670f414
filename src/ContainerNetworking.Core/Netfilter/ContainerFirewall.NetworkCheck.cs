using static ContainerNetworking.Netfilter.FirewallLayout;

namespace ContainerNetworking.Netfilter;

// A bridge network's firewall checked piece by piece against the kernel: each of its rules and its element of the
// networks set, so that one rule deleted by someone else is found, not only a network whose rules are all gone.
public sealed partial class ContainerFirewall
{
    /// <summary>
    /// The pieces of a bridge network's firewall (<see cref="AddBridgeNetwork"/> with <paramref name="spec"/>) that are
    /// not in the kernel, each as nft would show it: its element of the networks set, and every rule it should have (the
    /// masquerade, hairpin, isolation, ICC, direct-access and bridge-family rules), compared by chain, owner comment and
    /// expressions. Rules of the network that are there in excess are not reported. Empty when everything is there.
    /// </summary>
    public IReadOnlyList<string> FindMissingNetworkPieces(BridgeNetworkRules spec)
    {
        ValidateNetwork(spec);
        if (!_nft.TableExists(Family, TableName)) return [$"table inet {TableName}"];
        var missing = new List<string>();
        var name = NftMatch.IfNameBytes(spec.Bridge);
        if (!_nft.ListElements(Family, TableName, SetNetworks).Any(e => e.Key.AsSpan().SequenceEqual(name)))
            missing.Add($"element {spec.Bridge} of set inet {TableName} {SetNetworks}");
        var present = _nft.ListRules(Family, TableName);
        if (_nft.TableExists(NftFamily.Bridge, TableName)) present.AddRange(_nft.ListRules(NftFamily.Bridge, TableName));
        var left = present.Where(r => IsNetworkTag(r.Comment, spec.Bridge)).Select(RuleFingerprint).ToList();
        foreach (var (rule, text) in NetworkRuleSet(spec, NetworkTag(spec.Bridge, spec.Owner)))
            if (!left.Remove(RuleFingerprint(rule)))
                missing.Add(rule.Family == NftFamily.Bridge ? "rule " + text : $"rule inet {TableName} {text}");
        return missing;
    }

    /// <summary>A rule as it reads back: family, chain, comment and its expressions but the counters' values.</summary>
    private static string RuleFingerprint(NftRule r) =>
        $"{r.Family}|{r.Chain}|{r.Comment}|{string.Join(";", r.Expressions.Where(e => e is not NftCounter).Select(e => e.ToString()))}";

    /// <summary>
    /// Puts back the missing pieces of a bridge network's firewall (see <see cref="FindMissingNetworkPieces"/>) in one
    /// batch, each in its place, touching nothing else: its element of the networks set, and each missing rule inserted
    /// before the next rule of the network in its chain (or added after the previous one, or at the chain's end when the
    /// network has none left there), so that the chain reads as before. Without the table the whole firewall is set up
    /// (<see cref="AddBridgeNetwork"/>). Returns what was missing.
    /// </summary>
    public IReadOnlyList<string> RestoreNetworkPieces(BridgeNetworkRules spec)
    {
        ValidateNetwork(spec);
        if (!_nft.TableExists(Family, TableName))
        {
            AddBridgeNetwork(spec);
            return [$"table inet {TableName}"];
        }
        IReadOnlyList<string> missing = [];
        Transact(_ =>
        {
            missing = FindMissingNetworkPieces(spec);
            var b = new NftBatch();
            var name = NftMatch.IfNameBytes(spec.Bridge);
            if (!_nft.ListElements(Family, TableName, SetNetworks).Any(e => e.Key.AsSpan().SequenceEqual(name)))
                b.AddElements(Family, TableName, SetNetworks, [new NftSetElement(name) { Comment = SpecComment(spec) }]);
            var present = _nft.ListRules(Family, TableName);
            if (_nft.TableExists(NftFamily.Bridge, TableName)) present.AddRange(_nft.ListRules(NftFamily.Bridge, TableName));
            var unused = present.Where(r => IsNetworkTag(r.Comment, spec.Bridge)).ToList();
            // Each expected rule matched to a rule of the kernel (its handle) or to none (missing).
            var expected = NetworkRuleSet(spec, NetworkTag(spec.Bridge, spec.Owner))
                .Select(x =>
                {
                    var fp = RuleFingerprint(x.Rule);
                    var match = unused.FirstOrDefault(r => RuleFingerprint(r) == fp);
                    if (match is not null) unused.Remove(match);
                    return (x.Rule, Handle: match?.Handle ?? 0);
                }).ToList();
            var bridgeChain = false;
            foreach (var chain in expected.GroupBy(x => (x.Rule.Family, x.Rule.Chain)))
            {
                var list = chain.ToList();
                var trailing = new List<NftRule>();
                for (var i = 0; i < list.Count; i++)
                {
                    if (list[i].Handle != 0) continue;
                    var rule = list[i].Rule;
                    if (rule.Family == NftFamily.Bridge && !bridgeChain)
                    {
                        b.AddTable(new NftTable(NftFamily.Bridge, TableName));
                        b.AddChain(new NftChain(NftFamily.Bridge, TableName, ChainBridgeForward)
                            { Hook = NftHook.Forward, Priority = 0, Type = "filter", Policy = global::ContainerNetworking.Netfilter.Nft.NF_ACCEPT });
                        bridgeChain = true;
                    }
                    var next = list.Skip(i + 1).FirstOrDefault(x => x.Handle != 0).Handle;
                    if (next != 0) b.InsertRule(rule with { Position = next }); // before it: several before one keep their order
                    else trailing.Add(rule);
                }
                if (trailing.Count == 0) continue;
                var previous = list.LastOrDefault(x => x.Handle != 0).Handle;
                if (previous == 0) foreach (var r in trailing) b.AddRule(r); // none left in the chain: at its end, in order
                else foreach (var r in Enumerable.Reverse(trailing)) b.AddRule(r with { Position = previous }); // each right after it
            }
            return b;
        }, $"restore the firewall of bridge network {spec.Bridge}");
        return missing;
    }
}

