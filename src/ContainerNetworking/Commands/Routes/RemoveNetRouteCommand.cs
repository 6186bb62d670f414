using System.Management.Automation;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>Remove-NetRoute: removes a route (<c>ip route del PREFIX [via NEXTHOP] [dev NAME] [metric M]</c>).</summary>
[Cmdlet(VerbsCommon.Remove, "NetRoute", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveNetRouteCommand : NamespacedCmdlet
{
    /// <summary>The destination, e.g. 192.168.15.0/24 or 'default'; a RouteInfo binds by its DestinationPrefix.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Destination")]
    public string DestinationPrefix { get; set; } = "";

    /// <summary>The gateway, to tell apart routes to the same destination.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Gateway")]
    public string? NextHop { get; set; }

    /// <summary>The output interface, to tell apart routes to the same destination.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("ifAlias", "OutputInterface")]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string? InterfaceAlias { get; set; }

    /// <summary>The metric, to tell apart routes to the same destination.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Metric")]
    public uint? RouteMetric { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        if (!Try(DestinationPrefix, () =>
        {
            var hop = string.IsNullOrEmpty(NextHop) ? null : InputParsing.ParseAddress(NextHop, "next hop");
            return new RouteSpec(InputParsing.ParsePrefix(DestinationPrefix, hop?.AddressFamily), hop, string.IsNullOrEmpty(InterfaceAlias) ? null : InterfaceAlias) { Metric = RouteMetric };
        }, out var spec)) return;
        var text = $"route {spec.Destination}{(spec.Gateway is null ? "" : $" via {spec.Gateway}")}{(spec.Interface is null ? "" : $" dev {spec.Interface}")}{(spec.Metric is null ? "" : $" metric {spec.Metric}")}{In(ns)}";
        if (ShouldProcess(text, "Remove route")) Try(text, () => ns.Rtnl.RemoveRoute(spec));
    }
}
