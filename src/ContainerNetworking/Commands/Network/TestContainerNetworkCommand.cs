using System.Management.Automation;
using ContainerNetworking.Model;

namespace ContainerNetworking.Commands;

/// <summary>
/// Test-ContainerNetwork: walks the path the walkthroughs walk by hand when a ping fails (the container's namespace, lo,
/// eth0, its default route, the veth peer on the bridge, the bridge and its address, forwarding, the network's rules, the
/// published ports, a foreign drop policy) and reports each hop: Ok, Broken (why, and the fix), Warning or Skipped.
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

    protected override void ProcessRecord()
    {
        var manager = Manager;
        if (!Try(Container, () => manager.Test(Container, Network), out var hops)) return;
        foreach (var hop in hops) WriteRecord(hop, manager, ("Container", Container));
    }
}
