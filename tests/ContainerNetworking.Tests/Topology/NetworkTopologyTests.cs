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
        // The kernel raises a veth's operstate (linkwatch) a moment after both ends are up; the drawing shows operstate.
        var until = DateTime.UtcNow.AddSeconds(10);
        while ((host.Rtnl.GetLink("veth1_p").OperState != "UP" || net1.Rtnl.GetLink("eth0").OperState != "UP") && DateTime.UtcNow < until)
            Thread.Sleep(20);

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

    /// <summary>
    /// Two nodes joined as flannel's vxlan backend joins them (a VXLAN device each, a route, a neighbour and an FDB entry
    /// for the other), and a third that reaches the first's pods by a host-gw route: each node's overlay is read from the
    /// kernel, the peers are named from the given node names or else by the namespace holding the remote address, and
    /// the renderers draw one overlay link per node pair.
    /// </summary>
    [Fact]
    public void OverlaysBetweenNodesAreDrawnWithTheirPeersAndOneLinkPerNodePair()
    {
        var sw = _nss.Create("switch");
        sw.Rtnl.CreateBridge("under0", new BridgeOptions { Up = true });
        var nodes = new[] { _nss.Create("node1"), _nss.Create("node2"), _nss.Create("node3") };
        var macs = new[] { "02:00:00:00:01:01", "02:00:00:00:01:02" };
        for (var i = 0; i < nodes.Length; i++)
        {
            sw.Rtnl.CreateVeth($"port{i}", "eth0", nodes[i].Handle, new VethOptions { Up = true, Master = "under0" });
            nodes[i].Rtnl.SetLinkUp("eth0");
            nodes[i].Rtnl.AddAddress("eth0", IPAddress.Parse($"198.18.56.{11 + i}"), 24);
        }
        for (var i = 0; i < 2; i++)
        {
            nodes[i].Rtnl.CreateVxlan("flannel.1", new VxlanOptions { Vni = 1, Local = IPAddress.Parse($"198.18.56.{11 + i}"), Underlay = "eth0", MacAddress = macs[i], Up = true });
            nodes[i].Rtnl.AddAddress("flannel.1", IPAddress.Parse($"10.244.{1 + i}.0"), 32);
        }
        for (var i = 0; i < 2; i++)
        {
            var o = 1 - i;
            var vtep = IPAddress.Parse($"10.244.{1 + o}.0");
            nodes[i].Rtnl.AddNeighbor("flannel.1", vtep, macs[o]);
            nodes[i].Rtnl.AddFdb("flannel.1", macs[o], IPAddress.Parse($"198.18.56.{11 + o}"));
            nodes[i].Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse($"10.244.{1 + o}.0/24"), vtep, "flannel.1") { OnLink = true });
        }
        nodes[2].Rtnl.AddRoute(new RouteSpec(IPNetwork.Parse("10.244.1.0/24"), IPAddress.Parse("198.18.56.11"), "eth0"));

        var names = new Dictionary<string, string> { ["198.18.56.12"] = "worker-b" };
        var topo = NetworkTopology.Read([sw, .. nodes], nodeNames: names);

        var n1 = topo.Namespaces.Single(n => n.Name == nodes[0].Name);
        var vx = Assert.Single(n1.Overlays);
        Assert.Equal(("flannel.1", 1, "198.18.56.11", 8472), (vx.Device, vx.Vni, vx.Local, vx.Port));
        var peer = Assert.Single(vx.Peers);
        Assert.Equal(("198.18.56.12", macs[1], "worker-b", nodes[1].Name), (peer.Remote, peer.MacAddress, peer.Node, peer.Namespace));
        Assert.Equal(["10.244.2.0/24"], peer.Subnets);
        var back = Assert.Single(topo.Namespaces.Single(n => n.Name == nodes[1].Name).Overlays).Peers.Single();
        Assert.Equal(("198.18.56.11", (string?)null, nodes[0].Name), (back.Remote, back.Node, back.Namespace));
        Assert.Empty(n1.GatewayRoutes);
        var gw = Assert.Single(topo.Namespaces.Single(n => n.Name == nodes[2].Name).GatewayRoutes);
        Assert.Equal(("10.244.1.0/24", "198.18.56.11", "eth0", nodes[0].Name), (gw.Destination, gw.Gateway, gw.Device, gw.GatewayNamespace));

        var text = topo.ToText();
        Assert.Contains("flannel.1 vxlan UNKNOWN 10.244.1.0/32  vni 1 local 198.18.56.11 dstport 8472", text);
        Assert.Contains($"└─ peer 198.18.56.12 (worker-b) {macs[1]} → 10.244.2.0/24", text);
        Assert.Contains($"peer 198.18.56.11 ({nodes[0].Name}) {macs[0]} → 10.244.1.0/24", text);
        Assert.Contains($"└─ route 10.244.1.0/24 via 198.18.56.11 dev eth0 ({nodes[0].Name})", text);

        // node1-node2 over vxlan (once, though each lists the other), node3-node1 host-gw.
        var links = topo.OverlayLinks;
        Assert.Equal(2, links.Count);
        Assert.Contains(links, l => l.Kind == "vxlan" && new[] { l.A.Namespace, l.B!.Namespace }.Order().SequenceEqual(new[] { nodes[0].Name!, nodes[1].Name! }.Order()));
        Assert.Contains(links, l => l.Kind == "host-gw" && l.A == new TopologyEndpointRef(nodes[2].Name!, "eth0") && l.B == new TopologyEndpointRef(nodes[0].Name!, "eth0"));

        var dot = topo.ToDot();
        Assert.Equal(2, dot.Split('\n').Count(l => l.Contains("class=overlay", StringComparison.Ordinal)));
        if (File.Exists("/usr/bin/dot"))
        {
            var path = Path.GetTempFileName();
            File.WriteAllText(path, dot);
            try { Cli.Run("dot", "-Tsvg", "-o", "/dev/null", path).Ok(); }
            finally { File.Delete(path); }
        }
        var mermaid = topo.ToMermaid();
        Assert.Contains("-.-|vxlan 1|", mermaid);
        Assert.Contains("-.-|host-gw|", mermaid);
    }

    [Fact]
    public void ARemoteVtepOutsideTheNamespacesReadIsDrawnAsARemoteNode()
    {
        var node = _nss.Create("node");
        node.Rtnl.CreateVeth("under0", "under0p", options: new VethOptions { Up = true });
        node.Rtnl.AddAddress("under0", IPAddress.Parse("198.18.57.1"), 24);
        node.Rtnl.CreateVxlan("vx0", new VxlanOptions { Vni = 42, Local = IPAddress.Parse("198.18.57.1"), Underlay = "under0", Up = true });
        node.Rtnl.AddFdb("vx0", "02:00:00:00:02:02", IPAddress.Parse("198.18.57.9"));

        var topo = NetworkTopology.Read([node]);
        var peer = Assert.Single(Assert.Single(topo.Namespaces[0].Overlays).Peers);
        Assert.Null(peer.Namespace);
        Assert.Empty(peer.Subnets);
        var link = Assert.Single(topo.OverlayLinks);
        Assert.Null(link.B);
        Assert.Equal("198.18.57.9", link.Remote);
        Assert.Contains("remote 198.18.57.9", topo.ToDot());
        Assert.Contains("{{\"remote 198.18.57.9\"}}", topo.ToMermaid());
    }
}
