using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netlink;
using ContainerNetworking.Values;
using static ContainerNetworking.Route.RtnlConstants;

namespace ContainerNetworking.Route;

public sealed partial class RouteClient
{
    /// <summary>
    /// Requests of this namespace to send together (<see cref="RouteRequestBatch.Send"/>): one sendmsg, the answers read
    /// together, where each call of the client waits for its own ACK. For a caller that knows the ifindexes.
    /// </summary>
    public RouteRequestBatch Batch() => new(this);
}

/// <summary>
/// Several rtnetlink requests of one namespace in one datagram (<see cref="NetlinkConnection.ExecuteMany"/>), built with
/// the same writers as the single calls (the golden-tested bytes), links named by ifindex so that no lookup is needed:
/// what a container's set-up sends after its veth exists (<c>ip -n NS link set lo up; ip -n NS link set eth0 up;
/// ip -n NS addr add A/L dev eth0; ip -n NS route add default via GW dev eth0</c> in one write). The kernel applies them
/// in order and does not stop at a refused one: the error names the first refused request and how many before it
/// were applied (<c>Data["Applied"]</c>).
/// </summary>
public sealed class RouteRequestBatch
{
    private readonly RouteClient _client;
    private readonly List<NetlinkRequest> _requests = [];

    internal RouteRequestBatch(RouteClient client) => _client = client;

    /// <summary>The requests queued and not sent yet.</summary>
    public int Count => _requests.Count;

    /// <summary><c>ip link set dev NAME up|down</c> for the link of ifindex <paramref name="index"/> (<paramref name="name"/> for messages).</summary>
    public RouteRequestBatch SetLinkUp(int index, string name, bool up = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        var changes = new LinkChanges { Up = up };
        _requests.Add(new(RTM_NEWLINK, 0, w => RouteClient.WriteSetLink(w, index, name, changes, null, null), $"set link {name} {(up ? "up" : "down")}"));
        return this;
    }

    /// <summary>
    /// <c>ip link set dev NAME addrgenmode MODE</c> for the link of ifindex <paramref name="index"/>: queued before the
    /// link's up, it comes up in that mode (<see cref="IPv6AddressGeneration.None"/>: without a link-local address).
    /// </summary>
    public RouteRequestBatch SetIPv6AddressGeneration(int index, string name, IPv6AddressGeneration mode)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        RtnlValidation.ValidateAddressGeneration(mode);
        var changes = new LinkChanges { IPv6AddressGeneration = mode };
        _requests.Add(new(RTM_NEWLINK, 0, w => RouteClient.WriteSetLink(w, index, name, changes, null, null),
            $"set link {name} addrgenmode {RouteClient.AddressGenerationName(mode)}"));
        return this;
    }

    /// <summary><c>ip addr add ADDRESS/PREFIX dev NAME</c> (see <see cref="RouteClient.AddAddress"/>) on the link of ifindex <paramref name="index"/>.</summary>
    public RouteRequestBatch AddAddress(int index, string name, IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        IPPrefix.ValidateLength(address, prefixLength);
        _requests.Add(new(RTM_NEWADDR, (ushort)(Nl.NLM_F_CREATE | Nl.NLM_F_EXCL), w => RouteClient.WriteAddress(w, index, address, prefixLength, add: true),
            $"add address {address}/{prefixLength} to {name}"));
        return this;
    }

    /// <summary><c>ip route add default via GATEWAY dev NAME</c> over the link of ifindex <paramref name="index"/>.</summary>
    public RouteRequestBatch AddDefaultRoute(IPAddress gateway, int index, string name)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        var route = new RouteSpec
        {
            Destination = new IPNetwork(gateway.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0),
            Gateway = gateway,
            Interface = name,
        };
        _requests.Add(new(RTM_NEWROUTE, (ushort)(Nl.NLM_F_CREATE | Nl.NLM_F_EXCL), w => RouteClient.WriteRoute(w, route, index, delete: false),
            $"add route default via {gateway} dev {name}"));
        return this;
    }

    /// <summary>Sends the queued requests in one datagram and waits for every answer; the batch is empty afterwards.</summary>
    public void Send()
    {
        if (_requests.Count == 0) return;
        var requests = _requests.ToArray();
        _requests.Clear();
        _client.Connection.ExecuteMany(requests);
    }
}
