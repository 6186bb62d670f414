using System.Management.Automation;
using ContainerNetworking.Cluster;
using ContainerNetworking.Model;

namespace ContainerNetworking.Commands;

/// <summary>
/// New-ContainerCluster: writes a cluster network's config into etcd as flannel's (PREFIX/config), unless one is there
/// (a transaction). Nodes then lease their pod subnets from it with Connect-ContainerCluster.
/// </summary>
[Cmdlet(VerbsCommon.New, "ContainerCluster", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ClusterConfig))]
public sealed class NewContainerClusterCommand : ClusterCmdlet
{
    /// <summary>The cluster's pod address range, e.g. 10.244.0.0/16 (flannel's Network).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Subnet { get; set; } = "";

    /// <summary>The prefix length of each node's subnet (flannel's SubnetLen): 24 by default, i.e. 254 pods per node.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 30)]
    public int SubnetLength { get; set; } = 24;

    /// <summary>How nodes reach each other's pods: Vxlan (an overlay, flannel's default) or HostGateway (routes via the nodes' addresses; one layer-2 segment).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public ClusterBackend Backend { get; set; } = ClusterBackend.Vxlan;

    /// <summary>The VXLAN network identifier (Vxlan backend): 1 by default, the device is then flannel.1.</summary>
    [Parameter]
    [ValidateRange(1, 16777215)]
    public int Vni { get; set; } = 1;

    /// <summary>The VXLAN UDP port (Vxlan backend): flannel's 8472 by default.</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = 8472;

    protected override void ProcessRecord()
    {
        var (store, prefix) = Target();
        if (!Try(Subnet, () => ClusterConfig.Create(AddressMath.ParseSubnet(Subnet, "cluster subnet (-Subnet)"), SubnetLength, Backend, Vni, Port, store, prefix), out var config)) return;
        if (!ShouldProcess($"{prefix}/config in etcd {store}", $"Create cluster network {config.Network} ({config.BackendType}, /{config.SubnetLength} per node)")) return;
        if (Try(Subnet, () => { using var s = new ClusterStore(store, prefix); return s.CreateConfig(config); }, out var created))
            WriteObject(created);
    }
}
