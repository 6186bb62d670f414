using System.Management.Automation;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>
/// Set-NetLink: changes a link: up/down, MTU, MAC address, name, master, IPv6 address generation, namespace
/// (<c>ip link set NAME [up|down] [mtu M] [address A] [name NEW] [master BR|nomaster] [addrgenmode MODE] [netns NS]</c>).
/// </summary>
[Cmdlet(VerbsCommon.Set, "NetLink", SupportsShouldProcess = true)]
[OutputType(typeof(LinkInfo))]
public sealed class SetNetLinkCommand : NamespacedCmdlet
{
    /// <summary>The interfaces to change; a LinkInfo binds by its Name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name", "ifAlias")]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string[] InterfaceAlias { get; set; } = [];

    /// <summary>Bring the link up.</summary>
    [Parameter] public SwitchParameter Up { get; set; }

    /// <summary>Take the link down.</summary>
    [Parameter] public SwitchParameter Down { get; set; }

    /// <summary>The new MTU (68–65535).</summary>
    [Parameter] [ValidateRange(68, 65535)] public int? Mtu { get; set; }

    /// <summary>The new MAC address, e.g. 02:42:ac:11:00:02.</summary>
    [Parameter] public string? MacAddress { get; set; }

    /// <summary>A new name for the link (at most 15 bytes).</summary>
    [Parameter] public string? NewName { get; set; }

    /// <summary>The bridge to enslave the link to (<c>master BR</c>).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(BridgeNameCompleter))]
    public string? Master { get; set; }

    /// <summary>Release the link from its bridge (<c>nomaster</c>).</summary>
    [Parameter] public SwitchParameter NoMaster { get; set; }

    /// <summary>How the link makes its IPv6 link-local address (<c>addrgenmode</c>); None: no link-local address when it comes up.</summary>
    [Parameter] public IPv6AddressGeneration? IPv6AddressGeneration { get; set; }

    /// <summary>Move the link into this namespace (<c>netns NS</c>); it goes down on the way.</summary>
    [Parameter]
    [NetNamespaceTransformation]
    [ArgumentCompleter(typeof(NetNamespaceNameCompleter))]
    public NetNamespace? TargetNetNamespace { get; set; }

    /// <summary>Emit the changed link.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (Up && Down) ThrowTerminating("ConflictingArguments", ErrorCategory.InvalidArgument, "Both -Up and -Down were given. Give one of them.");
        if (NoMaster && Master is not null) ThrowTerminating("ConflictingArguments", ErrorCategory.InvalidArgument, "Both -Master and -NoMaster were given. Give one of them.");
        if (NewName is not null && InterfaceAlias.Length > 1) ThrowTerminating("ConflictingArguments", ErrorCategory.InvalidArgument, "-NewName renames one link; several were given.");
    }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        var target = TargetNetNamespace is { } t && t.Id != ns.Id ? t : null;
        var changes = new LinkChanges
        {
            Up = Up ? true : Down ? false : null,
            Mtu = Mtu,
            MacAddress = MacAddress,
            NewName = target is null ? NewName : null,
            Master = Master,
            NoMaster = NoMaster,
            IPv6AddressGeneration = IPv6AddressGeneration,
        };
        var hasChanges = changes != new LinkChanges();
        foreach (var name in InterfaceAlias)
        {
            if (!ShouldProcess($"link {name}{In(ns)}", Describe(changes, target))) continue;
            var ok = Try(name, () =>
            {
                if (hasChanges) ns.Rtnl.SetLink(name, changes);
                if (target is not null) ns.Rtnl.MoveToNamespace(name, target.Handle, NewName);
            });
            if (ok && PassThru && Try(name, () => (target ?? ns).Rtnl.GetLink(NewName ?? name), out var link)) WriteObject(link);
        }
    }

    private string Describe(LinkChanges c, NetNamespace? target)
    {
        var parts = new List<string>();
        if (c.Up is { } up) parts.Add(up ? "up" : "down");
        if (c.Mtu is { } m) parts.Add($"mtu {m}");
        if (c.MacAddress is { } a) parts.Add($"address {a}");
        if (NewName is { } n) parts.Add($"name {n}");
        if (c.Master is { } br) parts.Add($"master {br}");
        if (c.NoMaster) parts.Add("nomaster");
        if (c.IPv6AddressGeneration is { } g) parts.Add($"addrgenmode {RouteClient.AddressGenerationName(g)}");
        if (target is not null) parts.Add($"netns {target}");
        return parts.Count == 0 ? "Set link (no change)" : "Set link " + string.Join(" ", parts);
    }
}
