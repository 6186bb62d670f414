using System.Management.Automation;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Topology;

namespace ContainerNetworking.Commands;

/// <summary>
/// Get-NetTopology: reads namespaces, links, bridges, veth pairs, addresses and published ports into one picture,
/// shown as a diagram in the terminal (Export-NetTopology writes it as Mermaid or Graphviz DOT).
/// </summary>
[Cmdlet(VerbsCommon.Get, "NetTopology")]
[OutputType(typeof(NetworkTopology))]
public sealed class GetNetTopologyCommand : NetworkingCmdlet
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

    protected override void ProcessRecord()
    {
        if (NetNamespace is not null) _names.AddRange(NetNamespace);
    }

    protected override void EndProcessing()
    {
        var all = Namespaces.NetNamespace.ListNames();
        var chosen = _names.Count == 0
            ? all.ToList()
            : FilterByName(all, n => n, _names.ToArray(), n => ErrorMapping.ToErrorRecord(new NetNamespaceNotFoundException(n,
                $"Network namespace '{n}' does not exist. List them with Get-NetNamespace."), n)!).Distinct().ToList();
        var namespaces = new List<Namespaces.NetNamespace>();
        if (_names.Count == 0 && !ExcludeCurrent) namespaces.Add(NetNamespaceCache.Current);
        foreach (var name in chosen)
            if (Try(name, () => NetNamespaceCache.Get(name), out var ns)) namespaces.Add(ns);
        if (Try(namespaces, () => NetworkTopology.Read(namespaces, NetworkTopology.ReadPublishedPorts), out var topology))
            WriteObject(topology);
    }
}

/// <summary>Export-NetTopology: writes the topology as a text diagram, Mermaid or Graphviz DOT, to the pipeline or a file.</summary>
[Cmdlet(VerbsData.Export, "NetTopology", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Read")]
[OutputType(typeof(string), typeof(FileInfo))]
public sealed class ExportNetTopologyCommand : NetworkingCmdlet
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
        if (topology is null)
        {
            var all = Namespaces.NetNamespace.ListNames();
            var chosen = _names.Count == 0 ? all.ToList() : FilterByName(all, n => n, _names.ToArray(), n => ErrorMapping.ToErrorRecord(
                new NetNamespaceNotFoundException(n, $"Network namespace '{n}' does not exist. List them with Get-NetNamespace."), n)!).ToList();
            var namespaces = new List<Namespaces.NetNamespace>();
            if (_names.Count == 0) namespaces.Add(NetNamespaceCache.Current);
            foreach (var name in chosen)
                if (Try(name, () => NetNamespaceCache.Get(name), out var ns)) namespaces.Add(ns);
            if (!Try(namespaces, () => NetworkTopology.Read(namespaces, NetworkTopology.ReadPublishedPorts), out topology)) return;
        }
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
