using System.Management.Automation;
using ContainerNetworking.Cluster;
using ContainerNetworking.Model;

namespace ContainerNetworking.Commands;

/// <summary>
/// Connect-ContainerCluster: this node (a namespace, or the machine) joins a cluster network as flannel does: a subnet
/// lease in etcd, a container network on it, the backend's device (a VXLAN flannel.VNI, created in the node's
/// namespace), masquerade for traffic leaving the cluster, and the entries for every other node. All or nothing.
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "ContainerCluster", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ClusterNodeInfo))]
public sealed class ConnectContainerClusterCommand : ClusterCmdlet
{
    /// <summary>The underlay interface other nodes are reached through (flannel's --iface); by default the one holding -PublicIP, or the default route's.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Interface { get; set; }

    /// <summary>The address other nodes reach this one at (flannel's --public-ip); by default the interface's first IPv4 address.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? PublicIP { get; set; }

    /// <summary>The name of the container network created on the node's subnet (Connect-ContainerNetwork NAME -Container …): 'cluster' by default.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string NetworkName { get; set; } = "cluster";

    /// <summary>The bridge of that network: cni0 by default, as flannel's CNI plugin names it.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string BridgeName { get; set; } = "cni0";

    /// <summary>How long the lease lives unless renewed (every Sync-ContainerCluster renews it): 24 hours by default, as flannel.</summary>
    [Parameter]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromHours(24);

    protected override void ProcessRecord()
    {
        var (store, prefix) = Target();
        var node = Node;
        if (!Try(PublicIP, () => new ClusterConnectSpec
        {
            Store = store, Prefix = prefix, Interface = Interface,
            PublicIP = PublicIP is null ? null : AddressMath.ParseAddress(PublicIP, "public address (-PublicIP)"),
            Network = NetworkName, Bridge = BridgeName, LeaseDuration = LeaseDuration,
        }, out var spec)) return;
        var target = $"{NetNamespaceCacheLabel} and the cluster at {prefix} in etcd {store}";
        if (WantsPlan)
        {
            if (!Try(store, () => node.PlanConnect(spec), out var steps)) return;
            var text = "Connect to the cluster:" + string.Concat(steps.Select((s, i) => $"{Environment.NewLine}{i + 1}. {s}"));
            if (!ShouldProcess(text, $"Connect {target}?{Environment.NewLine}{text}", "Connect to cluster")) return;
        }
        else if (!ShouldProcess(target, "Connect to cluster")) return;
        if (Try(store, () => node.Connect(spec), out var info)) WriteRecord(info, Manager);
    }

    private string NetNamespaceCacheLabel => "node" + In(HostNamespace);
}
