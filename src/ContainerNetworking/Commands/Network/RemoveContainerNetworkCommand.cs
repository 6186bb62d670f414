using System.Management.Automation;
using ContainerNetworking.Model;

namespace ContainerNetworking.Commands;

/// <summary>
/// Remove-ContainerNetwork: removes bridge networks (<c>docker network rm</c>): their rules, the bridge and the record.
/// While a network has endpoints it refuses ("NetworkHasEndpoints") unless -Force, which disconnects them first.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "ContainerNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveContainerNetworkCommand : PipelineContainerNetworkCmdlet
{
    /// <summary>The networks to remove; a ContainerNetwork from Get-ContainerNetwork binds by its Name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNetworkNameCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>Disconnect the network's endpoints first (deleting the namespaces Connect-ContainerNetwork created), then remove it.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override bool NeedsSysAdmin => Force;

    protected override void ProcessRecord()
    {
        var manager = Manager;
        foreach (var name in Name)
        {
            if (!ShouldRun($"network {name}{In(manager.Host)}", "Remove container network", () => manager.PlanRemoveNetwork(name, Force), name)) continue;
            var endpoints = Force ? EndpointsOf(manager, name) : [];
            if (Try(name, () => manager.RemoveNetwork(name, Force))) ForgetNamespaces(endpoints);
        }
    }
}
