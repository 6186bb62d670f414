using System.Management.Automation;
using ContainerNetworking.Cluster;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Topology;

namespace ContainerNetworking.Commands;

/// <summary>
/// Get-NetTopology: reads namespaces, links, bridges, veth pairs, addresses and published ports into one picture,
/// shown as a diagram in the terminal (Export-NetTopology writes it as Mermaid or Graphviz DOT).
/// </summary>
[Cmdlet(VerbsCommon.Get, "NetTopology")]
[OutputType(typeof(NetworkTopology))]
public sealed class GetNetTopologyCommand : TopologyCmdlet
{
    private readonly List<string> _names = [];

    /// <summary>The namespaces to draw (names, wildcards allowed). Default: every named namespace and the current one.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(NetNamespaceNameCompleter))]
    public string[]? NetNamespace { get; set; }

    /// <summary>Leave out the namespace PowerShell runs in (by default it is drawn too when no names are given).</summary>
    [Parameter]
    public SwitchParameter ExcludeCurrent { get; set; }

    /// <summary>etcd's client URL of a cluster network (Connect-ContainerCluster -Store): the overlay's peers are named after the nodes in its leases.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Store { get; set; }

    /// <summary>With -Store: the cluster's key prefix; flannel's /coreos.com/network by default.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Prefix { get; set; }

    protected override void ProcessRecord()
    {
        if (NetNamespace is not null) _names.AddRange(NetNamespace);
    }

    protected override void EndProcessing()
    {
        if (ReadTopology(_names, includeCurrent: !ExcludeCurrent, Store, Prefix) is { } topology) WriteObject(topology);
    }
}

/// <summary>What Get-NetTopology and Export-NetTopology share: reading the picture of the namespaces asked for.</summary>
public abstract class TopologyCmdlet : NetworkingCmdlet
{
    /// <summary>
    /// Reads the topology of <paramref name="names"/> (wildcards allowed; a literal name that does not exist is an error
    /// of its own), or of every named namespace and, with <paramref name="includeCurrent"/>, the current one when no
    /// names are given; the overlay's peers named from the cluster's leases at <paramref name="store"/>. Null when it
    /// could not be read (the error is written).
    /// </summary>
    protected NetworkTopology? ReadTopology(List<string> names, bool includeCurrent, string? store, string? prefix)
    {
        var all = Namespaces.NetNamespace.ListNames();
        var requested = names.ToArray();
        var chosen = names.Count == 0
            ? all.ToList()
            : FilterByName(all, n => n, requested, n => ErrorMapping.ToErrorRecord(new NetNamespaceNotFoundException(n,
                $"Network namespace '{n}' does not exist. List them with Get-NetNamespace."), n)!).Distinct().ToList();
        var namespaces = new List<Namespaces.NetNamespace>();
        if (names.Count == 0 && includeCurrent) namespaces.Add(NetNamespaceCache.Current);
        foreach (var name in chosen)
            if (TryOpenNamespace(name, requested, out var ns)) namespaces.Add(ns);
        if (!Try(store, () => TopologyNodeNames.Read(store, prefix), out var nodes)) return null;
        return Try(namespaces, () => NetworkTopology.Read(namespaces, NetworkTopology.ReadPublishedPorts, nodes), out var topology) ? topology : null;
    }
}

/// <summary>The node names of a cluster's leases by public address, for naming the overlay's peers in a topology.</summary>
internal static class TopologyNodeNames
{
    /// <summary>Public address → node name (or subnet, for leases flannel wrote) of every lease; null without a store.</summary>
    public static IReadOnlyDictionary<string, string>? Read(string? store, string? prefix)
    {
        if (store is null) return null;
        using var s = new ClusterStore(store, prefix ?? ClusterConfig.DefaultPrefix);
        return s.GetLeases().GroupBy(l => l.PublicIP.ToString()).ToDictionary(g => g.Key, g => g.First().Node ?? g.First().Subnet.ToString());
    }
}

/// <summary>Export-NetTopology: writes the topology as a text diagram, Mermaid or Graphviz DOT, to the pipeline or a file.</summary>
[Cmdlet(VerbsData.Export, "NetTopology", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Read")]
[OutputType(typeof(string), typeof(FileInfo))]
public sealed class ExportNetTopologyCommand : TopologyCmdlet
{
    private readonly List<string> _names = [];
    private NetworkTopology? _input;

    /// <summary>A topology from Get-NetTopology.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Object")]
    public NetworkTopology? InputObject { get; set; }

    /// <summary>The namespaces to draw when no topology is piped in (names, wildcards allowed). Default: all named ones and the current one.</summary>
    [Parameter(Position = 1, ParameterSetName = "Read")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(NetNamespaceNameCompleter))]
    public string[]? NetNamespace { get; set; }

    /// <summary>Mermaid (a flowchart for Markdown), Dot (Graphviz) or Text (the terminal diagram).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public TopologyFormat Format { get; set; }

    /// <summary>When the topology is read here: etcd's client URL of a cluster network, whose leases name the overlay's peers (as Get-NetTopology -Store).</summary>
    [Parameter(ParameterSetName = "Read")]
    [ValidateNotNullOrEmpty]
    public string? Store { get; set; }

    /// <summary>With -Store: the cluster's key prefix; flannel's /coreos.com/network by default.</summary>
    [Parameter(ParameterSetName = "Read")]
    [ValidateNotNullOrEmpty]
    public string? Prefix { get; set; }

    /// <summary>A file to write to; without it the text goes to the pipeline.</summary>
    [Parameter]
    public string? Path { get; set; }

    protected override bool ChangesState => false;

    protected override void ProcessRecord()
    {
        if (InputObject is not null) _input = InputObject;
        if (NetNamespace is not null) _names.AddRange(NetNamespace);
    }

    protected override void EndProcessing()
    {
        var topology = _input;
        if (topology is null && (topology = ReadTopology(_names, includeCurrent: true, Store, Prefix)) is null) return;
        var text = Format switch
        {
            TopologyFormat.Mermaid => topology!.ToMermaid(),
            TopologyFormat.Dot => topology!.ToDot(),
            _ => topology!.ToText(),
        };
        if (Path is null)
        {
            WriteObject(text);
            return;
        }
        var full = GetUnresolvedProviderPathFromPSPath(Path);
        if (!ShouldProcess(full, $"Write the topology as {Format}")) return;
        if (Try(full, () => File.WriteAllText(full, text))) WriteObject(new FileInfo(full));
    }
}

/// <summary>The formats Export-NetTopology writes.</summary>
public enum TopologyFormat
{
    Text,
    Mermaid,
    Dot,
}
