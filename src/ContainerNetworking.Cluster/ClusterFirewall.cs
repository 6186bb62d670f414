using System.Net;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Netfilter;
using static ContainerNetworking.Netfilter.Nft;

namespace ContainerNetworking.Cluster;

/// <summary>
/// The node's cluster NAT, in a table of its own (<c>table ip containernetworking-cluster</c>): pod traffic is
/// masqueraded only when it leaves the cluster range, so pods on other nodes see each other's real addresses, as
/// flannel's <c>ip saddr POD ip daddr != CLUSTER masquerade</c>.
/// </summary>
internal sealed class ClusterFirewall(NetNamespace ns)
{
    public const string TableName = "containernetworking-cluster";
    private const string Chain = "postrouting";

    public static string Describe(IPNetwork pods, IPNetwork cluster) =>
        $"nft add table ip {TableName}; add chain ip {TableName} {Chain} {{ type nat hook postrouting priority srcnat; }}; add rule ip {TableName} {Chain} ip saddr {pods} ip daddr != {cluster} masquerade";

    public void Install(IPNetwork pods, IPNetwork cluster)
    {
        var daddr = NftMatch.Address(false, cluster);
        var last = (NftCmp)daddr[^1];
        daddr[^1] = new NftCmp(NFT_CMP_NEQ, last.Data);
        var exprs = new List<NftExpr>();
        exprs.AddRange(NftMatch.Address(true, pods));
        exprs.AddRange(daddr);
        exprs.Add(new NftCounter());
        exprs.Add(new NftMasq());
        ns.Nft.Transaction(() =>
        {
            var b = new NftBatch();
            if (ns.Nft.TableExists(NftFamily.IPv4, TableName)) b.DeleteTable(NftFamily.IPv4, TableName);
            b.AddTable(new NftTable(NftFamily.IPv4, TableName));
            b.AddChain(new NftChain(NftFamily.IPv4, TableName, Chain) { Hook = NftHook.Postrouting, Priority = 100, Type = "nat", Policy = NF_ACCEPT });
            b.AddRule(new NftRule(NftFamily.IPv4, TableName, Chain, exprs) { Comment = $"cluster: masquerade {pods} leaving {cluster}" });
            return b;
        }, $"masquerade {pods} leaving the cluster");
    }

    public void Remove()
    {
        if (!ns.Nft.TableExists(NftFamily.IPv4, TableName)) return;
        ns.Nft.Commit(new NftBatch().DeleteTable(NftFamily.IPv4, TableName), context: $"delete table ip {TableName}");
    }

    public bool IsInstalled(IPNetwork pods) =>
        ns.Nft.TableExists(NftFamily.IPv4, TableName) &&
        ns.Nft.ListRules(NftFamily.IPv4, TableName, Chain).Any(r => r.Comment?.Contains(pods.ToString(), StringComparison.Ordinal) == true);
}
