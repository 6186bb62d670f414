using System.Net;
using ContainerNetworking.Model;

namespace ContainerNetworking.Bench;

/// <summary>
/// "ours-model": the same scenario through the network model, as Docker's CLI would drive it: CreateNetwork (bridge,
/// gateway, forwarding, masquerade and filter rules), then per container Connect (namespace created, veth, address,
/// routes, one published port, IPAM and state on disk) and Disconnect, then RemoveNetwork. State lives in a private
/// temp directory.
/// </summary>
public sealed class OursModel : Impl
{
    private const string Network = "cnbench";
    private ContainerNetworkManager? _mgr;

    public override string Name => "ours-model";
    public override string Description => "our library, network model (CreateNetwork, Connect/Disconnect), in-process";

    public override void SetupNetwork(Topology t)
    {
        var state = Path.Combine(Cleanup.TempDir, "state-" + Guid.NewGuid().ToString("N")[..6]);
        _mgr = new ContainerNetworkManager(t.HostNs, state);
        _mgr.CreateNetwork(new NetworkSpec
        {
            Name = Network, BridgeName = Topology.Bridge, Subnet = IPNetwork.Parse(Topology.Subnet), Gateway = IPAddress.Parse(Topology.Gateway),
        });
    }

    public override void SetupContainers(Topology t, int n) => SetupContainers(t, 0, n);

    /// <summary>Containers <paramref name="from"/>…<paramref name="to"/>-1 (the profile times them one by one).</summary>
    public void SetupContainers(Topology t, int from, int to)
    {
        for (var i = from; i < to; i++)
            _mgr!.Connect(new EndpointSpec
            {
                Network = Network, Namespace = Topology.ContainerNs(i), CreateNamespace = true,
                IPv4Address = IPAddress.Parse(Topology.ContainerIp(i)), Publish = [$"{Topology.HostPort(i)}:{Topology.ContainerPort}/tcp"],
            });
    }

    public override void TeardownContainers(Topology t, int n) => TeardownContainers(t, 0, n);

    public void TeardownContainers(Topology t, int from, int to)
    {
        for (var i = from; i < to; i++) _mgr!.Disconnect(Topology.ContainerNs(i), Network);
    }

    public override void TeardownNetwork(Topology t)
    {
        _mgr!.RemoveNetwork(Network);
        _mgr = null;
    }
}
