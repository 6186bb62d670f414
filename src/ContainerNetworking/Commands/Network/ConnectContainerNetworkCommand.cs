using System.Management.Automation;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Commands;

/// <summary>
/// Connect-ContainerNetwork: attaches containers to a network, all or nothing (<c>docker network connect</c>,
/// <c>docker run --network … -p …</c>). Bridge networks: a veth with eth0 in the container's namespace and the peer on the
/// bridge, lo and eth0 up, an address from the network's IPAM (or a static one), a 02:42 MAC address, the default route via
/// the gateway, and the published ports. The predefined 'host' network records the container only; 'none' brings up lo;
/// -ShareWith joins another endpoint's namespace (Docker's container mode, a pod).
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "ContainerNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = NetworkSet)]
[OutputType(typeof(ContainerEndpoint))]
public sealed class ConnectContainerNetworkCommand : ContainerNetworkCmdlet
{
    private const string NetworkSet = "Network";
    private const string ShareWithSet = "ShareWith";
    private ProgressReporter? _progress;

    /// <summary>The network: a bridge network's name, or 'host' or 'none'.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NetworkSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNetworkNameCompleter))]
    public string Network { get; set; } = "";

    /// <summary>
    /// The containers' names on the network. Without -ContainerNetNamespace each container's namespace is the one of the
    /// same name under /run/netns (created with -CreateNamespace). Names and NetNamespace objects come through the pipeline.
    /// </summary>
    [Parameter(ParameterSetName = NetworkSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = ShareWithSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? Container { get; set; }

    /// <summary>
    /// The container's network namespace, when it is not named like the container: a name under /run/netns, a path such as
    /// /proc/1234/ns/net, or a NetNamespace object. Not the host: that is -NetNamespace.
    /// </summary>
    [Parameter(ParameterSetName = NetworkSet, ValueFromPipelineByPropertyName = true)]
    [ContainerNetNamespaceTransformation]
    [ArgumentCompleter(typeof(NetNamespaceNameCompleter))]
    public string? ContainerNetNamespace { get; set; }

    /// <summary>Create the container's namespace (it must not exist); Disconnect-ContainerNetwork deletes it again.</summary>
    [Parameter(ParameterSetName = NetworkSet)]
    public SwitchParameter CreateNamespace { get; set; }

    /// <summary>The interface inside the container; by default eth0 (eth1, … when taken).</summary>
    [Parameter(ParameterSetName = NetworkSet)]
    public string? InterfaceName { get; set; }

    /// <summary>A static IPv4 address inside the network's subnet; by default the next free one.</summary>
    [Parameter(ParameterSetName = NetworkSet)]
    public string? IPv4Address { get; set; }

    /// <summary>A static IPv6 address inside the network's IPv6 subnet (dual-stack networks); by default the next free one.</summary>
    [Parameter(ParameterSetName = NetworkSet)]
    public string? IPv6Address { get; set; }

    /// <summary>The MAC address of the container's interface; by default 02:42 and the IPv4 address (02:42:ac:11:00:02 for 172.17.0.2).</summary>
    [Parameter(ParameterSetName = NetworkSet)]
    public string? MacAddress { get; set; }

    /// <summary>Ports to publish, in Docker's notation: '8088:80', '127.0.0.1:8080:80/tcp', '8000-8010:80-90/udp'; '80' chooses a free host port.</summary>
    [Parameter(ParameterSetName = NetworkSet)]
    [ValidateNotNullOrEmpty]
    public string[] Publish { get; set; } = [];

    /// <summary>
    /// Docker's gw-priority: for a container on several networks, the default route goes via the gateway of the network
    /// of the highest priority (ties: the network connected first). Default 0: the first network keeps it.
    /// </summary>
    [Parameter(ParameterSetName = NetworkSet)]
    public int GatewayPriority { get; set; }

    /// <summary>
    /// More names of the container on the network (docker network connect --alias): the other containers of the network
    /// resolve them, through the hosts files under /etc/netns.
    /// </summary>
    [Parameter(ParameterSetName = NetworkSet)]
    [ValidateNotNullOrEmpty]
    public string[] Alias { get; set; } = [];

    /// <summary>Container mode: the endpoint (container name, id or id prefix) whose namespace the containers join, as a pod's containers share one.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ShareWithSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerEndpointNameCompleter))]
    public string ShareWith { get; set; } = "";

    /// <summary>
    /// The namespace that plays the host (where the network's bridge, the host-side veths and the rules live): a name under
    /// /run/netns, a path, or a NetNamespace object. Default: the namespace PowerShell runs in. Not the container's namespace.
    /// </summary>
    [Parameter]
    [NetNamespaceTransformation]
    [ArgumentCompleter(typeof(NetNamespaceNameCompleter))]
    public NetNamespace? NetNamespace { get; set; }

    protected override NetNamespace? HostParameter => NetNamespace;

    protected override bool NeedsSysAdmin => true;

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        _progress = new ProgressReporter(this, "Connecting containers to " + (ParameterSetName == ShareWithSet ? "the namespace of " + ShareWith : "network " + Network));
    }

    protected override void ProcessRecord()
    {
        var manager = Manager;
        var containers = Container ?? [];
        if (containers.Length == 0)
        {
            if (ContainerNetNamespace is null && !string.Equals(Network, ContainerNetworkManager.HostNetwork, StringComparison.Ordinal))
            {
                WriteError("ContainerRequired", ErrorCategory.InvalidArgument,
                    "No container given. Give -Container NAME (its namespace is the one of the same name; add -CreateNamespace to create it), or -ContainerNetNamespace.", null);
                return;
            }
            containers = [null!];
        }
        int? total = MyInvocation.ExpectingInput ? null : containers.Length;
        foreach (var container in containers)
        {
            if (!Try(container ?? ContainerNetNamespace, () => Spec(container), out var spec)) continue;
            var label = container ?? spec.Namespace ?? "?";
            _progress!.Next(label, total);
            var target = ParameterSetName == ShareWithSet
                ? $"container {label} (namespace of {ShareWith}){In(manager.Host)}"
                : $"container {label} (netns {spec.Namespace}) on network {Network}{In(manager.Host)}";
            if (!ShouldRun(target, "Connect container", () => manager.PlanConnect(spec), label)) continue;
            if (Try(label, () => manager.Connect(spec), out var endpoint)) WriteRecord(endpoint, manager);
        }
    }

    protected override void EndProcessing() => _progress?.Complete();

    private EndpointSpec Spec(string? container)
    {
        if (ParameterSetName == ShareWithSet)
            return new EndpointSpec { Container = container, ShareWith = ShareWith };
        return new EndpointSpec
        {
            Network = Network,
            Container = container,
            Namespace = ContainerNetNamespace ?? container,
            CreateNamespace = CreateNamespace,
            InterfaceName = InterfaceName,
            IPv4Address = IPv4Address is null ? null : AddressMath.ParseAddress(IPv4Address, "IPv4 address (-IPv4Address)"),
            IPv6Address = IPv6Address is null ? null : AddressMath.ParseAddress(IPv6Address, "IPv6 address (-IPv6Address)"),
            MacAddress = MacAddress,
            Publish = Publish,
            GatewayPriority = GatewayPriority,
            Aliases = Alias,
        };
    }
}

/// <summary>For -ContainerNetNamespace: a NetNamespace object becomes its name (or path); a string stays as it is.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ContainerNetNamespaceTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData) =>
        (inputData is PSObject pso ? pso.BaseObject : inputData) switch
        {
            NetNamespace ns => ns.Name ?? ns.Path,
            var other => other,
        };
}
