using System.Management.Automation;
using ContainerNetworking.Model;

namespace ContainerNetworking.Commands;

/// <summary>
/// Disconnect-ContainerNetwork: removes exactly what Connect-ContainerNetwork made (<c>docker network disconnect</c>): the
/// published ports, the veth, the namespace if Connect created it, the address leases, the record. Network first, then the
/// containers, as docker and Connect-ContainerNetwork take them; takes the endpoints of Get-ContainerEndpoint from the pipeline.
/// </summary>
[Cmdlet(VerbsCommunications.Disconnect, "ContainerNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class DisconnectContainerNetworkCommand : PipelineContainerNetworkCmdlet
{
    private ProgressReporter? _progress;
    private readonly HashSet<ContainerNetworkManager> _used = [];

    /// <summary>The network to disconnect the containers from (first, as in <c>docker network disconnect NETWORK CONTAINER</c> and Connect-ContainerNetwork); a ContainerEndpoint binds by its Network.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNetworkNameCompleter))]
    public string Network { get; set; } = "";

    /// <summary>The containers to disconnect: container names, endpoint ids or unique id prefixes (4 characters or more); a ContainerEndpoint binds by its Container.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerEndpointNameCompleter))]
    public string[] Container { get; set; } = [];

    /// <summary>Also disconnect the containers that share the namespace of one being disconnected (container mode); without it that is refused with EndpointInUse.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override bool NeedsSysAdmin => true;

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        _progress = new ProgressReporter(this, "Disconnecting containers");
    }

    protected override void ProcessRecord()
    {
        var manager = Manager;
        int? total = MyInvocation.ExpectingInput ? null : Container.Length;
        foreach (var container in Container)
        {
            _progress!.Next(container, total);
            if (!ShouldRun($"container {container} from network {Network}{In(manager.Host)}", "Disconnect container", () => manager.PlanDisconnect(container, Network, Force), container)) continue;
            // The core finds the endpoint under the state lock, where its cache of the records serves; a lookup here,
            // before it, would read every record of the network for each item.
            if (Try(container, () => manager.Disconnect(container, Network, Force), out var endpoint))
            {
                ForgetNamespaces([endpoint]);
                _used.Add(manager);
            }
        }
    }

    /// <summary>
    /// When the pipeline ends, the host ends of the veths are gone too: the kernel removes them with the namespaces, in
    /// batches, so one wait for the whole pipeline covers them all.
    /// </summary>
    protected override void EndProcessing()
    {
        foreach (var manager in _used) Try(manager.Host, () => manager.WaitForTeardown());
        _progress?.Complete();
    }
}
