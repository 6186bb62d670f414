using System.Net;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Netfilter;

/// <summary>The forward filter (ICC, isolation, internal), coexistence with foreign tables, bad input, and IPv6.</summary>
public sealed class FirewallPolicyTests : IDisposable
{
    private HostTopology? _t;
    private HostTopology T => _t ??= new HostTopology();
    public void Dispose() => _t?.Dispose();

    private static readonly IPNetwork Subnet = IPNetwork.Parse("192.168.0.0/24");

    [Fact]
    public void Icc_Off_StopsContainersOnOneBridge_On_LetsThemTalk()
    {
        T.AddBridge("br0", "192.168.0.1/24");
        var a = T.AddContainer("br0", "192.168.0.2/24", "192.168.0.1");
        T.AddContainer("br0", "192.168.0.3/24", "192.168.0.1");
        var fw = new ContainerFirewall(T.Host);
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]) { InterContainerCommunication = false, Owner = "n1" });
        Assert.False(Cli.Ping(a.Name!, "192.168.0.3"));
        Assert.True(Cli.Ping(a.Name!, "192.168.0.1"), "the gateway stays reachable");
        var net = Assert.Single(fw.GetBridgeNetworks());
        Assert.False(net.Spec.InterContainerCommunication);
        Assert.Equal("n1", net.Spec.Owner);
        Assert.Contains(NftOracle.Items(T.HostName, "table"), t => t.GetProperty("family").GetString() == "bridge");

        // replacing the network's rules is one batch; now they talk
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]) { InterContainerCommunication = true, Owner = "n1" });
        Assert.True(Cli.Ping(a.Name!, "192.168.0.3"));
        Assert.Single(fw.GetBridgeNetworks());
    }

    [Fact]
    public void Networks_AreIsolated_AndAnInternalNetworkHasNoOutsideAccess()
    {
        T.AddBridge("br0", "192.168.0.1/24");
        T.AddBridge("br1", "10.1.0.1/24");
        var a = T.AddContainer("br0", "192.168.0.2/24", "192.168.0.1");
        var b = T.AddContainer("br1", "10.1.0.2/24", "10.1.0.1");
        // plain routing between the bridges works before any firewall
        Assert.True(Cli.Ping(a.Name!, "10.1.0.2"));
        var fw = new ContainerFirewall(T.Host);
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]));
        fw.AddBridgeNetwork(new BridgeNetworkRules("br1", [IPNetwork.Parse("10.1.0.0/24")]) { Internal = true });
        Assert.False(Cli.Ping(a.Name!, "10.1.0.2"));
        Assert.False(Cli.Ping(b.Name!, "192.168.0.2"));
        Assert.True(Cli.Ping(a.Name!, HostTopology.OutsideAddress), "br0 reaches the outside (masqueraded)");
        Assert.False(Cli.Ping(b.Name!, HostTopology.OutsideAddress), "the internal network does not");
        Assert.True(Cli.Ping(b.Name!, "10.1.0.1"), "the internal network still reaches its gateway");

        fw.RemoveBridgeNetwork("br1");
        Assert.Equal(["br0"], fw.GetBridgeNetworks().Select(n => n.Spec.Bridge));
        Assert.DoesNotContain(NftOracle.Items(T.HostName, "rule"), r => r.TryGetProperty("comment", out var c) && c.GetString()!.StartsWith("cn:network br1"));
        // nft shows the remaining set element as the interface name
        Assert.Contains("\"br0\"", NftOracle.Items(T.HostName, "set").Single(s => s.GetProperty("name").GetString() == "networks").GetRawText());
        var e = Assert.Throws<ContainerNetworkingException>(() => fw.RemoveBridgeNetwork("br1"));
        Assert.Equal("BridgeNetworkNotFound", e.ErrorId);
    }

    [Fact]
    public void ForeignDropPolicy_IsReported_AndForeignTablesAreNeverChanged()
    {
        T.AddBridge("br0", "192.168.0.1/24");
        var a = T.AddContainer("br0", "192.168.0.2/24", "192.168.0.1");
        // what iptables-nft leaves after Docker is installed: table ip filter, FORWARD policy drop; and another foreign table
        NftOracle.Run(T.HostName, "add", "table", "ip", "filter");
        NftOracle.Run(T.HostName, "add", "chain", "ip", "filter", "FORWARD", "{ type filter hook forward priority 0; policy drop; }");
        NftOracle.Run(T.HostName, "add", "rule", "ip", "filter", "FORWARD", "iifname", "docker0", "accept");
        NftOracle.Run(T.HostName, "add", "table", "inet", "firewalld");
        NftOracle.Run(T.HostName, "add", "chain", "inet", "firewalld", "filter_FORWARD", "{ type filter hook forward priority 10; policy accept; }");
        string Foreign() => Cli.InNs(T.HostName, "nft", "-j", "list", "table", "ip", "filter").Ok().Stdout +
                            Cli.InNs(T.HostName, "nft", "-j", "list", "table", "inet", "firewalld").Ok().Stdout;
        var before = Foreign();

        var fw = new ContainerFirewall(T.Host);
        var net = fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]));
        var warning = Assert.Single(net.Warnings);
        Assert.Contains("table ip filter chain FORWARD", warning);
        Assert.Equal(warning, Assert.Single(fw.FindForeignDrops()));
        // and it is true: the foreign policy drops the container's traffic despite our accept
        Assert.False(Cli.Ping(a.Name!, HostTopology.OutsideAddress));

        fw.AddMasquerade(new MasqueradeSpec(IPNetwork.Parse("10.9.0.0/16")));
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 8088, IPAddress.Parse("192.168.0.2"), 80));
        fw.Unpublish(PortProtocol.Tcp, 8088);
        fw.RemoveBridgeNetwork("br0");
        fw.RemoveAll();
        Assert.Equal(before, Foreign());
        Assert.DoesNotContain(NftOracle.Items(T.HostName, "table"), t => t.GetProperty("name").GetString() == ContainerFirewall.TableName);
    }

    public static TheoryData<string> BadSpecs => ["port0", "port70000", "reversed", "lengths", "protocol", "outside", "duplicate", "family", "loopback6"];

    [Theory]
    [MemberData(nameof(BadSpecs))]
    public void BadPortMapping_IsRefusedClearly_AndTheRulesetStaysByteIdentical(string which)
    {
        var fw = new ContainerFirewall(T.Host);
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]));
        var c = IPAddress.Parse("192.168.0.2");
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 8088, c, 80));
        var before = NftOracle.RulesetText(T.HostName);
        var spec = which switch
        {
            "port0" => new PortMappingSpec(PortProtocol.Tcp, 0, c, 80),
            "port70000" => new PortMappingSpec(PortProtocol.Tcp, 8000, c, 70000),
            "reversed" => new PortMappingSpec(PortProtocol.Tcp, 9000, c, 80) { HostPortEnd = 8990 },
            "lengths" => new PortMappingSpec(PortProtocol.Tcp, 9000, c, 80) { HostPortEnd = 9010, ContainerPortEnd = 85 },
            "protocol" => new PortMappingSpec((PortProtocol)1, 9000, c, 80),
            "outside" => new PortMappingSpec(PortProtocol.Tcp, 9000, IPAddress.Parse("10.99.0.2"), 80),
            "duplicate" => new PortMappingSpec(PortProtocol.Tcp, 8080, IPAddress.Parse("192.168.0.3"), 80) { HostPortEnd = 8090 },
            "family" => new PortMappingSpec(PortProtocol.Tcp, 9000, c, 80) { HostAddress = IPAddress.Parse("fd00::1") },
            "loopback6" => new PortMappingSpec(PortProtocol.Tcp, 9000, IPAddress.Parse("fd00:c0::2"), 80) { HostAddress = IPAddress.IPv6Loopback },
            _ => throw new ArgumentException(which),
        };
        var e = Assert.Throws<ContainerNetworkingException>(() => fw.Publish(spec, [Subnet, IPNetwork.Parse("fd00:c0::/64")]));
        if (which == "duplicate")
        {
            Assert.Equal("PortAlreadyPublished", e.ErrorId);
            Assert.Contains("8088", e.Message);
        }
        else Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains(which switch
        {
            "port0" or "port70000" => "1 to 65535", "reversed" => "lower port first", "lengths" => "same length",
            "protocol" => "tcp, udp or sctp", "outside" => "outside every bridge's subnet", "duplicate" => "Unpublish it first",
            "family" => "different families", _ => "::1",
        }, e.Message);
        Assert.Equal(before, NftOracle.RulesetText(T.HostName));
        Assert.Throws<ContainerNetworkingException>(() => Ports.ParseProtocol("icmp"));
    }

    [Fact]
    public void BadNetworkAndMasquerade_AreRefused_AndChangeNothing()
    {
        var fw = new ContainerFirewall(T.Host);
        var before = NftOracle.RulesetText(T.HostName);
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<ContainerNetworkingException>(() =>
            fw.AddBridgeNetwork(new BridgeNetworkRules("a-name-much-too-long", [Subnet]))).Kind);
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<ContainerNetworkingException>(() =>
            fw.AddBridgeNetwork(new BridgeNetworkRules("br0", []))).Kind);
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<ContainerNetworkingException>(() =>
            fw.AddMasquerade(new MasqueradeSpec(Subnet) { SnatAddress = IPAddress.Parse("fd00::1") })).Kind);
        Assert.Equal(before, NftOracle.RulesetText(T.HostName));
    }

    [Fact]
    public void DualStack_MasqueradeAndPublishing_WorkForIPv6()
    {
        _t = new HostTopology(ipv6: true);
        T.AddBridge("br0", "192.168.0.1/24", "fd00:c0::1/64");
        var a = T.AddContainer("br0", "192.168.0.2/24", "192.168.0.1", "fd00:c0::2/64", "fd00:c0::1");
        var fw = new ContainerFirewall(T.Host);
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet, IPNetwork.Parse("fd00:c0::/64")]));
        T.ListenTcp6(T.Outside, 9000);
        Assert.Equal(HostTopology.HostAddress6, HostTopology.ConnectTcp(a.Name!, HostTopology.OutsideAddress6, 9000));

        T.ListenTcp6(a, 80);
        var m = fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 8080, IPAddress.Parse("fd00:c0::2"), 80));
        Assert.Equal(HostTopology.OutsideAddress6, HostTopology.ConnectTcp(T.OutsideName, HostTopology.HostAddress6, 8080));
        var read = Assert.Single(fw.GetPublishedPorts());
        Assert.Equal(IPAddress.Parse("fd00:c0::2"), read.ContainerAddress);
        var map = NftOracle.Items(T.HostName, "map").Single(x => x.GetProperty("name").GetString() == "ports6");
        Assert.Contains("\"fd00:c0::2\", 80", map.GetProperty("elem").GetRawText());
        fw.Unpublish(PortProtocol.Tcp, 8080, family: System.Net.Sockets.AddressFamily.InterNetworkV6);
        Assert.Null(HostTopology.ConnectTcp(T.OutsideName, HostTopology.HostAddress6, 8080, attempts: 1));
    }
}
