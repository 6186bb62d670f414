using System.Management.Automation;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>New-NetBridge: creates Linux bridges (<c>ip link add NAME type bridge</c>).</summary>
[Cmdlet(VerbsCommon.New, "NetBridge", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(LinkInfo))]
public sealed class NewNetBridgeCommand : NamespacedCmdlet
{
    /// <summary>The names of the bridges (at most 15 bytes each).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    /// <summary>The MTU of the bridge.</summary>
    [Parameter] [ValidateRange(68, 65535)] public int? Mtu { get; set; }

    /// <summary>The bridge's MAC address (fixed, so it does not change as ports come and go).</summary>
    [Parameter] public string? MacAddress { get; set; }

    /// <summary>Bring the bridge up.</summary>
    [Parameter] public SwitchParameter Up { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        var options = new BridgeOptions { Mtu = Mtu, MacAddress = MacAddress, Up = Up };
        foreach (var name in Name)
        {
            if (!ShouldProcess($"bridge {name}{In(ns)}", "Create bridge")) continue;
            if (Try(name, () => ns.Rtnl.CreateBridge(name, options), out var link)) WriteObject(link);
        }
    }
}
