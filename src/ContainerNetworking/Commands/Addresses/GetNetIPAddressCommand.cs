using System.Management.Automation;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>Get-NetIPAddress: lists interface addresses (<c>ip addr show [dev NAME]</c>).</summary>
[Cmdlet(VerbsCommon.Get, "NetIPAddress")]
[OutputType(typeof(AddressInfo))]
public sealed class GetNetIPAddressCommand : NamespacedCmdlet
{
    /// <summary>Only addresses of these interfaces; wildcards allowed. A LinkInfo binds by its InterfaceAlias.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ifAlias", "InterfaceName")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string[]? InterfaceAlias { get; set; }

    /// <summary>Only these addresses; wildcards allowed (e.g. 192.168.15.*).</summary>
    [Parameter]
    [Alias("Address")]
    [SupportsWildcards]
    public string[]? IPAddress { get; set; }

    /// <summary>Only IPv4 or only IPv6 addresses; both by default.</summary>
    [Parameter]
    public NetAddressFamily AddressFamily { get; set; } = NetAddressFamily.Both;

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        if (!Try(ns, () => ns.Rtnl.GetAddresses(null, InputParsing.ToSocketFamily(AddressFamily)), out var all)) return;
        if (InterfaceAlias is { Length: > 0 })
        {
            // A literal interface name that does not exist is an error; one without addresses is not.
            if (!Try(ns, () => ns.Rtnl.GetLinks(), out var links)) return;
            var names = FilterByName(links, l => l.Name, InterfaceAlias, n => ErrorMapping.ToErrorRecord(
                new ContainerNetworkingException("LinkNotFound", ErrorKind.NotFound, $"Link '{n}' does not exist{InNamespace}. List the links with Get-NetLink."), n)!)
                .Select(l => l.Index).ToHashSet();
            all = all.Where(a => names.Contains(a.InterfaceIndex)).ToList();
        }
        var matchers = IPAddress?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
        foreach (var a in all)
        {
            if (matchers is null || matchers.Any(m => m.IsMatch(a.Address.ToString()))) WriteObject(a);
        }
    }
}
