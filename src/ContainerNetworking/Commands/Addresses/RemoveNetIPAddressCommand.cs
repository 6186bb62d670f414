using System.Management.Automation;

namespace ContainerNetworking.Commands;

/// <summary>Remove-NetIPAddress: removes an address from an interface (<c>ip addr del ADDRESS/PREFIX dev NAME</c>).</summary>
[Cmdlet(VerbsCommon.Remove, "NetIPAddress", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveNetIPAddressCommand : NamespacedCmdlet
{
    /// <summary>The interface; an AddressInfo binds by its InterfaceAlias.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ifAlias", "InterfaceName")]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string InterfaceAlias { get; set; } = "";

    /// <summary>The address, e.g. 192.168.15.1 or 192.168.15.1/24; an AddressInfo binds by its IPAddress.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Address")]
    public string IPAddress { get; set; } = "";

    /// <summary>The prefix length; looked up on the interface when omitted.</summary>
    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 128)]
    public int? PrefixLength { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        var text = IPAddress;
        if (PrefixLength is null && !text.Contains('/'))
        {
            // The prefix as the interface has it: what Windows' Remove-NetIPAddress -IPAddress alone does.
            if (!Try(text, () => InputParsing.ParseAddress(text), out var bare)) return;
            if (!Try(InterfaceAlias, () => ns.Rtnl.GetAddresses(InterfaceAlias, bare.AddressFamily), out var existing)) return;
            var match = existing.FirstOrDefault(a => a.Address.Equals(bare));
            if (match is null)
            {
                WriteError("AddressNotFound", ErrorCategory.ObjectNotFound,
                    $"Address {bare} is not on '{InterfaceAlias}'{In(ns)}; nothing to remove. List them with Get-NetIPAddress -InterfaceAlias {InterfaceAlias}.", text);
                return;
            }
            text = $"{bare}/{match.PrefixLength}";
        }
        if (!Try(text, () => InputParsing.ParseAddressAndPrefix(text, PrefixLength), out var a)) return;
        if (!ShouldProcess($"address {a.Address}/{a.PrefixLength} on {InterfaceAlias}{In(ns)}", "Remove IP address")) return;
        Try(text, () => ns.Rtnl.RemoveAddress(InterfaceAlias, a.Address, a.PrefixLength));
    }
}
