
using static ContainerNetworking.Netfilter.FirewallLayout;

namespace ContainerNetworking.Netfilter;

// Foreign rulesets: other tables' forward chains whose drop policy would swallow container traffic.
public sealed partial class ContainerFirewall
{
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
}
