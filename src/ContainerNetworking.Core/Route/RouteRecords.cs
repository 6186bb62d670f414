using System.Net;
using System.Net.Sockets;

namespace ContainerNetworking.Route;

/// <summary>A network interface as <c>ip -d link show</c> shows it.</summary>
public sealed record LinkInfo
{
    /// <summary>The interface index (ifindex).</summary>
    public int Index { get; init; }

    /// <summary>The interface name (IFLA_IFNAME).</summary>
    public string Name { get; init; } = "";

    /// <summary>The link kind (IFLA_INFO_KIND): "veth", "bridge", "dummy" …; null for plain devices such as lo.</summary>
    public string? Kind { get; init; }

    /// <summary>Administratively up (IFF_UP).</summary>
    public bool IsUp { get; init; }

    /// <summary>The lower layer is up (IFF_LOWER_UP): a veth whose peer is up, a bridge with a port that is up.</summary>
    public bool HasCarrier { get; init; }

    /// <summary>The operational state as iproute2 prints it: "UP", "DOWN", "UNKNOWN", "LOWERLAYERDOWN" …</summary>
    public string OperState { get; init; } = "UNKNOWN";

    /// <summary>The MTU (IFLA_MTU).</summary>
    public int Mtu { get; init; }

    /// <summary>The link-layer address in lower case, e.g. "02:42:ac:11:00:02"; null if the device has none.</summary>
    public string? MacAddress { get; init; }

    /// <summary>The ifindex of the master device (IFLA_MASTER), e.g. the bridge a port belongs to.</summary>
    public int? MasterIndex { get; init; }

    /// <summary>The name of the master device, resolved from <see cref="MasterIndex"/>.</summary>
    public string? Master { get; init; }

    /// <summary>
    /// IFLA_LINK: for a veth the peer's ifindex (what <c>ip link</c> prints as <c>veth0@if54</c> and <c>ethtool -S</c>
    /// as peer_ifindex). The index is in the peer's namespace; see <see cref="PeerNetNsId"/>.
    /// </summary>
    public int? PeerIndex { get; init; }

    /// <summary>
    /// IFLA_LINK_NETNSID: the id by which this namespace knows the namespace of the peer, when the peer lives in
    /// another namespace (compare with <see cref="RouteClient.GetNetNsId"/>); null when the peer is in the same one.
    /// </summary>
    public int? PeerNetNsId { get; init; }

    /// <summary>Bridge port settings, when the link is a port of a bridge.</summary>
    public BridgePortInfo? BridgePort { get; init; }

    /// <summary>How the link makes its IPv6 link-local address (<c>addrgenmode</c>); null when the link has no IPv6 (MTU below 1280, IPv6 off in the kernel).</summary>
    public IPv6AddressGeneration? IPv6AddressGeneration { get; init; }

    /// <summary>Packet and byte counters (IFLA_STATS64).</summary>
    public LinkStatistics? Statistics { get; init; }

    /// <summary>The IFF_* flags (ifi_flags).</summary>
    public uint Flags { get; init; }

    /// <summary>The name of the namespace the link was read from; null for the process's own namespace.</summary>
    public string? NetNamespace { get; init; }
}

/// <summary>Bridge port settings, as <c>bridge -d link show</c> shows them.</summary>
public sealed record BridgePortInfo
{
    /// <summary>Hairpin mode (IFLA_BRPORT_MODE): frames may be sent back out of the port they came in on.</summary>
    public bool Hairpin { get; init; }

    /// <summary>The bridge learns source MAC addresses on this port (IFLA_BRPORT_LEARNING).</summary>
    public bool Learning { get; init; }

    /// <summary>The port may only talk to non-isolated ports (IFLA_BRPORT_ISOLATED).</summary>
    public bool Isolated { get; init; }

    /// <summary>Unknown unicast is flooded to this port (IFLA_BRPORT_UNICAST_FLOOD).</summary>
    public bool Flood { get; init; }

    /// <summary>The STP port state (BR_STATE_*: 3 = forwarding).</summary>
    public byte State { get; init; }
}

/// <summary>Link counters (the first fields of struct rtnl_link_stats64).</summary>
public sealed record LinkStatistics
{
    public ulong RxPackets { get; init; }
    public ulong TxPackets { get; init; }
    public ulong RxBytes { get; init; }
    public ulong TxBytes { get; init; }
    public ulong RxDropped { get; init; }
    public ulong TxDropped { get; init; }
}

/// <summary>An interface address, as <c>ip addr show</c> shows it.</summary>
public sealed record AddressInfo
{
    public int InterfaceIndex { get; init; }
    public string? InterfaceName { get; init; }

    /// <summary>The local address (IFA_LOCAL, or IFA_ADDRESS where there is no IFA_LOCAL as for IPv6).</summary>
    public IPAddress Address { get; init; } = IPAddress.None;

    public int PrefixLength { get; init; }
    public AddressFamily Family { get; init; }

    /// <summary>RT_SCOPE_*: 0 global, 253 link, 254 host.</summary>
    public byte Scope { get; init; }

    public IPAddress? Broadcast { get; init; }
    public string? Label { get; init; }

    /// <summary>IFA_F_* flags (IFA_FLAGS when present, else ifa_flags).</summary>
    public uint Flags { get; init; }

    public string? NetNamespace { get; init; }
}

/// <summary>A route, as <c>ip route show</c> shows it.</summary>
public sealed record RouteInfo
{
    public AddressFamily Family { get; init; }

    /// <summary>The destination prefix; 0.0.0.0/0 or ::/0 for a default route.</summary>
    public IPNetwork Destination { get; init; }

    public IPAddress? Gateway { get; init; }
    public int? OutputInterfaceIndex { get; init; }
    public string? OutputInterface { get; init; }

    /// <summary>RTA_PRIORITY (the metric).</summary>
    public uint? Metric { get; init; }

    /// <summary>RT_SCOPE_*.</summary>
    public byte Scope { get; init; }

    /// <summary>RTPROT_*: 2 kernel, 3 boot (ip route add), 4 static.</summary>
    public byte Protocol { get; init; }

    /// <summary>RTN_*: 1 unicast, 2 local, 6 blackhole …</summary>
    public byte Type { get; init; }

    /// <summary>The routing table (254 main).</summary>
    public uint Table { get; init; }

    public IPAddress? PreferredSource { get; init; }

    /// <summary>True for a default route (prefix length 0).</summary>
    public bool IsDefault { get; init; }

    /// <summary>The gateway is taken as on-link (RTNH_F_ONLINK).</summary>
    public bool OnLink { get; init; }

    public string? NetNamespace { get; init; }
}

/// <summary>A neighbour (ARP / NDP) entry, as <c>ip neigh show nud all</c> shows it.</summary>
public sealed record NeighborInfo
{
    public int InterfaceIndex { get; init; }
    public string? InterfaceName { get; init; }
    public IPAddress Address { get; init; } = IPAddress.None;

    /// <summary>The link-layer address in lower case; null while unresolved (INCOMPLETE, FAILED).</summary>
    public string? MacAddress { get; init; }

    /// <summary>"REACHABLE", "STALE", "PERMANENT", "DELAY", "FAILED" …</summary>
    public string State { get; init; } = "NONE";

    public string? NetNamespace { get; init; }
}

/// <summary>A bridge forwarding-database entry, as <c>bridge fdb show</c> shows it.</summary>
public sealed record FdbEntry
{
    public string MacAddress { get; init; } = "";

    /// <summary>The port (or device) the entry belongs to.</summary>
    public int InterfaceIndex { get; init; }

    public string? InterfaceName { get; init; }

    /// <summary>The bridge (NDA_MASTER).</summary>
    public int? MasterIndex { get; init; }

    public string? Master { get; init; }
    public ushort? Vlan { get; init; }

    /// <summary>NUD_PERMANENT: what <c>bridge fdb</c> prints as "permanent".</summary>
    public bool Permanent { get; init; }

    /// <summary>
    /// The address belongs to this host (the kernel reports local entries, a port's or the bridge's own MAC, as
    /// permanent); false for addresses learned from traffic.
    /// </summary>
    public bool IsLocal { get; init; }

    /// <summary>NUD_* state bits.</summary>
    public uint State { get; init; }

    /// <summary>NTF_* flags (NTF_SELF, NTF_MASTER …).</summary>
    public byte Flags { get; init; }

    /// <summary>The remote VTEP of an entry on a VXLAN device (NDA_DST, <c>dst</c>); null for a bridge port's entry.</summary>
    public IPAddress? Destination { get; init; }

    public string? NetNamespace { get; init; }
}

/// <summary>Options for <see cref="RouteClient.CreateVeth"/>.</summary>
public sealed record VethOptions
{
    /// <summary>The MTU of both ends.</summary>
    public int? Mtu { get; init; }

    public string? MacAddress { get; init; }
    public string? PeerMacAddress { get; init; }

    /// <summary>Bring the local end up.</summary>
    public bool Up { get; init; }

    /// <summary>Bring the peer end up (a second request after the creation: the kernel cannot do it in the first).</summary>
    public bool PeerUp { get; init; }

    /// <summary>The bridge to enslave the local end to.</summary>
    public string? Master { get; init; }
}

/// <summary>Options for <see cref="RouteClient.CreateBridge"/>.</summary>
public sealed record BridgeOptions
{
    public int? Mtu { get; init; }
    public string? MacAddress { get; init; }
    public bool Up { get; init; }

    /// <summary>Spanning tree on or off (IFLA_BR_STP_STATE); the kernel's default (off) when null.</summary>
    public bool? Stp { get; init; }

    /// <summary>VLAN filtering (IFLA_BR_VLAN_FILTERING); the kernel's default (off) when null.</summary>
    public bool? VlanFiltering { get; init; }
}

/// <summary>
/// How a link makes its IPv6 link-local address when it comes up (the kernel's IN6_ADDR_GEN_MODE_*,
/// <c>ip link set dev NAME addrgenmode eui64|none|stable_secret|random</c>).
/// </summary>
public enum IPv6AddressGeneration : byte
{
    /// <summary>fe80:: from the MAC address (the kernel's default).</summary>
    Eui64 = 0,

    /// <summary>
    /// No link-local address: the link sends no IPv6 of its own (no duplicate address detection, no MLD reports, no
    /// router solicitations) until an address is given to it.
    /// </summary>
    None = 1,

    /// <summary>A stable private address (RFC 7217), from the namespace's stable_secret.</summary>
    StablePrivacy = 2,

    /// <summary>A random address.</summary>
    Random = 3,
}

/// <summary>Changes for <see cref="RouteClient.SetLink"/>; null leaves a setting as it is.</summary>
public sealed record LinkChanges
{
    public bool? Up { get; init; }
    public int? Mtu { get; init; }
    public string? MacAddress { get; init; }
    public string? NewName { get; init; }

    /// <summary>
    /// How the link makes its IPv6 link-local address (<c>addrgenmode</c>). Applied before <see cref="Up"/>: set
    /// together, the link comes up already in this mode.
    /// </summary>
    public IPv6AddressGeneration? IPv6AddressGeneration { get; init; }

    /// <summary>The master (bridge) to enslave the link to.</summary>
    public string? Master { get; init; }

    /// <summary>Release the link from its master (<c>nomaster</c>).</summary>
    public bool NoMaster { get; init; }
}

/// <summary>Bridge port flags for <see cref="RouteClient.SetBridgePort(string, BridgePortOptions)"/>; null leaves a flag as it is.</summary>
public sealed record BridgePortOptions
{
    public bool? Hairpin { get; init; }
    public bool? Learning { get; init; }
    public bool? Isolated { get; init; }
    public bool? Flood { get; init; }
}

/// <summary>A route to add or remove (<c>ip route add DESTINATION [via GATEWAY] [dev IF] [metric M] [scope S] [src A] [table T] [proto P]</c>).</summary>
public sealed record RouteSpec
{
    public RouteSpec() { }

    public RouteSpec(IPNetwork destination, IPAddress? gateway = null, string? @interface = null)
    {
        Destination = destination;
        Gateway = gateway;
        Interface = @interface;
    }

    public IPNetwork Destination { get; init; }
    public IPAddress? Gateway { get; init; }

    /// <summary>The output interface (dev).</summary>
    public string? Interface { get; init; }

    public uint? Metric { get; init; }

    /// <summary>RT_SCOPE_*; when null chosen as ip does: link for a route without gateway, universe otherwise.</summary>
    public byte? Scope { get; init; }

    /// <summary>The preferred source address (src).</summary>
    public IPAddress? Source { get; init; }

    public uint Table { get; init; } = RtnlConstants.RT_TABLE_MAIN;

    /// <summary>RTPROT_*; RTPROT_BOOT (3) by default, as <c>ip route add</c> uses.</summary>
    public byte Protocol { get; init; } = RtnlConstants.RTPROT_BOOT;

    /// <summary>
    /// Take the gateway as directly reachable on the interface even though no prefix of it covers the gateway
    /// (<c>onlink</c>, RTNH_F_ONLINK): what flannel's vxlan routes use (<c>via 10.244.2.0 dev flannel.1 onlink</c>).
    /// </summary>
    public bool OnLink { get; init; }
}
