using System.Management.Automation;
using System.Net;
using ContainerNetworking.Cluster;
using ContainerNetworking.Model;

namespace ContainerNetworking.Commands;

/// <summary>
/// Test-ContainerNetwork: walks the path the walkthroughs walk by hand when a ping fails (the container's namespace, lo,
/// eth0, its default route, the veth peer on the bridge, the bridge and its address, forwarding, the network's rules, the
/// published ports, a foreign drop policy) and reports each hop: Ok, Broken (why, and the fix), Warning or Skipped.
/// With -Destination, a pod address on another node of the cluster network, it follows the path on across the nodes
/// (ClusterDiagnosis): the pod's route, the VXLAN device, the node's route for the peer's subnet, the neighbour and FDB
/// entries of the peer's VTEP, the peer's lease in etcd and this node's own.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "ContainerNetwork")]
[OutputType(typeof(DiagnosticHop))]
public sealed class TestContainerNetworkCommand : PipelineContainerNetworkCmdlet
{
    /// <summary>The container to test: its name, endpoint id or a unique id prefix; a ContainerEndpoint binds by its Container.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerEndpointNameCompleter))]
    public string Container { get; set; } = "";

    /// <summary>The network of the container; needed when it is on several networks.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContainerNetworkNameCompleter))]
    public string? Network { get; set; }

    /// <summary>A pod address on another node of the cluster network this node is connected to (Connect-ContainerCluster): the walk follows the path across the nodes to it.</summary>
    [Parameter]
    [ValidateNotNull]
    public IPAddress? Destination { get; set; }

    protected override void ProcessRecord()
    {
        var manager = Manager;
        var destination = Destination;
        if (!Try(Container, () => destination is null ? manager.Test(Container, Network) : new ClusterDiagnosis(manager).Test(Container, destination, Network), out var hops)) return;
        foreach (var hop in hops) WriteRecord(hop, manager, ("Container", Container));
    }
}
