using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Netfilter;

/// <summary>
/// Publishing many mappings in one batch, unpublishing by key, the counterpart-map conflict check, and deleting
/// ICMP conntrack entries (S000 topology: net1 192.168.0.2 behind br0, the host's uplink 198.18.0.1).
/// </summary>
public sealed class PublishAndConntrackTests : IDisposable
{
    private readonly HostTopology _t = new();
    public void Dispose() => _t.Dispose();

    private static readonly IPNetwork Subnet = IPNetwork.Parse("192.168.0.0/24");
    private static readonly IPAddress Net1 = IPAddress.Parse("192.168.0.2");

    private (ContainerFirewall Fw, ContainerNetworking.Namespaces.NetNamespace Net1) S000()
    {
        _t.AddBridge("br0", "192.168.0.1/24");
        var net1 = _t.AddContainer("br0", "192.168.0.2/24", "192.168.0.1");
        var fw = new ContainerFirewall(_t.Host);
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]));
        return (fw, net1);
    }

    [Fact]
    public void PublishList_IsOneTransaction_AllOrNothing_AndEveryPortAnswers()
    {
        var (fw, net1) = S000();
        _t.ListenTcp(net1, 80);
        _t.ListenTcp(net1, 81);
        var done = fw.Publish(
        [
            new PortMappingSpec(PortProtocol.Tcp, 8080, Net1, 80),
            new PortMappingSpec(PortProtocol.Tcp, 8081, Net1, 81),
            new PortMappingSpec(PortProtocol.Udp, 5300, Net1, 53) { HostPortEnd = 5309 },
        ]);
        Assert.Equal(3, done.Count);
        Assert.Equal(HostTopology.OutsideAddress, HostTopology.ConnectTcp(_t.OutsideName, HostTopology.HostAddress, 8080));
        Assert.Equal(HostTopology.OutsideAddress, HostTopology.ConnectTcp(_t.OutsideName, HostTopology.HostAddress, 8081));
        var elems = NftOracle.Items(_t.HostName, "map").Single(x => x.GetProperty("name").GetString() == "ports4").GetProperty("elem").GetArrayLength();
        Assert.Equal(12, elems);

        // One mapping of a list that collides (8081 is taken) refuses the whole list: 9000 is not added either.
        var before = NftOracle.RulesetText(_t.HostName);
        var e = Assert.Throws<ContainerNetworkingException>(() => fw.Publish(
        [
            new PortMappingSpec(PortProtocol.Tcp, 9000, Net1, 80),
            new PortMappingSpec(PortProtocol.Tcp, 8081, Net1, 80),
        ]));
        Assert.Equal("PortAlreadyPublished", e.ErrorId);
        Assert.Contains("8081", e.Message);
        Assert.Equal(before, NftOracle.RulesetText(_t.HostName));
        // Two mappings of one list that overlap each other are refused before anything is sent.
        e = Assert.Throws<ContainerNetworkingException>(() => fw.Publish(
        [
            new PortMappingSpec(PortProtocol.Tcp, 9000, Net1, 80) { HostPortEnd = 9005 },
            new PortMappingSpec(PortProtocol.Tcp, 9005, Net1, 80) { HostAddress = IPAddress.Parse(HostTopology.HostAddress) },
        ]));
        Assert.Equal("PortAlreadyPublished", e.ErrorId);
        Assert.Equal(before, NftOracle.RulesetText(_t.HostName));
    }

    [Fact]
    public void Unpublish_ByAPortInTheMiddleOfARange_RemovesTheWholeRange_AndOnlyIt()
    {
        var (fw, _) = S000();
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 9080, Net1, 80) { HostPortEnd = 9089, Owner = "range" });
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 9090, Net1, 90));
        var m = fw.Unpublish(PortProtocol.Tcp, 9085);
        Assert.Equal((9080, 9089, 80, 89, "range"), (m.HostPort, m.HostPortEnd, m.ContainerPort, m.ContainerPortEnd, m.Owner));
        var left = Assert.Single(fw.GetPublishedPorts());
        Assert.Equal(9090, left.HostPort);
        var elems = NftOracle.Items(_t.HostName, "map").Single(x => x.GetProperty("name").GetString() == "ports4").GetProperty("elem").GetArrayLength();
        Assert.Equal(1, elems);
        Assert.Equal("PortNotPublished", Assert.Throws<ContainerNetworkingException>(() => fw.Unpublish(PortProtocol.Tcp, 9080)).ErrorId);
        Assert.Equal("PortNotPublished", Assert.Throws<ContainerNetworkingException>(() => fw.Unpublish(PortProtocol.Udp, 9090)).ErrorId);
    }

    [Fact]
    public void CounterpartMaps_BoundAndUnboundMappingsOfOnePortConflict_BothWays()
    {
        var (fw, _) = S000();
        var hostIp = IPAddress.Parse(HostTopology.HostAddress);
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 7000, Net1, 80));
        var e = Assert.Throws<ContainerNetworkingException>(() =>
            fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 7000, Net1, 80) { HostAddress = hostIp }));
        Assert.Equal("PortAlreadyPublished", e.ErrorId);
        Assert.Contains("7000", e.Message);

        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 7100, Net1, 80) { HostAddress = hostIp });
        e = Assert.Throws<ContainerNetworkingException>(() => fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 7090, Net1, 80) { HostPortEnd = 7110 }));
        Assert.Equal("PortAlreadyPublished", e.ErrorId);
        Assert.True(fw.IsPublished(PortProtocol.Tcp, 7100));
        Assert.True(fw.IsPublished(PortProtocol.Tcp, 7100, hostIp));
        Assert.True(fw.IsPublished(PortProtocol.Tcp, 7000, hostIp));
        Assert.False(fw.IsPublished(PortProtocol.Udp, 7000));
        Assert.False(fw.IsPublished(PortProtocol.Tcp, 7101));
        // other protocol, other port: fine
        fw.Publish(new PortMappingSpec(PortProtocol.Udp, 7000, Net1, 80) { HostAddress = hostIp });
        Assert.Equal(3, fw.GetPublishedPorts().Count);
    }

    [Fact]
    public void IsPublished_AndTheMapsReadWhole_AgreeOnWhatOverlaps_InBothFamilies()
    {
        var (fw, _) = S000();
        var hostIp = IPAddress.Parse(HostTopology.HostAddress);
        var hostIp6 = IPAddress.Parse(HostTopology.HostAddress6);
        var net1v6 = IPAddress.Parse("fd00:c0::2");
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 7000, Net1, 80));                                 // every IPv4 address
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 7100, Net1, 80) { HostAddress = hostIp });        // one IPv4 address
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 7200, net1v6, 80) { HostAddress = hostIp6 });     // one IPv6 address
        fw.Publish(new PortMappingSpec(PortProtocol.Udp, 7300, net1v6, 53));                               // every IPv6 address
        var v4Any = IPAddress.Any;
        var v6Any = IPAddress.IPv6Any;
        var other = IPAddress.Parse("198.18.0.9");
        var other6 = IPAddress.Parse("fd00:18::9");
        (PortProtocol Protocol, int Port, IPAddress? Host, bool Held)[] cases =
        [
            (PortProtocol.Tcp, 7000, null, true), (PortProtocol.Tcp, 7000, v4Any, true), (PortProtocol.Tcp, 7000, other, true),
            (PortProtocol.Tcp, 7000, v6Any, false), (PortProtocol.Tcp, 7000, hostIp6, false), (PortProtocol.Udp, 7000, null, false),
            (PortProtocol.Tcp, 7100, null, true), (PortProtocol.Tcp, 7100, v4Any, true), (PortProtocol.Tcp, 7100, hostIp, true),
            (PortProtocol.Tcp, 7100, other, false), (PortProtocol.Tcp, 7100, v6Any, false),
            // the IPv6 host-address map is read after IPv4's, which still had an element to send: the kernel refuses the
            // second dump until the first is done, and it is asked again
            (PortProtocol.Tcp, 7200, null, true), (PortProtocol.Tcp, 7200, v6Any, true), (PortProtocol.Tcp, 7200, hostIp6, true),
            (PortProtocol.Tcp, 7200, other6, false), (PortProtocol.Tcp, 7200, v4Any, false), (PortProtocol.Tcp, 7200, hostIp, false),
            (PortProtocol.Udp, 7300, null, true), (PortProtocol.Udp, 7300, other6, true), (PortProtocol.Udp, 7300, hostIp, false),
            (PortProtocol.Tcp, 7300, null, false), (PortProtocol.Sctp, 7300, v6Any, false),
            (PortProtocol.Tcp, 7001, null, false), (PortProtocol.Tcp, 7101, hostIp, false), (PortProtocol.Tcp, 7201, null, false),
        ];
        var whole = fw.GetPublishedHostPorts();
        foreach (var c in cases)
        {
            Assert.True(c.Held == fw.IsPublished(c.Protocol, c.Port, c.Host), $"IsPublished{c}");
            Assert.True(c.Held == whole.Holds(c.Protocol, c.Port, c.Host), $"Holds{c}");
        }
        // nft's own listing has those four elements, one in each map
        var ruleset = Cli.InNs(_t.HostName, "nft", "list", "table", "inet", ContainerFirewall.TableName).Stdout;
        foreach (var e in new[] { "tcp . 7000 ", "198.18.0.1 . tcp . 7100 ", "fd00:18::1 . tcp . 7200 ", "udp . 7300 " })
            Assert.Contains(e, ruleset);
    }

    [Fact]
    public void IcmpConntrackEntry_IsListedWithIdAndType_AndDeleted()
    {
        var (fw, net1) = S000();
        fw.AddMasquerade(new MasqueradeSpec(Subnet) { ExcludeOutInterface = "br0" });
        // A ping from the container out through the masquerade creates an ICMP entry in the host's conntrack table.
        Assert.True(Cli.Ping(net1.Name!, HostTopology.OutsideAddress));
        var oracle = Cli.InNs(_t.HostName, "conntrack", "-L", "-p", "icmp").Stdout;
        Assert.Contains("src=192.168.0.2", oracle);

        var ct = new ConntrackClient(_t.Host.NetfilterConnection);
        // conntrack -C just before and just after: a stray packet (neighbour discovery) may add an entry in between, so
        // our count must lie between the two rather than equal one of them.
        long OracleCount() => long.Parse(Cli.InNs(_t.HostName, "conntrack", "-C").Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var before = OracleCount();
        var count = ct.Count();
        var after = OracleCount();
        Assert.True(count >= 1, $"conntrack -C counts {count}");
        Assert.InRange((long)count, Math.Min(before, after), Math.Max(before, after));
        var entry = Assert.Single(ct.List(AddressFamily.InterNetwork), c => c.Original.Protocol == 1 && c.Original.Source.Equals(Net1));
        Assert.Equal(8, entry.Original.IcmpType); // echo request
        Assert.Equal(0, entry.Reply.IcmpType);    // echo reply
        Assert.Contains($"id={entry.Original.IcmpId}", oracle);

        // Before the fix the kernel refused the tuple without id/type/code (EINVAL).
        var n = ct.Delete(AddressFamily.InterNetwork, c => c.Original.Protocol == 1 && c.Original.Source.Equals(Net1));
        Assert.Equal(1, n);
        Assert.DoesNotContain("src=192.168.0.2", Cli.InNs(_t.HostName, "conntrack", "-L", "-p", "icmp").Stdout);
        Assert.DoesNotContain(ct.List(AddressFamily.InterNetwork), c => c.Original.Protocol == 1 && c.Original.Source.Equals(Net1));
    }
}
