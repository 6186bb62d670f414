using System.Management.Automation;
using System.Net.Sockets;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>
/// New-NetRoute: adds (or with -Replace, replaces) a route
/// (<c>ip route add|replace PREFIX [via NEXTHOP] [dev NAME] [metric M] [scope S]</c>).
/// </summary>
[Cmdlet(VerbsCommon.New, "NetRoute", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(RouteInfo))]
public sealed class NewNetRouteCommand : NamespacedCmdlet
{
    /// <summary>The destination: 192.168.15.0/24, fd00::/64, or 'default' (0.0.0.0/0 or ::/0).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Destination")]
    public string DestinationPrefix { get; set; } = "";

    /// <summary>The gateway (via).</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Gateway")]
    public string? NextHop { get; set; }

    /// <summary>The output interface (dev).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("ifAlias", "OutputInterface")]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string? InterfaceAlias { get; set; }

    /// <summary>The metric (priority); lower wins.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Metric")]
    public uint? RouteMetric { get; set; }

    /// <summary>The scope; by default link for a route without next hop, universe otherwise (as ip does).</summary>
    [Parameter]
    public RouteScope? Scope { get; set; }

    /// <summary>Replace a route with the same destination and metric instead of failing (<c>ip route replace</c>).</summary>
    [Parameter] public SwitchParameter Replace { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        if (!Try(DestinationPrefix, () =>
        {
            var hop = NextHop is null ? null : InputParsing.ParseAddress(NextHop, "next hop");
            var dest = InputParsing.ParsePrefix(DestinationPrefix, hop?.AddressFamily);
            if (hop is not null && hop.AddressFamily != dest.BaseAddress.AddressFamily)
                throw new ContainerNetworkingException("InvalidNextHop", ErrorKind.InvalidArgument,
                    $"Next hop {hop} is {InputParsing.Name(hop.AddressFamily)} but the destination {dest} is {InputParsing.Name(dest.BaseAddress.AddressFamily)}. Give a next hop of the same family.");
            if (hop is null && InterfaceAlias is null)
                throw new ContainerNetworkingException("NextHopOrInterfaceRequired", ErrorKind.InvalidArgument,
                    $"A route to {dest} needs a next hop (-NextHop) or an interface (-InterfaceAlias), or both.");
            return new RouteSpec(dest, hop, InterfaceAlias) { Metric = RouteMetric, Scope = Scope is { } s ? (byte)s : null };
        }, out var spec)) return;
        var text = $"route {spec.Destination}{(spec.Gateway is null ? "" : $" via {spec.Gateway}")}{(spec.Interface is null ? "" : $" dev {spec.Interface}")}{(spec.Metric is null ? "" : $" metric {spec.Metric}")}{In(ns)}";
        if (!ShouldProcess(text, Replace ? "Replace route" : "Add route")) return;
        if (!Try(text, () => ns.Rtnl.AddRoute(spec, Replace))) return;
        if (Try(text, () => ns.Rtnl.GetRoutes(spec.Destination.BaseAddress.AddressFamily), out var routes)
            && routes.FirstOrDefault(r => r.Destination.Equals(spec.Destination)
                && (spec.Metric is null || r.Metric == spec.Metric)
                && (spec.Gateway is null || spec.Gateway.Equals(r.Gateway))) is { } added)
            WriteObject(added);
    }
}
