using System.Management.Automation;

namespace ContainerNetworking.Commands;

/// <summary>
/// Remove-NetIPAddress: removes an address from an interface (<c>ip addr del ADDRESS/PREFIX dev NAME</c>). As Windows'
/// Remove-NetIPAddress, the address alone is enough: the interface that has it is looked up (an error names the
/// interfaces when several have it); the prefix length too.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "NetIPAddress", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveNetIPAddressCommand : NamespacedCmdlet
{
    /// <summary>The address, e.g. 192.168.15.1 or 192.168.15.1/24; an AddressInfo binds by its IPAddress.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Address")]
    [ValidateNotNullOrEmpty]
    public string IPAddress { get; set; } = "";

    /// <summary>The interface; looked up from the address when omitted. An AddressInfo binds by its InterfaceAlias.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("ifAlias", "InterfaceName")]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string? InterfaceAlias { get; set; }

    /// <summary>The prefix length; looked up on the interface when omitted.</summary>
    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 128)]
    public int? PrefixLength { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        var (text, alias) = (IPAddress, string.IsNullOrEmpty(InterfaceAlias) ? null : InterfaceAlias);
        // The interface-first order of New-NetIPAddress (Remove-NetIPAddress br0 192.168.15.1) is accepted too.
        if (alias is not null && !LooksLikeAddress(text) && LooksLikeAddress(alias)) (text, alias) = (alias, text);
        var slash = text.IndexOf('/');
        if (!Try(text, () => InputParsing.ParseAddress(slash < 0 ? text : text[..slash]), out var bare)) return;
        int? prefix = PrefixLength;
        if (slash >= 0)
        {
            if (!Try(text, () => InputParsing.ParseAddressAndPrefix(text, PrefixLength), out var given)) return;
            prefix = given.PrefixLength;
        }
        if (alias is null || prefix is null)
        {
            // The interface and the prefix as the namespace has them: what Windows' Remove-NetIPAddress -IPAddress alone does.
            if (!Try(alias ?? (object)text, () => ns.Rtnl.GetAddresses(alias, bare.AddressFamily), out var existing)) return;
            var matches = existing.Where(a => a.Address.Equals(bare) && (prefix is null || a.PrefixLength == prefix)).ToList();
            var where = alias is null ? "on any interface" : $"on '{alias}'";
            var list = $"Get-NetIPAddress{(alias is null ? "" : " -InterfaceAlias " + alias)}{NamespaceArgument(ns)}";
            if (matches.Count == 0)
            {
                WriteError("AddressNotFound", ErrorCategory.ObjectNotFound,
                    $"Address {bare}{(prefix is null ? "" : "/" + prefix)} is not {where}{In(ns)}; nothing to remove. List them with {list}.", text);
                return;
            }
            if (matches.Select(a => a.InterfaceName).Distinct().Count() > 1)
            {
                var names = string.Join(", ", matches.Select(a => a.InterfaceName).Distinct());
                WriteError("AmbiguousAddress", ErrorCategory.InvalidArgument,
                    $"Address {bare} is on several interfaces{In(ns)} ({names}): say which with -InterfaceAlias, e.g. Remove-NetIPAddress {bare} -InterfaceAlias {matches[0].InterfaceName}{NamespaceArgument(ns)}.", text);
                return;
            }
            alias ??= matches[0].InterfaceName!;
            prefix ??= matches[0].PrefixLength;
        }
        var (address, length, link) = (bare, prefix.Value, alias);
        if (!ShouldProcess($"address {address}/{length} on {link}{In(ns)}", "Remove IP address")) return;
        Try(text, () => ns.Rtnl.RemoveAddress(link, address, length));
    }

    private static bool LooksLikeAddress(string s) => System.Net.IPAddress.TryParse(s.Split('/')[0], out _);

    private static string NamespaceArgument(Namespaces.NetNamespace ns) => ns.Label is { } l ? " -NetNamespace " + l : "";
}
