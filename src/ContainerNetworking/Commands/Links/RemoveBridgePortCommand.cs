using System.Management.Automation;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>Remove-BridgePort: releases links from their bridge (<c>ip link set NAME nomaster</c>).</summary>
[Cmdlet(VerbsCommon.Remove, "BridgePort", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(LinkInfo))]
public sealed class RemoveBridgePortCommand : NamespacedCmdlet
{
    /// <summary>The ports to release; a LinkInfo binds by its Name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name", "ifAlias")]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string[] InterfaceAlias { get; set; } = [];

    /// <summary>Only release the link when it is a port of this bridge.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(BridgeNameCompleter))]
    public string? Bridge { get; set; }

    /// <summary>Emit the released link.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        foreach (var name in InterfaceAlias)
        {
            if (!Try(name, () => ns.Rtnl.GetLink(name), out var link)) continue;
            if (link.Master is null || (Bridge is not null && link.Master != Bridge))
            {
                WriteError("NotABridgePort", ErrorCategory.InvalidOperation,
                    $"Link '{name}'{In(ns)} is not a port of {(Bridge is null ? "any bridge" : $"bridge '{Bridge}'")}{(link.Master is null ? "" : $" (its master is '{link.Master}')")}; nothing to remove. See Get-NetLink for the ports of a bridge.", link);
                continue;
            }
            if (!ShouldProcess($"link {name}{In(ns)}", $"Remove from bridge {link.Master}")) continue;
            if (Try(link, () => ns.Rtnl.SetMaster(name, null)) && PassThru && Try(name, () => ns.Rtnl.GetLink(name), out var after)) WriteObject(after);
        }
    }
}
