using System.Management.Automation;
using ContainerNetworking.Model;

namespace ContainerNetworking.Commands;

/// <summary>
/// Get-ContainerNetwork: lists the container networks of the host namespace (<c>docker network ls</c>): the predefined
/// host and none, and the bridge networks in the state directory, each with its number of endpoints.
/// </summary>
[Cmdlet(VerbsCommon.Get, "ContainerNetwork")]
[OutputType(typeof(ContainerNetwork))]
public sealed class GetContainerNetworkCommand : PipelineContainerNetworkCmdlet
{
    /// <summary>Network names; wildcards allowed. All when omitted.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ContainerNetworkNameCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var manager = Manager;
        if (!Try(manager.Host, () => manager.GetNetworks(), out var networks)) return;
        var selected = FilterByName(networks, n => n.Name, Name, name => ErrorMapping.ToErrorRecord(
            new ContainerNetworkingException("NetworkNotFound", ErrorKind.NotFound,
                $"Network '{name}' does not exist in {manager.State.Root}. List networks with Get-ContainerNetwork; create one with New-ContainerNetwork -Name {name}."), name)!);
        foreach (var n in selected)
        {
            if (Try(n, () => manager.State.ListEndpoints(n.Name).Count, out var count))
                WriteRecord(n, manager, ("EndpointCount", count));
        }
    }
}
