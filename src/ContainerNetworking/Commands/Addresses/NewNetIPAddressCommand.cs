using System.Management.Automation;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>New-NetIPAddress: adds an IPv4 or IPv6 address to an interface (<c>ip addr add ADDRESS/PREFIX dev NAME</c>).</summary>
[Cmdlet(VerbsCommon.New, "NetIPAddress", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(AddressInfo))]
public sealed class NewNetIPAddressCommand : NamespacedCmdlet
{
    /// <summary>The interface to add the address to.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ifAlias", "InterfaceName")]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string InterfaceAlias { get; set; } = "";

    /// <summary>The address, e.g. 192.168.15.1 (with -PrefixLength) or 192.168.15.1/24.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Address")]
    public string IPAddress { get; set; } = "";

    /// <summary>The prefix length, 0–32 for IPv4, 0–128 for IPv6.</summary>
    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 128)]
    public int? PrefixLength { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        if (!Try(IPAddress, () => InputParsing.ParseAddressAndPrefix(IPAddress, PrefixLength), out var a)) return;
        if (!ShouldProcess($"address {a.Address}/{a.PrefixLength} on {InterfaceAlias}{In(ns)}", "Add IP address")) return;
        if (!Try(InterfaceAlias, () => ns.Rtnl.AddAddress(InterfaceAlias, a.Address, a.PrefixLength))) return;
        if (Try(InterfaceAlias, () => ns.Rtnl.GetAddresses(InterfaceAlias, a.Address.AddressFamily), out var all)
            && all.FirstOrDefault(x => x.Address.Equals(a.Address) && x.PrefixLength == a.PrefixLength) is { } added)
            WriteObject(added);
    }
}
