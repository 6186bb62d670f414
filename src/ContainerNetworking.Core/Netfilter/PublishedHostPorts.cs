using System.Buffers.Binary;
using System.Net;
using static ContainerNetworking.Netfilter.FirewallLayout;

namespace ContainerNetworking.Netfilter;

/// <summary>
/// Host ports held in the port maps, as read at one moment (<see cref="ContainerFirewall.GetPublishedHostPorts"/>): which
/// protocol and port each map's elements take, on every address of a family or on one address.
/// </summary>
public sealed class PublishedHostPorts
{
    private readonly HashSet<(bool V6, PortProtocol Protocol, int Port)> _everyAddress = [];
    private readonly HashSet<(bool V6, IPAddress Host, PortProtocol Protocol, int Port)> _onAddress = [];
    private readonly HashSet<(bool V6, PortProtocol Protocol, int Port)> _onSomeAddress = [];

    internal PublishedHostPorts()
    {
    }

    /// <summary>Notes an element of <paramref name="map"/> (one of the four port maps) by its key.</summary>
    internal void Add(string map, byte[] key)
    {
        var v6 = map is MapPorts6 or MapHostPorts6;
        var alen = map is MapHostPorts4 or MapHostPorts6 ? v6 ? 16 : 4 : 0;
        if (key.Length < alen + 8) return;
        var protocol = (PortProtocol)key[alen];
        var port = BinaryPrimitives.ReadUInt16BigEndian(key.AsSpan(alen + 4));
        if (alen == 0)
        {
            _everyAddress.Add((v6, protocol, port));
            return;
        }
        _onAddress.Add((v6, new IPAddress(key.AsSpan(0, alen)), protocol, port));
        _onSomeAddress.Add((v6, protocol, port));
    }

    /// <summary>
    /// True when host port <paramref name="hostPort"/> of <paramref name="protocol"/> is held on
    /// <paramref name="hostAddress"/> or in a way that overlaps it: on every address of its family (of either, for none:
    /// Docker's bare <c>8080:80</c>), on that address, or, for 0.0.0.0, :: and none, on any address of the family.
    /// </summary>
    public bool Holds(PortProtocol protocol, int hostPort, IPAddress? hostAddress = null)
    {
        var (families, host) = ContainerFirewall.Lookup(hostAddress);
        if (host is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6, ScopeId: not 0 }) host = new IPAddress(host.GetAddressBytes()); // keys carry no scope
        foreach (var v6 in families)
        {
            if (_everyAddress.Contains((v6, protocol, hostPort))) return true;
            if (host is null ? _onSomeAddress.Contains((v6, protocol, hostPort)) : _onAddress.Contains((v6, host, protocol, hostPort))) return true;
        }
        return false;
    }
}
