using System.Management.Automation;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>Get-NetRoute: lists the routes of the main table (<c>ip route show</c>, <c>ip -6 route show</c>).</summary>
[Cmdlet(VerbsCommon.Get, "NetRoute")]
[OutputType(typeof(RouteInfo))]
public sealed class GetNetRouteCommand : NamespacedCmdlet
{
    /// <summary>Only these destinations (e.g. 0.0.0.0/0, 192.168.15.0/24, 'default'); wildcards allowed.</summary>
    [Parameter(Position = 0)]
    [Alias("Destination")]
    [SupportsWildcards]
    public string[]? DestinationPrefix { get; set; }

    /// <summary>Only routes through these interfaces; wildcards allowed. A LinkInfo binds by its InterfaceAlias.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("ifAlias", "OutputInterface")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string[]? InterfaceAlias { get; set; }

    /// <summary>Only IPv4 or only IPv6 routes; both by default.</summary>
    [Parameter]
    public NetAddressFamily AddressFamily { get; set; } = NetAddressFamily.Both;

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        if (!Try(ns, () => ns.Rtnl.GetRoutes(InputParsing.ToSocketFamily(AddressFamily)), out var routes)) return;
        var dest = DestinationPrefix?.Select(p => p.Equals("default", StringComparison.OrdinalIgnoreCase) ? null : new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
        var dev = InterfaceAlias?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
        foreach (var r in routes)
        {
            if (dest is not null && !dest.Any(m => m is null ? r.IsDefault : m.IsMatch(r.Destination.ToString()))) continue;
            if (dev is not null && !dev.Any(m => m.IsMatch(r.OutputInterface ?? ""))) continue;
            WriteObject(r);
        }
    }
}
