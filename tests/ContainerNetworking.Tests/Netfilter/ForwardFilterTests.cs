using System.Net;
using System.Text.Json;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Netfilter;

/// <summary>
/// The forward filter's parity with Docker 28 and netavark: no direct access to container addresses from outside
/// (unless routed), published ports reachable from other networks through the host's address, and invalid packets
/// dropped, with real packets from a neighbour that routes the subnet via the host, and the rules read back with nft -j.
/// </summary>
public sealed class ForwardFilterTests : IDisposable
{
    private readonly HostTopology _t = new();
    public void Dispose() => _t.Dispose();

    private static readonly IPNetwork Subnet = IPNetwork.Parse("192.168.0.0/24");
    private const string Container = "192.168.0.2";

    private ContainerNetworking.Namespaces.NetNamespace AddContainerWithRoute()
    {
        _t.AddBridge("br0", "192.168.0.1/24");
        var a = _t.AddContainer("br0", Container + "/24", "192.168.0.1");
        // The neighbour on the uplink routes the containers' subnet via the host (moby#45610's attacker).
        Cli.InNs(_t.OutsideName, "ip", "route", "add", Subnet.ToString(), "via", HostTopology.HostAddress).Ok();
        return a;
    }

    /// <summary>The packets a rule's counter has counted.</summary>
    private static long Packets(JsonElement rule) =>
        rule.GetProperty("expr").EnumerateArray().First(e => e.TryGetProperty("counter", out _)).GetProperty("counter").GetProperty("packets").GetInt64();

    [Fact]
    public void DirectAccess_FromANeighbourRoutingTheSubnet_IsDropped_PublishedPortsWork_RoutedLetsItIn()
    {
        var a = AddContainerWithRoute();
        _t.ListenTcp(a, 80);
        _t.ListenTcp(a, 81);
        _t.ListenTcp(a, 82);
        _t.ListenUdp(a, 53);
        var fw = new ContainerFirewall(_t.Host);
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]));
        var c = IPAddress.Parse(Container);
        fw.Publish([
            new PortMappingSpec(PortProtocol.Tcp, 8080, c, 80),
            new PortMappingSpec(PortProtocol.Tcp, 8082, c, 82) { HostAddress = IPAddress.Loopback },
            new PortMappingSpec(PortProtocol.Udp, 5353, c, 53),
        ], [Subnet]);

        // the published ports answer through the host's address, and the container sees the neighbour's address
        Assert.Equal(HostTopology.OutsideAddress, HostTopology.ConnectTcp(_t.OutsideName, HostTopology.HostAddress, 8080));
        Assert.Equal(HostTopology.OutsideAddress, HostTopology.SendUdp(_t.OutsideName, HostTopology.HostAddress, 5353, 40001));
        // the container's address does not: an unpublished port, the container side of a port published on
        // 127.0.0.1, and the container side of published ports (tcp and udp)
        Assert.Null(HostTopology.ConnectTcp(_t.OutsideName, Container, 81, attempts: 1));
        Assert.Null(HostTopology.ConnectTcp(_t.OutsideName, Container, 82, attempts: 1));
        Assert.Null(HostTopology.ConnectTcp(_t.OutsideName, Container, 80, attempts: 1));
        Assert.Null(HostTopology.SendUdp(_t.OutsideName, Container, 53, 40002, attempts: 1));
        Assert.False(Cli.Ping(_t.OutsideName, Container));
        // the container still reaches the neighbour (replies come back), and the gateway is a host address as before
        _t.ListenTcp(_t.Outside, 9000);
        Assert.Equal(HostTopology.HostAddress, HostTopology.ConnectTcp(a.Name!, HostTopology.OutsideAddress, 9000));
        var drop = NetworkRules(_t.HostName, "networks").Single(r => r.GetRawText().Contains("\"drop\"") && !r.GetRawText().Contains("\"iifname\""));
        Assert.Contains("\"oifname\"", drop.GetRawText());
        Assert.Contains("\"br0\"", drop.GetRawText());
        Assert.True(Packets(drop) > 0, "the drop rule counted the neighbour's packets");

        // routed access (Docker's gateway_mode=routed): the same network, replaced in one batch, lets it in
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]) { Routed = true });
        Assert.True(Assert.Single(fw.GetBridgeNetworks()).Spec.Routed);
        Assert.Equal(HostTopology.OutsideAddress, HostTopology.ConnectTcp(_t.OutsideName, Container, 81));
        Assert.Equal(HostTopology.OutsideAddress, HostTopology.SendUdp(_t.OutsideName, Container, 53, 40003));
        Assert.DoesNotContain(NetworkRules(_t.HostName, "networks"), r => r.GetRawText().Contains("\"drop\""));
    }

    [Fact]
    public void DirectAccess_ToIPv6ContainerAddresses_IsDroppedToo()
    {
        using var t = new HostTopology(ipv6: true);
        t.AddBridge("br0", "192.168.0.1/24", "fd00:c0::1/64");
        var a = t.AddContainer("br0", Container + "/24", "192.168.0.1", "fd00:c0::2/64", "fd00:c0::1");
        Cli.InNs(t.OutsideName, "ip", "-6", "route", "add", "fd00:c0::/64", "via", HostTopology.HostAddress6).Ok();
        t.ListenTcp6(a, 80);
        var fw = new ContainerFirewall(t.Host);
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet, IPNetwork.Parse("fd00:c0::/64")]));
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 8080, IPAddress.Parse("fd00:c0::2"), 80));
        Assert.Equal(HostTopology.OutsideAddress6, HostTopology.ConnectTcp(t.OutsideName, HostTopology.HostAddress6, 8080));
        Assert.Null(HostTopology.ConnectTcp(t.OutsideName, "fd00:c0::2", 80, attempts: 1));
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet, IPNetwork.Parse("fd00:c0::/64")]) { Routed = true });
        Assert.Equal(HostTopology.OutsideAddress6, HostTopology.ConnectTcp(t.OutsideName, "fd00:c0::2", 80));
    }

    [Fact]
    public void PublishedPort_IsReachableFromAnotherNetwork_ThroughTheHost_WhileDirectTrafficStaysIsolated()
    {
        _t.AddBridge("br0", "192.168.0.1/24");
        _t.AddBridge("br1", "10.1.0.1/24");
        var a = _t.AddContainer("br0", Container + "/24", "192.168.0.1");
        var b = _t.AddContainer("br1", "10.1.0.2/24", "10.1.0.1");
        _t.ListenTcp(a, 80);
        var fw = new ContainerFirewall(_t.Host);
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]));
        fw.AddBridgeNetwork(new BridgeNetworkRules("br1", [IPNetwork.Parse("10.1.0.0/24")]));
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 8080, IPAddress.Parse(Container), 80));

        // b reaches a's published port through the host's address; b's traffic leaves its network masqueraded, so a
        // sees br0's address (Docker without the userland proxy shows the same)
        Assert.Equal("192.168.0.1", HostTopology.ConnectTcp(b.Name!, HostTopology.HostAddress, 8080));
        // direct traffic between the networks stays isolated, both ways
        Assert.Null(HostTopology.ConnectTcp(b.Name!, Container, 80, attempts: 1));
        Assert.False(Cli.Ping(b.Name!, Container));
        Assert.False(Cli.Ping(a.Name!, "10.1.0.2"));
        // an internal network's containers reach no published port of another network
        fw.AddBridgeNetwork(new BridgeNetworkRules("br1", [IPNetwork.Parse("10.1.0.0/24")]) { Internal = true });
        Assert.Null(HostTopology.ConnectTcp(b.Name!, HostTopology.HostAddress, 8080, attempts: 1));
    }

    [Fact]
    public void InvalidPackets_ToAndFromContainerNetworks_AreDropped()
    {
        var a = AddContainerWithRoute();
        _t.ListenTcp(a, 81);
        var fw = new ContainerFirewall(_t.Host);
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]) { Routed = true });
        // read back: the forward chain starts with the two invalid drops, then replies, isolation, DNAT, networks
        var forward = NetworkRules(_t.HostName, "forward").ToList();
        Assert.Equal(["cn:base invalid in", "cn:base invalid out", "cn:base established", "cn:base isolation", "cn:base published ports", "cn:base networks"],
            forward.Select(r => r.GetProperty("comment").GetString()));
        foreach (var r in forward.Take(2))
        {
            var text = r.GetRawText();
            Assert.Contains("\"@networks\"", text);
            Assert.Contains("\"invalid\"", text);
            Assert.Contains("\"drop\"", text);
        }

        // a TCP segment with SYN and FIN set is invalid to conntrack: it does not cross to the container
        long InSegs() => long.Parse(Cli.InNs(a.Name!, "awk", "/^Tcp: [0-9]/ { print $11 }", "/proc/net/snmp").Ok().Stdout.Trim());
        var before = InSegs();
        SendSynFin();
        Thread.Sleep(300);
        Assert.Equal(before, InSegs());
        Assert.Equal(1, Packets(NetworkRules(_t.HostName, "forward").ElementAt(1))); // "invalid out": to a network
        Assert.Equal(0, Packets(NetworkRules(_t.HostName, "forward").First()));

        // control: without the rule the same segment reaches the container (so the check above can fail)
        var handle = NetworkRules(_t.HostName, "forward").ElementAt(1).GetProperty("handle").GetInt64();
        NftOracle.Run(_t.HostName, "delete", "rule", "inet", ContainerFirewall.TableName, "forward", "handle", handle.ToString());
        SendSynFin();
        Thread.Sleep(300);
        Assert.True(InSegs() > before, "without the invalid drop the SYN+FIN segment crosses");
    }

    /// <summary>A TCP segment with SYN and FIN set from the neighbour to the container's port 81 (a raw socket; the kernel adds the IP header).</summary>
    private void SendSynFin()
    {
        const string script = """
import socket, struct
src, dst = socket.inet_aton('198.18.0.2'), socket.inet_aton('192.168.0.2')
hdr = struct.pack('!HHIIBBHHH', 40404, 81, 12345, 0, 5 << 4, 0x03, 64240, 0, 0)
pseudo = src + dst + struct.pack('!BBH', 0, 6, len(hdr))
data = pseudo + hdr
s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
while s >> 16: s = (s & 0xffff) + (s >> 16)
hdr = hdr[:16] + struct.pack('!H', ~s & 0xffff) + hdr[18:]
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
sock.sendto(hdr, ('192.168.0.2', 0))
""";
        Cli.InNs(_t.OutsideName, "/usr/bin/python3", "-c", script).Ok();
    }

    /// <summary>The rules of one chain of our table, as nft -j shows them.</summary>
    private static IEnumerable<JsonElement> NetworkRules(string ns, string chain) =>
        NftOracle.Items(ns, "rule").Where(r => r.GetProperty("table").GetString() == ContainerFirewall.TableName
            && r.GetProperty("family").GetString() == "inet" && r.GetProperty("chain").GetString() == chain);
}
