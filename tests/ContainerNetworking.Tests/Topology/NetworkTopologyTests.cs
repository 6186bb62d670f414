using System.Net;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Route;
using ContainerNetworking.Tests.Fixtures;
using ContainerNetworking.Topology;

namespace ContainerNetworking.Tests.Topology;

public sealed class NetworkTopologyTests : IDisposable
{
    private readonly TestNamespaces _nss = new();
    public void Dispose() => _nss.Dispose();

    /// <summary>Scenario S000's picture: net1's eth0 paired with veth1_p, a port of br0 192.168.0.1/24 in the host.</summary>
    [Fact]
    public void S000_IsDrawnWithBridgePortsVethPeersAndAddresses()
    {
        var host = _nss.Create("host");
        var net1 = _nss.Create("net1");
        host.Rtnl.CreateBridge("br0", new BridgeOptions { Up = true });
        host.Rtnl.AddAddress("br0", IPAddress.Parse("192.168.0.1"), 24);
        host.Rtnl.CreateVeth("veth1_p", "eth0", net1.Handle, new VethOptions { Up = true, Master = "br0" });
        net1.Rtnl.SetLinkUp("eth0");
        net1.Rtnl.AddAddress("eth0", IPAddress.Parse("192.168.0.2"), 24);

        new ContainerFirewall(host).Publish(new PortMappingSpec(PortProtocol.Tcp, 8088, IPAddress.Parse("192.168.0.2"), 80));

        var topo = NetworkTopology.Read([host, net1], NetworkTopology.ReadPublishedPorts);

        var hostView = topo.Namespaces.Single(n => n.Name == host.Name);
        var port = hostView.Links.Single(l => l.Name == "veth1_p");
        Assert.Equal("br0", port.Master);
        Assert.Equal(new TopologyEndpointRef(net1.Name!, "eth0"), port.Peer);
        var eth0 = topo.Namespaces.Single(n => n.Name == net1.Name).Links.Single(l => l.Name == "eth0");
        Assert.Equal(new TopologyEndpointRef(host.Name!, "veth1_p"), eth0.Peer);
        Assert.Contains("192.168.0.2/24", eth0.Addresses);
        Assert.Single(topo.VethPairs);

        var text = topo.ToText();
        var lines = text.Split('\n');
        var bridgeLine = Array.FindIndex(lines, l => l.Contains("br0 bridge") && l.Contains("192.168.0.1/24"));
        Assert.True(bridgeLine >= 0, text);
        // The port is drawn under its bridge, with its peer.
        Assert.Contains($"veth1_p veth UP  ⇄ {net1.Name}:eth0", lines[bridgeLine + 1]);
        Assert.Contains("publish tcp *:8088 → 192.168.0.2:80", text);

        var mermaid = topo.ToMermaid();
        Assert.StartsWith("flowchart LR", mermaid);
        Assert.Contains("<== veth ==>", mermaid);
        Assert.Contains(" --- ", mermaid);

        var dot = topo.ToDot();
        if (File.Exists("/usr/bin/dot"))
        {
            var path = Path.GetTempFileName();
            File.WriteAllText(path, dot);
            try { Cli.Run("dot", "-Tsvg", "-o", "/dev/null", path).Ok(); }
            finally { File.Delete(path); }
        }
        Assert.Contains("style=bold", dot);
    }

    [Fact]
    public void DownLinksAndUnpairedVethsAreShownAsSuch()
    {
        var host = _nss.Create("host");
        host.Rtnl.CreateVeth("va", "vb");
        var topo = NetworkTopology.Read([host]);
        var va = topo.Namespaces[0].Links.Single(l => l.Name == "va");
        Assert.False(va.IsUp);
        Assert.Equal(new TopologyEndpointRef(host.Name!, "vb"), va.Peer);
        Assert.Contains("va veth DOWN", topo.ToText());
    }
}
