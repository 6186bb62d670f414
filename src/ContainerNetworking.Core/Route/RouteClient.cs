using ContainerNetworking.Netlink;

namespace ContainerNetworking.Route;

/// <summary>rtnetlink, typed: links, addresses, routes, neighbours and the bridge FDB of one namespace.</summary>
public sealed partial class RouteClient
{
    private readonly NetlinkConnection _conn;

    public RouteClient(NetlinkConnection connection) => _conn = connection;
}
