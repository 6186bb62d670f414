using System.Net;

namespace ContainerNetworking.Route;

/// <summary>Options for <see cref="RouteClient.CreateVxlan"/> (<c>ip link add NAME type vxlan id VNI …</c>).</summary>
public sealed record VxlanOptions
{
    /// <summary>The VXLAN network identifier (id), 1-16777215.</summary>
    public int Vni { get; init; } = 1;

    /// <summary>The UDP destination port (dstport): flannel's 8472 by default; 4789 is IANA's.</summary>
    public int Port { get; init; } = 8472;

    /// <summary>The local VTEP address (local): the source of the encapsulated packets.</summary>
    public IPAddress? Local { get; init; }

    /// <summary>The underlay interface (dev) the encapsulated packets leave through.</summary>
    public string? Underlay { get; init; }

    /// <summary>Learn remote MAC addresses from traffic; false (<c>nolearning</c>) when the FDB is programmed, as flannel does.</summary>
    public bool Learning { get; init; }

    public int? Mtu { get; init; }
    public string? MacAddress { get; init; }
    public bool Up { get; init; }
}

/// <summary>The VXLAN settings of a link, as <c>ip -d link show</c> prints them.</summary>
public sealed record VxlanInfo
{
    public int Vni { get; init; }
    public int Port { get; init; }
    public IPAddress? Local { get; init; }
    public int? UnderlayIndex { get; init; }
    public bool Learning { get; init; }
}
