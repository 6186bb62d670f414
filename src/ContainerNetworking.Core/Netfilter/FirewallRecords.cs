using System.Net;

namespace ContainerNetworking.Netfilter;

/// <summary>
/// What <see cref="ContainerFirewall.AddMasquerade"/> should do: masquerade (or SNAT to <see cref="SnatAddress"/>)
/// traffic from <see cref="Source"/> unless it leaves through <see cref="ExcludeOutInterface"/> (its own bridge), i.e.
/// <c>iptables -t nat -A POSTROUTING -s SOURCE ! -o BRIDGE -j MASQUERADE</c>.
/// </summary>
public sealed record MasqueradeSpec(IPNetwork Source)
{
    /// <summary>The bridge the prefix lives behind: traffic leaving through it is not translated (<c>! -o br0</c>).</summary>
    public string? ExcludeOutInterface { get; init; }
    /// <summary>A fixed source address (SNAT) instead of the outgoing interface's (masquerade).</summary>
    public IPAddress? SnatAddress { get; init; }
    /// <summary>Who the rule belongs to; written into the rule's comment.</summary>
    public string? Owner { get; init; }
}

/// <summary>A masquerade rule as read back from the kernel: its spec, handle, owner comment and counters.</summary>
public sealed record NatMasquerade(IPNetwork Source, string? ExcludeOutInterface, IPAddress? SnatAddress, string? Owner,
    ulong Handle, ulong Packets, ulong Bytes, string Comment);

/// <summary>
/// A port to publish, as <c>docker run -p [HOSTADDR:]HOSTPORT[-END]:CONTAINERPORT[-END]/PROTO</c>: host port (or the range
/// <see cref="HostPort"/>–<see cref="HostPortEnd"/>) to the container's address and port (range of the same length).
/// </summary>
public sealed record PortMappingSpec(PortProtocol Protocol, int HostPort, IPAddress ContainerAddress, int ContainerPort)
{
    /// <summary>The last host port of a range; null for a single port.</summary>
    public int? HostPortEnd { get; init; }
    /// <summary>The last container port of a range; null means the range's length follows the host side.</summary>
    public int? ContainerPortEnd { get; init; }
    /// <summary>Publish on this host address only; null (or 0.0.0.0 / ::) for every host address.</summary>
    public IPAddress? HostAddress { get; init; }
    /// <summary>Who the mapping belongs to; written into the map elements' comments.</summary>
    public string? Owner { get; init; }
    /// <summary>
    /// Part of a range published earlier, put back: the range (first and last host port) its comment names, so that the
    /// elements are those the whole range had. Null: the mapping's own range.
    /// </summary>
    internal (int First, int Last)? PublishedRange { get; init; }
}

/// <summary>A published port (range) as read back from the kernel's maps, with the elements' counters summed.</summary>
public sealed record PortMapping(PortProtocol Protocol, IPAddress? HostAddress, int HostPort, int HostPortEnd,
    IPAddress ContainerAddress, int ContainerPort, int ContainerPortEnd, string? Owner, ulong Packets, ulong Bytes)
{
    public override string ToString() =>
        $"{(HostAddress is null ? "" : HostAddress + ":")}{HostPort}{(HostPortEnd != HostPort ? "-" + HostPortEnd : "")} -> " +
        $"{ContainerAddress}:{ContainerPort}{(ContainerPortEnd != ContainerPort ? "-" + ContainerPortEnd : "")}/{Protocol.ToString().ToLowerInvariant()}";
}

/// <summary>
/// The firewall of one bridge network, as Docker's bridge driver sets it up: masquerade out, isolation from the other
/// networks, inter-container communication on the bridge (ICC), an internal network without outside access.
/// </summary>
public sealed record BridgeNetworkRules(string Bridge, IReadOnlyList<IPNetwork> Subnets)
{
    /// <summary>Masquerade the subnets' traffic that leaves through another interface (Docker: ip-masquerade).</summary>
    public bool Masquerade { get; init; } = true;
    /// <summary>Containers on this bridge may talk to each other (Docker: enable_icc).</summary>
    public bool InterContainerCommunication { get; init; } = true;
    /// <summary>No traffic in from or out to other interfaces (Docker: --internal).</summary>
    public bool Internal { get; init; }
    /// <summary>
    /// Make ports published on the host's 127.0.0.1 reach containers on this bridge: sets route_localnet on this
    /// bridge only (never globally); the table's guard drops packets to 127.0.0.0/8 from any other interface.
    /// </summary>
    public bool LoopbackPublishing { get; init; } = true;
    /// <summary>
    /// Packets routed to the subnet from other interfaces reach the containers (Docker's gateway_mode=routed, which
    /// also turns NAT off: combine with <see cref="Masquerade"/> false for that). By default only published ports get in
    /// from outside, translated, as with Docker 28: a neighbour with a route to the subnet via this host is dropped.
    /// </summary>
    public bool Routed { get; init; }
    /// <summary>Who the network belongs to; written into every rule's comment.</summary>
    public string? Owner { get; init; }
}

/// <summary>A bridge network's firewall as read back: its spec, its rules (handles, counters) and any warnings.</summary>
public sealed record BridgeNetworkFirewall(BridgeNetworkRules Spec, IReadOnlyList<NftRule> Rules, IReadOnlyList<string> Warnings);

/// <summary>
/// Two bridge networks allowed to talk to each other despite the isolation between networks, as read back: the bridges
/// (in ordinal order), the owner from the rules' comment, and the rules (one per direction, with counters).
/// </summary>
public sealed record AllowedNetworkPair(string BridgeA, string BridgeB, string? Owner, IReadOnlyList<NftRule> Rules);
