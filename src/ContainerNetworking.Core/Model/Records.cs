using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ContainerNetworking.Model;

/// <summary>Docker's network drivers that this module builds: a bridge network, or the predefined host and none.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NetworkDriver>))]
public enum NetworkDriver
{
    Bridge,
    Host,
    None,
}

/// <summary>How an endpoint is attached (Docker's --network modes).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<EndpointMode>))]
public enum EndpointMode
{
    /// <summary>A veth pair: eth0 in the container namespace, the peer on the network's bridge.</summary>
    Bridge,
    /// <summary>No namespace of its own: the container uses the host namespace. Only a record.</summary>
    Host,
    /// <summary>A namespace with only loopback, up.</summary>
    None,
    /// <summary>Joins another endpoint's namespace, as a pod's containers share one (Docker's container:NAME).</summary>
    Container,
}

/// <summary>
/// A record's life: written as <see cref="Creating"/> before the first change (an intent log listing what will
/// be made), <see cref="Ready"/> once everything is in place, <see cref="Removing"/> before the first piece of it is
/// taken away. A Creating record found under the state lock belongs to a process that died half-way: Repair undoes what
/// it lists. A Removing one belongs to a removal that died half-way: Repair finishes it (it never re-creates the
/// pieces already gone).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<RecordState>))]
public enum RecordState
{
    Creating,
    Ready,
    Removing,
}

/// <summary>A container network as persisted in <c>STATE/networks/NAME/network.json</c>.</summary>
public sealed class ContainerNetwork
{
    public required string Name { get; init; }
    /// <summary>64 hex characters, as Docker's network ids.</summary>
    public required string Id { get; init; }
    public NetworkDriver Driver { get; init; } = NetworkDriver.Bridge;
    /// <summary>The Linux bridge (bridge driver only).</summary>
    public string? BridgeName { get; init; }
    public IPNetwork? Subnet { get; init; }
    public IPAddress? Gateway { get; init; }
    /// <summary>The bridge holds no gateway address (CNI bridge's isGateway false; see <see cref="NetworkSpec.ExternalGateway"/>).</summary>
    public bool ExternalGateway { get; init; }
    public IPNetwork? IpRange { get; init; }
    /// <summary>CNI host-local's rangeStart and rangeEnd: the bounds of dynamic allocation inside the range.</summary>
    public IPAddress? RangeStart { get; init; }
    public IPAddress? RangeEnd { get; init; }
    public IPNetwork? SubnetV6 { get; init; }
    public IPAddress? GatewayV6 { get; init; }
    public IPNetwork? IpRangeV6 { get; init; }
    /// <summary>0 means the kernel default (1500).</summary>
    public int Mtu { get; init; }
    /// <summary>No route to or from the outside: no masquerade, no forwarding off the bridge (Docker's --internal).</summary>
    public bool Internal { get; init; }
    /// <summary>Masquerade traffic from the subnet leaving through another interface (Docker's enable_ip_masquerade).</summary>
    public bool Masquerade { get; init; } = true;
    /// <summary>Inter-container communication on the bridge allowed (Docker's enable_icc).</summary>
    public bool Icc { get; init; } = true;
    /// <summary>
    /// Packets routed to the subnet from outside reach the containers directly (Docker's gateway_mode=routed); by
    /// default only published ports get in. Records written before it was added read false.
    /// </summary>
    public bool Routed { get; init; }
    /// <summary>The bridge's MAC address, set explicitly so it does not change as ports come and go.</summary>
    public string? BridgeMacAddress { get; init; }
    /// <summary>The values of ip_forward / IPv6 forwarding before this network turned them on (restored on rollback only).</summary>
    public bool ForwardingWasOff { get; init; }
    /// <summary>
    /// The networks this one may talk to despite the isolation between networks (both records list each other);
    /// see <see cref="ContainerNetworkManager.AllowBetweenNetworks"/>. Repair re-creates their rules from here.
    /// </summary>
    public List<string> AllowedNetworks { get => _allowedNetworks; init => _allowedNetworks = value; }
    private List<string> _allowedNetworks = [];
    /// <summary>Static routes in every container of the network (podman's --route); Connect and Repair put them there.</summary>
    public List<NetworkRoute> Routes { get => _routes; init => _routes = value; }
    private List<NetworkRoute> _routes = [];
    /// <summary>The network's containers get no default route via its gateway.</summary>
    public bool NoDefaultRoute { get; init; }
    /// <summary>The routes with their gateways resolved (the network's of the family when none was given).</summary>
    public IEnumerable<NetworkRoute> ResolvedRoutes() => Routes.Select(r => r.Gateway is not null ? r :
        r with { Gateway = r.Destination.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? GatewayV6 : Gateway });
    public DateTimeOffset Created { get; init; }
    public RecordState State { get; set; } = RecordState.Ready;
    /// <summary>The process that wrote a Creating record.</summary>
    public int OwnerPid { get; init; }

    [JsonIgnore] public bool IsPredefined => Driver != NetworkDriver.Bridge;

    /// <summary>
    /// A copy that shares nothing a caller can change with this one (its lists are copied; every other property is a
    /// value or immutable): what the state store's cache hands out.
    /// </summary>
    internal ContainerNetwork Copy()
    {
        var c = (ContainerNetwork)MemberwiseClone();
        c._allowedNetworks = [.. _allowedNetworks];
        c._routes = [.. _routes];
        return c;
    }

    /// <summary>The IPv4 pool (null for host/none).</summary>
    public AddressPool? Pool4() => Subnet is { } s ? AddressPool.Create(s, Gateway, IpRange, RangeStart, RangeEnd) : null;
    public AddressPool? Pool6() => SubnetV6 is { } s ? AddressPool.Create(s, GatewayV6, IpRangeV6) : null;

    public override string ToString() => Name;
}

/// <summary>An endpoint (a container's attachment to a network) as persisted in <c>STATE/networks/NET/endpoints/ID.json</c>.</summary>
public sealed class ContainerEndpoint
{
    /// <summary>64 hex characters; the host-side veth is "veth" + the first 7.</summary>
    public required string Id { get; init; }
    public required string Network { get; init; }
    /// <summary>The container's name (by default the namespace's name).</summary>
    public required string Container { get; init; }
    public EndpointMode Mode { get; init; }
    /// <summary>The namespace's name under /run/netns, or its path.</summary>
    public string? Namespace { get; init; }
    /// <summary>The namespace's inode, to tell whether the namespace of that name is still the same one.</summary>
    public ulong NamespaceId { get; set; }
    /// <summary>
    /// True when Connect created the namespace: Disconnect deletes it. With the container on several networks, the
    /// endpoint that leaves first hands this over to one that stays, and the namespace goes with the last.
    /// </summary>
    public bool CreatedNamespace { get; set; }
    /// <summary>The interface inside the namespace (eth0).</summary>
    public string? InterfaceName { get; init; }
    /// <summary>The host-side veth, a port of the bridge.</summary>
    public string? HostInterface { get; init; }
    public string? MacAddress { get; init; }
    public IPAddress? IPv4Address { get; init; }
    public IPAddress? IPv6Address { get; init; }
    public int PrefixLength { get; init; }
    public int PrefixLengthV6 { get; init; }
    /// <summary>
    /// The gateway of the container's default route when this endpoint holds it (null when another network of the
    /// container does, or none is wanted): a container on several networks has one default route per family.
    /// </summary>
    public IPAddress? Gateway { get; set; }
    public IPAddress? GatewayV6 { get; set; }
    /// <summary>Docker's gw-priority: of a container's networks, the one of the highest priority holds the default route (ties: the first connected).</summary>
    public int GatewayPriority { get; init; }
    /// <summary>Connected without a default route (CNI's isDefaultGateway false): never takes one over from another network.</summary>
    public bool NoDefaultRoute { get; init; }
    public List<PublishedPort> Ports { get; init; } = [];
    /// <summary>More names of the container on the network (docker network connect --alias), in the other containers' hosts files.</summary>
    public List<string> Aliases { get; init; } = [];
    /// <summary>Container mode: the id of the endpoint whose namespace this one shares.</summary>
    public string? SharedWith { get; init; }
    /// <summary>Who made the endpoint: null for the cmdlets and the library, "cni" for the CNI plugin (whose GC collects only its own).</summary>
    public string? Origin { get; init; }
    public DateTimeOffset Created { get; init; }
    public RecordState State { get; set; } = RecordState.Ready;
    public int OwnerPid { get; init; }

    public override string ToString() => $"{Container} on {Network}";
}

/// <summary>An <see cref="IPAddress"/> as its text ("172.17.0.2", "fd00::2").</summary>
public sealed class IPAddressJsonConverter : JsonConverter<IPAddress>
{
    public override IPAddress Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        IPAddress.TryParse(reader.GetString() ?? "", out var a) ? a : throw new JsonException($"'{reader.GetString()}' is not an IP address");
    public override void Write(Utf8JsonWriter writer, IPAddress value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

/// <summary>An <see cref="IPNetwork"/> as its text ("172.17.0.0/16").</summary>
public sealed class IPNetworkJsonConverter : JsonConverter<IPNetwork>
{
    public override IPNetwork Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        IPNetwork.TryParse(reader.GetString() ?? "", out var n) ? n : throw new JsonException($"'{reader.GetString()}' is not an IP prefix");
    public override void Write(Utf8JsonWriter writer, IPNetwork value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

/// <summary>
/// A state file that cannot be read (empty, cut short, not a record): the network's record (<see cref="EndpointId"/>
/// null) or one endpoint's, and why.
/// </summary>
public sealed record CorruptRecord(string Path, string Network, string? EndpointId, string Damage);
