using System.Management.Automation;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>
/// Add-BridgePort: enslaves links to a bridge and sets port flags
/// (<c>ip link set NAME master BR</c>; <c>bridge link set dev NAME hairpin on learning off isolated on</c>).
/// </summary>
[Cmdlet(VerbsCommon.Add, "BridgePort", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(LinkInfo))]
public sealed class AddBridgePortCommand : NamespacedCmdlet
{
    /// <summary>The bridge.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(BridgeNameCompleter))]
    public string Bridge { get; set; } = "";

    /// <summary>The links to add as ports; a LinkInfo binds by its Name.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name", "ifAlias")]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string[] InterfaceAlias { get; set; } = [];

    /// <summary>Hairpin mode: frames may leave by the port they came in on (-Hairpin:$false turns it off).</summary>
    [Parameter] public SwitchParameter Hairpin { get; set; }

    /// <summary>Learn source MAC addresses on the port (-Learning:$false turns learning off).</summary>
    [Parameter] public SwitchParameter Learning { get; set; }

    /// <summary>Isolate the port: it can talk only to non-isolated ports.</summary>
    [Parameter] public SwitchParameter Isolated { get; set; }

    /// <summary>Emit the port.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        var flags = new BridgePortOptions { Hairpin = Flag(nameof(Hairpin)), Learning = Flag(nameof(Learning)), Isolated = Flag(nameof(Isolated)) };
        var hasFlags = flags.Hairpin is not null || flags.Learning is not null || flags.Isolated is not null;
        foreach (var name in InterfaceAlias)
        {
            if (!ShouldProcess($"link {name}{In(ns)}", $"Add to bridge {Bridge}")) continue;
            var ok = Try(name, () =>
            {
                var before = ns.Rtnl.GetLink(name).Master;
                // Only a bridge takes ports here (the kernel answers EOPNOTSUPP for a veth, which reads as a missing module).
                if (ns.Rtnl.FindLink(Bridge) is { Kind: not "bridge" } other)
                    throw new ContainerNetworkingException("NotABridge", ErrorKind.InvalidArgument,
                        $"'{Bridge}' is a {other.Kind ?? "device"} link, not a bridge. Give a bridge as -Bridge (Get-NetLink -Kind bridge lists them; New-NetBridge creates one).");
                ns.Rtnl.SetMaster(name, Bridge);
                if (!hasFlags) return;
                try { ns.Rtnl.SetBridgePort(name, flags); }
                catch
                {
                    // Roll back: the port goes back to where it was.
                    try { ns.Rtnl.SetMaster(name, before); } catch (Exception e) when (ErrorMapping.IsMapped(e)) { }
                    throw;
                }
            });
            if (ok && PassThru && Try(name, () => ns.Rtnl.GetLink(name), out var link)) WriteObject(link);
        }
    }

    private bool? Flag(string parameter) =>
        MyInvocation.BoundParameters.TryGetValue(parameter, out var v) ? ((SwitchParameter)v).IsPresent : null;
}
