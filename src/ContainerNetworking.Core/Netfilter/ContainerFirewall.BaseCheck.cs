using static ContainerNetworking.Netfilter.FirewallLayout;

namespace ContainerNetworking.Netfilter;

// The base layout checked piece by piece against the kernel (a rule, chain, set or map deleted by someone else),
// and restored without touching what is there.
public sealed partial class ContainerFirewall
{
    /// <summary>
    /// The pieces of the table's base layout (<see cref="FirewallLayout"/>: chains, maps and sets, fixed rules such as
    /// the CVE-2020-8558 guard) that are missing while the table exists, each described as nft would name it. Empty
    /// when everything is there, and when the table does not exist (the next operation creates it whole).
    /// </summary>
    public IReadOnlyList<string> FindMissingBase()
    {
        if (!_nft.TableExists(Family, TableName)) return [];
        return PlanBaseRestore(null);
    }

    /// <summary>
    /// Puts back the missing pieces of the base layout in one batch: missing chains and sets are created, and in a chain
    /// that misses a fixed rule the fixed rules are put back at its start in their order (the ones still there are
    /// replaced, so the order is the layout's); every other rule and element stays as it is. Returns what was missing.
    /// </summary>
    public IReadOnlyList<string> RestoreBase()
    {
        IReadOnlyList<string> missing = [];
        Transact(gen =>
        {
            var b = new NftBatch();
            if (!EnsureBase(b, gen))
            {
                missing = ["table inet " + TableName];
                return b;
            }
            missing = PlanBaseRestore(b);
            return b;
        }, "restore the base of table inet " + TableName);
        return missing;
    }

    private static string Fingerprint(NftRule r) =>
        r.Chain + "|" + r.Comment + "|" + string.Join(",", r.Expressions.Select(e => e is NftLookup l ? "lookup:" + l.Set : e.GetType().Name));

    /// <summary>The missing pieces; with a batch, also the operations that put them back.</summary>
    private List<string> PlanBaseRestore(NftBatch? b)
    {
        var missing = new List<string>();
        var chains = _nft.ListChains(Family, TableName).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var c in Chains())
        {
            if (chains.Contains(c.Name)) continue;
            missing.Add($"chain inet {TableName} {c.Name}");
            b?.AddChain(c);
        }
        var sets = _nft.ListSets(Family, TableName).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var s in Sets())
        {
            if (sets.Contains(s.Name)) continue;
            missing.Add($"{(s.Name == SetNetworks ? "set" : "map")} inet {TableName} {s.Name}");
            b?.AddSet(s);
        }
        var present = _nft.ListRules(Family, TableName).Where(r => r.Comment?.StartsWith(TagBase, StringComparison.Ordinal) == true).ToList();
        foreach (var group in BaseRules().GroupBy(r => r.Chain))
        {
            var have = present.Where(r => r.Chain == group.Key).ToList();
            var left = have.Select(Fingerprint).ToList();
            var lost = new List<NftRule>();
            foreach (var r in group)
                if (!left.Remove(Fingerprint(r))) lost.Add(r);
            if (lost.Count == 0) continue;
            foreach (var r in lost) missing.Add($"rule inet {TableName} {r.Chain} \"{r.Comment}\"");
            if (b is null) continue;
            foreach (var r in have) b.DeleteRule(Family, TableName, r.Chain, r.Handle);
            foreach (var r in group.Reverse()) b.InsertRule(r); // each at the start: the layout's order
        }
        return missing;
    }
}
