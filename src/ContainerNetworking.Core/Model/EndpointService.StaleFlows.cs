using System.Net;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Model;

// Conntrack entries a removed container left: noted by Disconnect, flushed by the Connect that uses the address or UDP
// host port again (see StateStore.PendingDir for why not at once).
public sealed partial class EndpointService
{
    /// <summary>The UDP host ports an endpoint publishes.</summary>
    internal static IEnumerable<int> UdpHostPorts(ContainerEndpoint ep) =>
        ep.Ports.Where(p => p.Protocol == PortProtocol.Udp).Select(p => (int)p.HostPort).Distinct();

    /// <summary>Notes the endpoint's addresses and UDP host ports as "conntrack flush pending" (before its leases go).</summary>
    internal void NoteStaleFlows(ContainerEndpoint ep)
    {
        if (ep.Mode == EndpointMode.Bridge) State.NoteStaleFlows(ep.Network, Addresses(ep), UdpHostPorts(ep));
    }

    /// <summary>
    /// Before <paramref name="addresses"/> or <paramref name="udpPorts"/> of <paramref name="network"/> are used again:
    /// flushes the conntrack entries a removed container left for those of them that are pending, then forgets them.
    /// Nothing pending (the usual case): a lookup each, no conntrack request.
    /// </summary>
    internal void FlushStaleFlows(string network, IEnumerable<IPAddress?> addresses, IEnumerable<int> udpPorts)
    {
        var (a, p) = State.PendingStaleFlows(network, addresses.OfType<IPAddress>(), udpPorts);
        if (a.Count == 0 && p.Count == 0) return;
        Rules.FlushConntrack(a, p);
        State.ClearStaleFlows(network, a, p);
    }

    /// <summary>Flushes everything pending of a network (before it is removed: its subnet may be created again).</summary>
    internal void FlushAllStaleFlows(string network)
    {
        var (a, p) = State.PendingStaleFlows(network);
        if (a.Count == 0 && p.Count == 0) return;
        Rules.FlushConntrack(a, p);
        State.ClearStaleFlows(network, a, p);
    }

    /// <summary>The plan step's words for what a Connect flushes (pending entries only, so "if").</summary>
    private static string DescribeStaleFlush(string what) => $"conntrack -D for {what} if a removed container left entries of it";
}
