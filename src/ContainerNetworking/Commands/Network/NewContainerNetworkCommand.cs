using System.Management.Automation;
using System.Net;
using ContainerNetworking.Model;

namespace ContainerNetworking.Commands;

/// <summary>
/// New-ContainerNetwork: creates a Docker-style bridge network (<c>docker network create</c>): the bridge with the
/// gateway address, forwarding on, masquerade and forward-filter rules, the record in the state directory; all or nothing.
/// </summary>
[Cmdlet(VerbsCommon.New, "ContainerNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ContainerNetwork))]
public sealed class NewContainerNetworkCommand : PipelineContainerNetworkCmdlet
{
    /// <summary>The network's name (1-56 letters, digits, '_', '.', '-'); not 'host' or 'none'.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The IPv4 subnet, e.g. 172.17.0.0/16; by default a free one from Docker's pools that overlaps no route or address of the host.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Subnet { get; set; }

    /// <summary>The gateway (the bridge's address) inside the subnet; by default the first address.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Gateway { get; set; }

    /// <summary>The range containers' addresses are allocated from, a prefix inside the subnet, e.g. 172.17.5.0/24.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? IPRange { get; set; }

    /// <summary>The Linux bridge's name (at most 15 bytes); by default br- and the first 12 characters of the network id.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(BridgeNameCompleter))]
    public string? BridgeName { get; set; }

    /// <summary>IPv6 only (Docker's --ipv4=false): no IPv4 subnet; needs -IPv6 or -SubnetV6.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter DisableIPv4 { get; set; }

    /// <summary>Dual stack: give the network an IPv6 subnet too (a random fd00::/64 unless -SubnetV6).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter IPv6 { get; set; }

    /// <summary>The IPv6 subnet, e.g. fd00:17::/64 (implies -IPv6).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? SubnetV6 { get; set; }

    /// <summary>The IPv6 gateway inside -SubnetV6; by default its first address.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? GatewayV6 { get; set; }

    /// <summary>The range IPv6 addresses are allocated from, a prefix inside -SubnetV6.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? IPRangeV6 { get; set; }

    /// <summary>The MTU of the bridge and of the containers' veths (68-65535); by default the kernel's (1500).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(68, 65535)]
    public int Mtu { get; set; }

    /// <summary>No access to or from the outside: no masquerade, no forwarding off the bridge, no default route in the containers (docker network create --internal).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter Internal { get; set; }

    /// <summary>Do not masquerade traffic from the subnet that leaves through another interface (Docker's enable_ip_masquerade=false).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter DisableMasquerade { get; set; }

    /// <summary>Containers on the network may not talk to each other (Docker's enable_icc=false).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter DisableIcc { get; set; }

    /// <summary>
    /// Routed access: hosts with a route to the subnet via this host reach the containers' addresses directly (Docker's
    /// gateway_mode_ipv4=routed; combine with -DisableMasquerade for no NAT at all). Without it only published ports get
    /// in from outside, as Docker 28 does.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter Routed { get; set; }

    /// <summary>
    /// Static routes in every container of the network (podman network create --route): DESTINATION=GATEWAY, e.g.
    /// 10.99.0.0/16=172.20.0.254 (podman's DESTINATION,GATEWAY too), or DESTINATION alone for the network's gateway.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Route { get; set; } = [];

    /// <summary>The network's containers get no default route via its gateway (podman's --opt no_default_route=1).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter NoDefaultRoute { get; set; }

    protected override void ProcessRecord()
    {
        if (!Try(Name, BuildSpec, out var spec)) return;
        var manager = Manager;
        var target = $"network {Name}{In(manager.Host)}";
        if (!ShouldRun(target, "Create container network", () => manager.PlanCreateNetwork(spec), Name)) return;
        if (Try(Name, () => manager.CreateNetwork(spec), out var network))
            WriteRecord(network, manager, ("EndpointCount", 0));
    }

    private NetworkSpec BuildSpec() => new()
    {
        Name = Name,
        BridgeName = BridgeName,
        Subnet = Subnet is null ? null : AddressMath.ParseSubnet(Subnet, "subnet (-Subnet)"),
        Gateway = Gateway is null ? null : AddressMath.ParseAddress(Gateway, "gateway (-Gateway)"),
        IpRange = IPRange is null ? null : AddressMath.ParseSubnet(IPRange, "address range (-IPRange)"),
        EnableIPv6 = IPv6 || SubnetV6 is not null || GatewayV6 is not null || IPRangeV6 is not null,
        IPv4 = !DisableIPv4,
        SubnetV6 = SubnetV6 is null ? null : AddressMath.ParseSubnet(SubnetV6, "IPv6 subnet (-SubnetV6)"),
        GatewayV6 = GatewayV6 is null ? null : AddressMath.ParseAddress(GatewayV6, "IPv6 gateway (-GatewayV6)"),
        IpRangeV6 = IPRangeV6 is null ? null : AddressMath.ParseSubnet(IPRangeV6, "IPv6 address range (-IPRangeV6)"),
        Mtu = Mtu,
        Internal = Internal,
        Masquerade = !DisableMasquerade,
        Icc = !DisableIcc,
        Routed = Routed,
        Routes = [.. Route.Select(NetworkRoute.Parse)],
        NoDefaultRoute = NoDefaultRoute,
    };
}
