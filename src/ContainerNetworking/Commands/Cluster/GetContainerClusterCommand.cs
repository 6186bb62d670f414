using System.Management.Automation;
using ContainerNetworking.Cluster;

namespace ContainerNetworking.Commands;

/// <summary>Get-ContainerCluster: the cluster network's config from etcd (PREFIX/config).</summary>
[Cmdlet(VerbsCommon.Get, "ContainerCluster")]
[OutputType(typeof(ClusterConfig))]
public sealed class GetContainerClusterCommand : ClusterCmdlet
{
    protected override void ProcessRecord()
    {
        var (store, prefix) = Target();
        if (!Try(store, () => { using var s = new ClusterStore(store, prefix); return s.GetConfig(); }, out var config)) return;
        if (config is null)
            WriteError("ClusterNotFound", ErrorCategory.ObjectNotFound,
                $"No cluster network is configured at {prefix}/config in etcd {store}. Create one with New-ContainerCluster -Subnet 10.244.0.0/16 -Store {store}.", store);
        else WriteObject(config);
    }
}
