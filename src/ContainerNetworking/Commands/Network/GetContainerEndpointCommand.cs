using System.Management.Automation;
using ContainerNetworking.Model;

namespace ContainerNetworking.Commands;

/// <summary>
/// Get-ContainerEndpoint: lists the endpoints (containers' attachments) of the host namespace's networks, as
/// <c>docker network inspect</c> lists a network's containers: address, MAC, interfaces, published ports.
/// </summary>
[Cmdlet(VerbsCommon.Get, "ContainerEndpoint")]
[OutputType(typeof(ContainerEndpoint))]
public sealed class GetContainerEndpointCommand : PipelineContainerNetworkCmdlet
{
    /// <summary>Container names (or endpoint ids); wildcards allowed. All when omitted.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ContainerEndpointNameCompleter))]
    public string[]? Container { get; set; }

    /// <summary>Only the endpoints of these networks; wildcards allowed.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ContainerNetworkNameCompleter))]
    public string[]? Network { get; set; }

    protected override void ProcessRecord()
    {
        var manager = Manager;
        if (!Try(manager.Host, () => manager.GetNetworks(), out var networks)) return;
        var selected = FilterByName(networks, n => n.Name, Network, name => ErrorMapping.ToErrorRecord(
            new ContainerNetworkingException("NetworkNotFound", ErrorKind.NotFound,
                $"Network '{name}' does not exist in {manager.State.Root}. List networks with Get-ContainerNetwork."), name)!).Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        if (!Try(manager.Host, () => manager.GetEndpoints(), out var all)) return;
        var endpoints = all.Where(e => selected.Contains(e.Network)).ToList();
        // A literal -Container matches a container name or an endpoint id (prefix); wildcards match container names.
        IEnumerable<ContainerEndpoint> result = endpoints;
        if (Container is not null)
        {
            var ids = Container.Where(c => IsId(c, endpoints)).ToHashSet(StringComparer.Ordinal);
            var names = Container.Where(c => !ids.Contains(c)).ToArray();
            var byName = names.Length == 0 ? [] : FilterByName(endpoints, e => e.Container, names,
                name => ErrorMapping.ToErrorRecord(new ContainerNetworkingException("EndpointNotFound", ErrorKind.NotFound,
                    $"No container '{name}' is connected{(Network is null ? "" : " to network " + string.Join(", ", Network))}. List the endpoints with Get-ContainerEndpoint."), name)!);
            result = byName.Concat(endpoints.Where(e => ids.Any(c => IsIdOf(c, e)))).DistinctBy(e => e.Id);
        }
        foreach (var e in result.OrderBy(e => e.Network, StringComparer.Ordinal).ThenBy(e => e.Created))
            WriteRecord(e, manager);
    }

    private static bool IsIdOf(string text, ContainerEndpoint e) =>
        text.Length >= 4 && !WildcardPattern.ContainsWildcardCharacters(text) && e.Id.StartsWith(text, StringComparison.Ordinal);

    private static bool IsId(string text, IEnumerable<ContainerEndpoint> endpoints) =>
        endpoints.Any(e => IsIdOf(text, e)) && !endpoints.Any(e => e.Container == text);
}
