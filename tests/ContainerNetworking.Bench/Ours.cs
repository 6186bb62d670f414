using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;

namespace ContainerNetworking.Bench;

/// <summary>The implementations that go through our library, in-process.</summary>
public static class Ours
{
    public static IEnumerable<Impl> Create()
    {
        yield return new OursLowLevel();
        yield return new OursModel();
    }
}

/// <summary>
/// "ours": the low-level path, the library as a program would call it: per container NetNamespace.BeginCreate (the
/// kernel makes the namespace on a worker thread while this one publishes the container's port), one
/// RouteClient.CreateVethIndexes (peer eth0 straight into the container, host end up on the bridge given by index, the
/// echo naming eth0's index), lo up, eth0 without IPv6 of its own (addrgenmode none, as Connect on an IPv4-only
/// network), eth0 up, the address and the default route in one datagram over the container's
/// own connection (RouteClient.Batch);
/// once per network the bridge, its address, forwarding and masquerade.
/// </summary>
public sealed partial class OursLowLevel : Impl
{
    private static readonly IPAddress Gw = IPAddress.Parse(Topology.Gateway);
    private readonly Dictionary<int, NetNamespace> _containers = [];

    public override string Name => "ours";
    public override string Description => "our library, low-level calls (Route + Netfilter), in-process";

    public override void SetupNetwork(Topology t)
    {
        var host = t.HostNs;
        host.Rtnl.CreateBridge(Topology.Bridge, new BridgeOptions { Up = true });
        host.Rtnl.AddAddress(Topology.Bridge, Gw, Topology.PrefixLength);
        IpForwarding.Set(host, AddressFamily.InterNetwork, true);
        AddMasquerade(t);
    }

    public override void SetupContainers(Topology t, int n)
    {
        var host = t.HostNs.Rtnl;
        var veth = new VethOptions { Up = true, Master = Topology.Bridge };
        var bridge = host.GetLink(Topology.Bridge).Index;
        for (var i = 0; i < n; i++)
        {
            // The namespace is made on a worker thread while this one publishes the port (nft needs no namespace).
            var pending = NetNamespace.BeginCreate(Topology.ContainerNs(i));
            Publish(t, i);
            var c = pending.Wait();
            _containers[i] = c;
            // The echo of the new veth names eth0's ifindex: the container's requests need no lookup and go in one
            // datagram. Not PeerUp: kernel 6.18 refuses IFF_UP on the peer in the create request with ENOTCONN.
            var (_, eth0) = host.CreateVethIndexes(Topology.HostVeth(i), "eth0", c.Handle, veth, bridge);
            c.Rtnl.Batch()
                .SetLinkUp(1, "lo")
                .SetIPv6AddressGeneration(eth0, "eth0", IPv6AddressGeneration.None)
                .SetLinkUp(eth0, "eth0")
                .AddAddress(eth0, "eth0", IPAddress.Parse(Topology.ContainerIp(i)), Topology.PrefixLength)
                .AddDefaultRoute(Gw, eth0, "eth0")
                .Send();
        }
    }

    public override void TeardownContainers(Topology t, int n)
    {
        for (var i = 0; i < n; i++)
        {
            Unpublish(t, i);
            // No DeleteLink: deleting one veth costs a synchronous RCU grace period in the kernel (≈20-30 ms here, the
            // floor shows the same). Deleting the namespace takes eth0 and its host end with it, in the kernel's
            // batched namespace cleanup; the harness reports how long the kernel takes to finish ("settled").
            if (_containers.Remove(i, out var c)) c.Dispose();
            NetNamespace.Delete(Topology.ContainerNs(i));
        }
    }

    public override void TeardownNetwork(Topology t)
    {
        RemoveMasquerade(t);
        t.HostNs.Rtnl.DeleteLink(Topology.Bridge);
    }
}
