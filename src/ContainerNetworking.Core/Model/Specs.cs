using System.Net;

namespace ContainerNetworking.Model;

/// <summary>What <see cref="ContainerNetworkManager.CreateNetwork"/> builds (<c>docker network create</c>'s options).</summary>
public sealed record NetworkSpec
{
    /// <summary>The network's name: letters, digits, '_', '.', '-'; "host" and "none" are predefined.</summary>
    public required string Name { get; init; }
    /// <summary>The bridge (≤ 15 bytes); by default "br-" and the first 12 hex digits of the network id, as Docker names it.</summary>
    public string? BridgeName { get; init; }
    /// <summary>IPv4 subnet; by default the first free one of Docker's default address pools.</summary>
    public IPNetwork? Subnet { get; init; }
    /// <summary>IPv4 gateway (the bridge's address); by default the subnet's first address.</summary>
    public IPAddress? Gateway { get; init; }
    /// <summary>
    /// The gateway is not the host's: the bridge takes no address and the host routes nothing for the network (no
    /// forwarding turned on); the gateway address stays reserved for a router elsewhere on the segment. CNI bridge's
    /// <c>isGateway: false</c>. By default the bridge holds the gateway, as Docker's does.
    /// </summary>
    public bool ExternalGateway { get; init; }
    /// <summary>The sub-prefix dynamic addresses come from (Docker's --ip-range).</summary>
    public IPNetwork? IpRange { get; init; }
    /// <summary>The first and last address handed out dynamically (CNI host-local's rangeStart, rangeEnd); by default the range's.</summary>
    public IPAddress? RangeStart { get; init; }
    public IPAddress? RangeEnd { get; init; }
    /// <summary>Dual stack: also IPv6. Implied by <see cref="SubnetV6"/>; without it a random unique-local /64 is used.</summary>
    public bool EnableIPv6 { get; init; }
    /// <summary>
    /// False: an IPv6-only network (Docker's <c>--ipv4=false</c>, netavark's network with only an IPv6 subnet): no IPv4
    /// subnet, gateway, address or route; the network needs an IPv6 subnet.
    /// </summary>
    public bool IPv4 { get; init; } = true;
    public IPNetwork? SubnetV6 { get; init; }
    public IPAddress? GatewayV6 { get; init; }
    public IPNetwork? IpRangeV6 { get; init; }
    /// <summary>MTU of the bridge and the veths; 0 for the kernel default.</summary>
    public int Mtu { get; init; }
    /// <summary>No outside access: no masquerade, traffic only between the bridge's ports and the host (Docker's --internal).</summary>
    public bool Internal { get; init; }
    /// <summary>Masquerade traffic from the subnet that leaves through another interface.</summary>
    public bool Masquerade { get; init; } = true;
    /// <summary>Containers on the bridge may talk to each other (Docker's com.docker.network.bridge.enable_icc).</summary>
    public bool Icc { get; init; } = true;
    /// <summary>
    /// Routed access: hosts that route the subnet via this host reach the containers' addresses directly (Docker's
    /// com.docker.network.bridge.gateway_mode_ipv4=routed, netavark's and flannel's way). By default that direct access
    /// is dropped and only published ports get in, as Docker 28 does.
    /// </summary>
    public bool Routed { get; init; }
    /// <summary>Static routes pushed into every container of the network (podman network create --route, netavark's routes).</summary>
    public IReadOnlyList<NetworkRoute> Routes { get; init; } = [];
    /// <summary>The network's containers get no default route via its gateway (podman network create --opt no_default_route).</summary>
    public bool NoDefaultRoute { get; init; }
}

/// <summary>
/// A static route of a network, inside each of its containers: <c>ip route add DESTINATION via GATEWAY dev ethN</c>.
/// Written "10.99.0.0/16=172.20.0.254" (or podman's "10.99.0.0/16,172.20.0.254"); without a gateway, via the network's.
/// </summary>
public sealed record NetworkRoute
{
    public required IPNetwork Destination { get; init; }
    /// <summary>The next hop, inside the network's subnet of the destination's family; null: the network's gateway.</summary>
    public IPAddress? Gateway { get; init; }

    /// <summary>Parses "DEST=GW", "DEST,GW" or "DEST". "InvalidRoute" (with the expected form) when it is none of them.</summary>
    public static NetworkRoute Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sep = text.IndexOfAny(['=', ',']);
        var dest = (sep < 0 ? text : text[..sep]).Trim();
        var gw = sep < 0 ? null : text[(sep + 1)..].Trim();
        try
        {
            return new NetworkRoute
            {
                Destination = AddressMath.ParseSubnet(dest, "route destination"),
                Gateway = gw is null ? null : AddressMath.ParseAddress(gw, "route gateway"),
            };
        }
        catch (ContainerNetworkingException e)
        {
            throw new ContainerNetworkingException("InvalidRoute", ErrorKind.InvalidArgument,
                $"Route '{text}': {e.Message} Write a route as DESTINATION=GATEWAY, e.g. 10.99.0.0/16=172.20.0.254, or DESTINATION alone for the network's gateway.");
        }
    }

    public override string ToString() => Gateway is null ? Destination.ToString() : $"{Destination}={Gateway}";
}

/// <summary>What <see cref="ContainerNetworkManager.Connect"/> attaches (<c>docker run --network … -p …</c>).</summary>
public sealed record EndpointSpec
{
    /// <summary>A bridge network's name, or "host" or "none". Ignored in container mode (<see cref="ShareWith"/>).</summary>
    public string? Network { get; init; }
    /// <summary>The container's namespace: a name under /run/netns or a path (/proc/PID/ns/net). Not used in host mode.</summary>
    public string? Namespace { get; init; }
    /// <summary>
    /// Record <see cref="Namespace"/> as the path given even when it is /run/netns/NAME, so the container is one whose
    /// namespace is given by path: it gets no name files (/etc/netns/NAME, see <see cref="NameResolution"/>). For
    /// runtimes that give their containers an /etc/hosts of their own (the CNI plugin: CNI_NETNS is a path).
    /// </summary>
    public bool NamespaceByPath { get; init; }
    /// <summary>Create the namespace <see cref="Namespace"/> (it must not exist); Disconnect then deletes it.</summary>
    public bool CreateNamespace { get; init; }
    /// <summary>The container's name on the network; by default the namespace's name.</summary>
    public string? Container { get; init; }
    /// <summary>The interface inside the namespace; by default eth0 (eth1, … when taken).</summary>
    public string? InterfaceName { get; init; }
    /// <summary>A static IPv4 address (inside the subnet); by default the next free one.</summary>
    public IPAddress? IPv4Address { get; init; }
    public IPAddress? IPv6Address { get; init; }
    /// <summary>The MAC address of the container interface; by default 02:42 and the IPv4 address (02:42:ac:11:00:02 for 172.17.0.2).</summary>
    public string? MacAddress { get; init; }
    /// <summary>A default route via the network's gateway inside the container (CNI: isDefaultGateway, or host-local's 0.0.0.0/0 route).</summary>
    public bool DefaultRoute { get; init; } = true;
    /// <summary>
    /// Docker's gw-priority: when the container is on several networks, the default route goes via the gateway of the
    /// network of the highest priority (ties: the network connected first). 0 by default.
    /// </summary>
    public int GatewayPriority { get; init; }
    /// <summary>Hairpin mode on the bridge port (the container reaches its own published ports via the host); CNI's <c>hairpinMode</c>.</summary>
    public bool Hairpin { get; init; } = true;
    /// <summary>Ports to publish, in Docker's notation: '8088:80', '127.0.0.1:8080:80/tcp', '8000-8010:80-90/udp', '80'.</summary>
    public IReadOnlyList<string> Publish { get; init; } = [];
    /// <summary>More names of the container on the network (docker network connect --alias): host names, in every hosts file of the network.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];
    /// <summary>Who makes the endpoint, recorded as <see cref="ContainerEndpoint.Origin"/> (the CNI plugin: "cni").</summary>
    public string? Origin { get; init; }
    /// <summary>Container mode: the endpoint (id, id prefix or container name) whose namespace this container joins.</summary>
    public string? ShareWith { get; init; }
}

/// <summary>One finding of <see cref="ContainerNetworkManager.Repair"/>.</summary>
/// <param name="Kind">What was found, e.g. "OrphanLease", "IncompleteEndpoint", "MissingNetworkRules".</param>
/// <param name="Network">The network it belongs to.</param>
/// <param name="Object">The object: a link name, an address, an endpoint id, a port mapping.</param>
/// <param name="Action">"Removed", "Recreated", or with what-if "WouldRemove"/"WouldRecreate"; "Failed" with the reason in Detail.</param>
/// <param name="Detail">Why it is a leftover, and what was done.</param>
public sealed record RepairFinding(string Kind, string Network, string Object, string Action, string Detail);

/// <summary>Whether a hop of the path works.</summary>
public enum HopStatus
{
    Ok,
    Broken,
    Warning,
    Skipped,
}

/// <summary>One hop of the path <see cref="ContainerNetworkManager.Test"/> walks, with why it is broken and the fix.</summary>
public sealed record DiagnosticHop(int Order, string Hop, HopStatus Status, string Detail, string? Fix = null);
