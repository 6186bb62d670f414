using System.Management.Automation;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>Get-BridgeFdb: lists the bridge forwarding database: which MAC address is behind which port (<c>bridge fdb show [br BR]</c>).</summary>
[Cmdlet(VerbsCommon.Get, "BridgeFdb")]
[OutputType(typeof(FdbEntry))]
public sealed class GetBridgeFdbCommand : NamespacedCmdlet
{
    /// <summary>Only entries of this bridge.</summary>
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(BridgeNameCompleter))]
    public string? Bridge { get; set; }

    /// <summary>Only entries of these ports; wildcards allowed.</summary>
    [Parameter]
    [Alias("ifAlias", "InterfaceName")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string[]? InterfaceAlias { get; set; }

    /// <summary>Only addresses the bridge learned from traffic (not the local, permanent ones).</summary>
    [Parameter] public SwitchParameter Learned { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        if (!Try(Bridge ?? (object)ns, () => ns.Rtnl.GetBridgeFdb(Bridge), out var all)) return;
        var dev = InterfaceAlias?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
        foreach (var e in all)
        {
            if (Learned && (e.IsLocal || e.Permanent)) continue;
            if (dev is not null && !dev.Any(m => m.IsMatch(e.InterfaceName ?? ""))) continue;
            WriteObject(e);
        }
    }
}
