using System.Net;
using ContainerNetworking.Netlink;

namespace ContainerNetworking.Netfilter;

/// <summary>
/// What a host must change besides its ruleset for some rules to work, asked for by the firewall and provided by the
/// layer above (Namespaces implements it with sysctls and route lookups): Netfilter itself speaks only nf_tables and
/// conntrack. Today that is loopback routing: a connection from the host's 127.0.0.1 to a published port is
/// translated to a container, and its packets may leave through the container's bridge only when that interface
/// routes loopback-sourced packets (<c>net.ipv4.conf.IF.route_localnet</c>).
/// </summary>
public interface IHostSettings
{
    /// <summary>
    /// Lets packets with a loopback source leave through <paramref name="interfaceName"/> (or stops it):
    /// <c>sysctl -w net.ipv4.conf.IF.route_localnet=1</c>, on that interface only. Throws IOException or
    /// UnauthorizedAccessException when the setting cannot be changed (no such interface yet, no permission).
    /// </summary>
    void SetLoopbackRouting(string interfaceName, bool enabled);

    /// <summary>
    /// The same for the interface of index <paramref name="interfaceIndex"/>; nothing for lo itself.
    /// </summary>
    void SetLoopbackRouting(int interfaceIndex, bool enabled);

    /// <summary>
    /// The index of the interface the host routes <paramref name="destination"/> through (<c>ip route get ADDRESS</c>),
    /// or null. Throws NetlinkException or ContainerNetworkingException when there is no route.
    /// </summary>
    int? RouteInterfaceIndex(IPAddress destination);
}

/// <summary>
/// A namespace as Netfilter sees it, implemented by the layer that owns namespaces (NetNamespace): its nf_tables
/// client, its nfnetlink connection (for conntrack), and its <see cref="IHostSettings"/>.
/// </summary>
public interface INetfilterNamespace
{
    /// <summary>The nf_tables client of the namespace.</summary>
    NftClient Nft { get; }

    /// <summary>The namespace's NETLINK_NETFILTER connection (conntrack goes over it).</summary>
    NetlinkConnection NetfilterConnection { get; }

    /// <summary>The host settings of the namespace.</summary>
    IHostSettings HostSettings { get; }
}
