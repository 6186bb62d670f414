using System.Management.Automation;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>Get-NetNeighbor: lists the ARP and NDP neighbour table (<c>ip neigh show nud all</c>).</summary>
[Cmdlet(VerbsCommon.Get, "NetNeighbor")]
[OutputType(typeof(NeighborInfo))]
public sealed class GetNetNeighborCommand : NamespacedCmdlet
{
    /// <summary>Only neighbours on these interfaces; wildcards allowed. A LinkInfo binds by its InterfaceAlias.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ifAlias", "InterfaceName")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string[]? InterfaceAlias { get; set; }

    /// <summary>Only these neighbour addresses; wildcards allowed.</summary>
    [Parameter]
    [Alias("Address")]
    [SupportsWildcards]
    public string[]? IPAddress { get; set; }

    /// <summary>Only IPv4 (ARP) or only IPv6 (NDP) neighbours; both by default.</summary>
    [Parameter]
    public NetAddressFamily AddressFamily { get; set; } = NetAddressFamily.Both;

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        if (!Try(ns, () => ns.Rtnl.GetNeighbors(InputParsing.ToSocketFamily(AddressFamily)), out var all)) return;
        var dev = InterfaceAlias?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
        var ip = IPAddress?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
        foreach (var n in all)
        {
            if (dev is not null && !dev.Any(m => m.IsMatch(n.InterfaceName ?? ""))) continue;
            if (ip is not null && !ip.Any(m => m.IsMatch(n.Address.ToString()))) continue;
            WriteObject(n);
        }
    }
}
