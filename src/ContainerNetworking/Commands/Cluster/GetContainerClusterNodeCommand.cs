using System.Management.Automation;
using ContainerNetworking.Cluster;

namespace ContainerNetworking.Commands;

/// <summary>Get-ContainerClusterNode: the nodes' subnet leases in etcd (node, subnet, public address, backend, VTEP MAC, expiry).</summary>
[Cmdlet(VerbsCommon.Get, "ContainerClusterNode")]
[OutputType(typeof(ClusterNodeLease))]
public sealed class GetContainerClusterNodeCommand : ClusterCmdlet
{
    /// <summary>Only the leases of these subnets (e.g. 10.244.1.0/24) or nodes; wildcards allowed.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var (store, prefix) = Target();
        if (!Try(store, () => { using var s = new ClusterStore(store, prefix); return s.GetLeases(withExpiry: true); }, out var leases)) return;
        var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var l in leases)
        {
            if (patterns is not null && !patterns.Any(p => p.IsMatch(l.Subnet.ToString()) || (l.Node is not null && p.IsMatch(l.Node)) || p.IsMatch(l.PublicIP.ToString()))) continue;
            WriteObject(l);
        }
    }
}
