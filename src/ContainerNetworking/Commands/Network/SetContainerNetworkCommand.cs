using System.Management.Automation;
using ContainerNetworking.Model;

namespace ContainerNetworking.Commands;

/// <summary>
/// Set-ContainerNetwork: changes what may cross between bridge networks, which are otherwise isolated from each other:
/// -AllowNetwork lets the containers of the network and of the networks named talk both ways, -DisallowNetwork isolates
/// them again (<see cref="ContainerNetworkManager.AllowBetweenNetworks"/>). Takes networks from Get-ContainerNetwork.
/// </summary>
[Cmdlet(VerbsCommon.Set, "ContainerNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ContainerNetwork))]
public sealed class SetContainerNetworkCommand : PipelineContainerNetworkCmdlet
{
    /// <summary>The networks to change; a ContainerNetwork from Get-ContainerNetwork binds by its Name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNetworkNameCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>Networks whose containers may talk to this network's containers (both ways) from now on.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNetworkNameCompleter))]
    public string[]? AllowNetwork { get; set; }

    /// <summary>Networks to isolate from this one again.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNetworkNameCompleter))]
    public string[]? DisallowNetwork { get; set; }

    /// <summary>Emit the changed network.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var manager = Manager;
        foreach (var name in Name)
        {
            var ok = true;
            foreach (var other in AllowNetwork ?? [])
            {
                if (!ShouldRun($"network {name}{In(manager.Host)}", $"Allow traffic with network {other}", () => manager.PlanAllowBetweenNetworks(name, other), name)) continue;
                ok &= Try(name, () => manager.AllowBetweenNetworks(name, other));
            }
            foreach (var other in DisallowNetwork ?? [])
            {
                if (!ShouldRun($"network {name}{In(manager.Host)}", $"Isolate from network {other}", () => manager.PlanDisallowBetweenNetworks(name, other), name)) continue;
                ok &= Try(name, () => manager.DisallowBetweenNetworks(name, other));
            }
            if (PassThru && ok && Try(name, () => manager.GetNetwork(name), out var network))
                WriteRecord(network, manager);
        }
    }
}
