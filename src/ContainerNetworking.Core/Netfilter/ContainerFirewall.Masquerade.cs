using System.Net;
using static ContainerNetworking.Netfilter.FirewallLayout;

namespace ContainerNetworking.Netfilter;

// Masquerade and SNAT rules (chain nat-postrouting).
public sealed partial class ContainerFirewall
{
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
}
