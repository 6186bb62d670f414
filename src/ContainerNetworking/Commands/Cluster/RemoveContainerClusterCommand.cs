using System.Management.Automation;
using ContainerNetworking.Cluster;

namespace ContainerNetworking.Commands;

/// <summary>
/// Remove-ContainerCluster: deletes the cluster network's config and leases from etcd. While nodes hold leases it
/// refuses unless -Force; the nodes keep their devices and routes until they disconnect.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "ContainerCluster", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveContainerClusterCommand : ClusterCmdlet
{
    /// <summary>Remove the cluster even while nodes hold leases.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var (store, prefix) = Target();
        if (!Try(store, () =>
        {
            using var s = new ClusterStore(store, prefix);
            var config = s.GetConfig() ?? throw new ContainerNetworkingException("ClusterNotFound", ErrorKind.NotFound,
                $"No cluster network is configured at {prefix}/config in etcd {store}; nothing to remove.");
            var leases = s.GetLeases();
            if (leases.Count > 0 && !Force)
                throw new ContainerNetworkingException("ClusterHasNodes", ErrorKind.InvalidOperation,
                    $"{leases.Count} node(s) still hold leases in the cluster at {prefix} ({string.Join(", ", leases.Take(5).Select(l => $"{l.Subnet} {l.PublicIP}"))}). Disconnect them first (Disconnect-ContainerCluster), or use -Force.");
            return config;
        }, out var config)) return;
        if (!ShouldProcess($"{prefix} in etcd {store}", $"Remove cluster network {config.Network} and its leases")) return;
        Try(store, () => { using var s = new ClusterStore(store, prefix); s.DeleteCluster(); });
    }
}
