using System.Management.Automation;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>Get-NetLink: lists network interfaces with their state, master, veth peer and addresses (<c>ip -d link show</c>).</summary>
[Cmdlet(VerbsCommon.Get, "NetLink")]
[OutputType(typeof(LinkInfo))]
public sealed class GetNetLinkCommand : NamespacedCmdlet
{
    /// <summary>Interface names; wildcards allowed. All when omitted.</summary>
    [Parameter(Position = 0)]
    [Alias("Name", "ifAlias")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string[]? InterfaceAlias { get; set; }

    /// <summary>Only links of this kind: veth, bridge, dummy …</summary>
    [Parameter]
    [ArgumentCompleter(typeof(LinkKindCompleter))]
    public string? Kind { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        if (!Try(ns, () => ns.Rtnl.GetLinks(Kind), out var links)) return;
        var selected = FilterByName(links, l => l.Name, InterfaceAlias, name => ErrorMapping.ToErrorRecord(
            new ContainerNetworkingException("LinkNotFound", ErrorKind.NotFound,
                $"Link '{name}' does not exist{InNamespace}{(Kind is null ? "" : $" (of kind {Kind})")}. List the links with Get-NetLink{(NetNamespace is null ? "" : " -NetNamespace " + ns)}."), name)!).ToList();
        if (selected.Count == 0) return;
        var addresses = LinkView.AddressesByIndex(ns);
        var resolve = LinkView.NamespaceResolver(ns);
        foreach (var link in selected) WriteObject(LinkView.Decorate(link, addresses, LinkView.PeerOf(ns, link, links, resolve)));
    }
}
