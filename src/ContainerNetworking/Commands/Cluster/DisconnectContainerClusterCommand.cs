using System.Management.Automation;
using ContainerNetworking.Cluster;

namespace ContainerNetworking.Commands;

/// <summary>
/// Disconnect-ContainerCluster: releases the node's lease in etcd and removes what Connect-ContainerCluster built on the
/// node (the other nodes' entries, masquerade, the pod network, the VXLAN device). The other nodes drop this one's
/// entries on their next sync. The node remembers its subnet and asks for it again on the next connect.
/// </summary>
[Cmdlet(VerbsCommunications.Disconnect, "ContainerCluster", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ClusterNodeInfo))]
public sealed class DisconnectContainerClusterCommand : PipelineContainerNetworkCmdlet
{
    /// <summary>Also when pods are still attached (they are disconnected with the network), and when etcd cannot be reached (the lease then expires by itself).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Emit the node as it is afterwards.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override bool NeedsSysAdmin => Force;

    protected override void ProcessRecord()
    {
        var node = new ClusterNodeManager(Manager);
        var target = "node" + In(HostNamespace);
        if (!ShouldProcess(target, "Disconnect from the cluster")) return;
        if (Try(target, () => node.Disconnect(Force), out var info) && PassThru) WriteRecord(info, Manager);
    }
}
