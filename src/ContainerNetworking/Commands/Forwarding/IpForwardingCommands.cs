using System.Management.Automation;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Commands;

/// <summary>Get-IpForwarding: whether a namespace forwards IPv4 / IPv6 packets (<c>sysctl net.ipv4.ip_forward</c>).</summary>
[Cmdlet(VerbsCommon.Get, "IpForwarding")]
[OutputType(typeof(IpForwardingState))]
public sealed class GetIpForwardingCommand : NamespacedCmdlet
{
    /// <summary>IPv4, IPv6 or Both (default).</summary>
    [Parameter(Position = 0)]
    public NetAddressFamily AddressFamily { get; set; } = NetAddressFamily.Both;

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        foreach (var f in InputParsing.Families(AddressFamily))
        {
            if (Try(ns, () => IpForwarding.IsEnabled(ns, f), out var on)) WriteObject(State(ns, f, on));
        }
    }

    internal static IpForwardingState State(NetNamespace ns, System.Net.Sockets.AddressFamily f, bool on) =>
        new(ns.Name ?? (ns.IsCurrent ? null : ns.Path), InputParsing.Name(f), on);
}

/// <summary>Shared by Enable-IpForwarding and Disable-IpForwarding.</summary>
public abstract class SetIpForwardingCommandBase : NamespacedCmdlet
{
    /// <summary>IPv4 (default), IPv6 or Both.</summary>
    [Parameter(Position = 0)]
    public NetAddressFamily AddressFamily { get; set; } = NetAddressFamily.IPv4;

    /// <summary>Emit the new state.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected abstract bool Enable { get; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        foreach (var f in InputParsing.Families(AddressFamily))
        {
            var key = IpForwarding.SysctlKey(f);
            if (!ShouldProcess($"{InputParsing.Name(f)} forwarding ({key}){In(ns)}", Enable ? "Enable" : "Disable")) continue;
            if (!Try(ns, () => IpForwarding.Set(ns, f, Enable), out var raKept)) continue;
            if (raKept.Count > 0)
                WriteVerbose($"accept_ra 1 -> 2 on {string.Join(", ", raKept)}{In(ns)}: an IPv6 router ignores router advertisements otherwise, and an interface that learns its default route by SLAAC would lose it.");
            if (PassThru && Try(ns, () => IpForwarding.IsEnabled(ns, f), out var on))
                WriteObject(GetIpForwardingCommand.State(ns, f, on));
        }
    }
}

/// <summary>Enable-IpForwarding: lets a namespace route packets between its interfaces (<c>sysctl -w net.ipv4.ip_forward=1</c>).</summary>
[Cmdlet(VerbsLifecycle.Enable, "IpForwarding", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(IpForwardingState))]
public sealed class EnableIpForwardingCommand : SetIpForwardingCommandBase
{
    protected override bool Enable => true;
}

/// <summary>Disable-IpForwarding: stops a namespace routing packets (<c>sysctl -w net.ipv4.ip_forward=0</c>).</summary>
[Cmdlet(VerbsLifecycle.Disable, "IpForwarding", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(IpForwardingState))]
public sealed class DisableIpForwardingCommand : SetIpForwardingCommandBase
{
    protected override bool Enable => false;
}
