using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Netfilter;

/// <summary>
/// Masquerade, port publishing and the forward filter with real packets, in throwaway namespaces (seed scenario S000:
/// net1 192.168.0.2/24 behind br0 192.168.0.1, masquerade 192.168.0.0/24, host port 8088 → 192.168.0.2:80).
/// </summary>
public sealed class ContainerFirewallTests : IDisposable
{
    private readonly HostTopology _t = new();
    public void Dispose() => _t.Dispose();

    private static readonly IPNetwork Subnet = IPNetwork.Parse("192.168.0.0/24");

    private (ContainerFirewall Fw, ContainerNetworking.Namespaces.NetNamespace Net1) S000()
    {
        _t.AddBridge("br0", "192.168.0.1/24");
        var net1 = _t.AddContainer("br0", "192.168.0.2/24", "192.168.0.1");
        var fw = new ContainerFirewall(_t.Host);
        return (fw, net1);
    }

    [Fact]
    public void S000_Masquerade_TheOutsideSeesTheHostsAddress_AndRecordsCarryCounters()
    {
        var (fw, net1) = S000();
        _t.ListenTcp(_t.Outside, 9000);
        // Without NAT the outside has no route back to 192.168.0.0/24: no answer.
        Assert.Null(HostTopology.ConnectTcp(net1.Name!, HostTopology.OutsideAddress, 9000, attempts: 2));

        var m = fw.AddMasquerade(new MasqueradeSpec(Subnet) { ExcludeOutInterface = "br0", Owner = "s000" });
        Assert.Equal("s000", m.Owner);
        Assert.NotEqual(0ul, m.Handle);
        Assert.Equal(HostTopology.HostAddress, HostTopology.ConnectTcp(net1.Name!, HostTopology.OutsideAddress, 9000));

        var read = Assert.Single(fw.GetMasquerades());
        Assert.Equal(m.Handle, read.Handle);
        Assert.Equal("br0", read.ExcludeOutInterface);
        Assert.Equal(Subnet, read.Source);
        Assert.True(read.Packets > 0 && read.Bytes > 0, "the masquerade rule counted the connection");

        // nft shows the same rule, handle and comment
        var rule = NftOracle.Items(_t.HostName, "rule").Single(r => r.GetProperty("handle").GetUInt64() == m.Handle);
        Assert.Equal(m.Comment, rule.GetProperty("comment").GetString());
        var expr = rule.GetProperty("expr").GetRawText();
        Assert.Contains("{\"prefix\": {\"addr\": \"192.168.0.0\", \"len\": 24}}", expr);
        Assert.Contains("\"right\": \"br0\"", expr);
        Assert.Contains("\"masquerade\": null", expr);

        // twice is harmless: the same rule comes back
        Assert.Equal(m.Handle, fw.AddMasquerade(new MasqueradeSpec(Subnet) { ExcludeOutInterface = "br0", Owner = "s000" }).Handle);
        Assert.Single(fw.GetMasquerades());

        fw.RemoveMasquerade(read);
        Assert.Empty(fw.GetMasquerades());
        Assert.Null(HostTopology.ConnectTcp(net1.Name!, HostTopology.OutsideAddress, 9000, attempts: 2));
    }

    [Fact]
    public void GetMasquerades_ListsABridgeNetworksMasquerade_PerSubnet_WithItsOwnerAndCounters_AndRemoveRefusesIt()
    {
        var (fw, net1) = S000();
        _t.ListenTcp(_t.Outside, 9000);
        var v6 = IPNetwork.Parse("fd00:99::/64");
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet, v6]) { Owner = "network:s000" });
        Assert.Equal(HostTopology.HostAddress, HostTopology.ConnectTcp(net1.Name!, HostTopology.OutsideAddress, 9000));

        var all = fw.GetMasquerades();
        Assert.Equal([Subnet, v6], all.Select(m => m.Source));
        Assert.All(all, m => Assert.Equal("br0", m.ExcludeOutInterface));
        Assert.All(all, m => Assert.Equal("network:s000", m.Owner));
        Assert.True(all[0].Packets > 0, "the network's masquerade rule counted the connection");
        // The handle is the rule nft shows as that subnet's masquerade, not the hairpin rule of the same network.
        var rule = NftOracle.Items(_t.HostName, "rule").Single(r => r.GetProperty("handle").GetUInt64() == all[0].Handle);
        var expr = rule.GetProperty("expr").GetRawText();
        Assert.Contains("{\"prefix\": {\"addr\": \"192.168.0.0\", \"len\": 24}}", expr);
        Assert.Contains("\"masquerade\": null", expr);
        Assert.DoesNotContain("\"ct\"", expr);

        var e = Assert.Throws<ContainerNetworkingException>(() => fw.RemoveMasquerade(all[0]));
        Assert.Equal("MasqueradeOwnedByNetwork", e.ErrorId);
        Assert.Equal(2, fw.GetMasquerades().Count);
        fw.RemoveBridgeNetwork("br0");
        Assert.Empty(fw.GetMasquerades());
    }

    [Fact]
    public void Snat_ToAFixedAddress_IsWhatTheOutsideSees()
    {
        var (fw, net1) = S000();
        _t.Host.Rtnl.AddAddress("eth0", IPAddress.Parse("198.18.0.9"), 24);
        _t.ListenTcp(_t.Outside, 9000);
        fw.AddMasquerade(new MasqueradeSpec(Subnet) { ExcludeOutInterface = "br0", SnatAddress = IPAddress.Parse("198.18.0.9") });
        Assert.Equal("198.18.0.9", HostTopology.ConnectTcp(net1.Name!, HostTopology.OutsideAddress, 9000));
        Assert.Equal(IPAddress.Parse("198.18.0.9"), Assert.Single(fw.GetMasquerades()).SnatAddress);
    }

    /// <summary>
    /// The walkthroughs build the bridge by hand and then publish (S000: 8088 → 192.168.0.2:80; S001: curl 127.0.0.1:9001):
    /// without AddBridgeNetwork, Publish itself makes the host's 127.0.0.1 reach the container, on that bridge only.
    /// </summary>
    [Fact]
    public void Publish_OnAHandBuiltBridge_IsReachableFromTheHostsLoopback()
    {
        var (fw, net1) = S000();
        _t.ListenTcp(net1, 80);
        Assert.Equal("0", _t.Host.ReadSysctl("net.ipv4.conf.br0.route_localnet"));
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 8088, IPAddress.Parse("192.168.0.2"), 80));
        Assert.Equal("1", _t.Host.ReadSysctl("net.ipv4.conf.br0.route_localnet"));
        Assert.Equal("0", _t.Host.ReadSysctl("net.ipv4.conf.all.route_localnet"));
        Assert.Equal("0", _t.Host.ReadSysctl("net.ipv4.conf.default.route_localnet"));
        Assert.Equal("0", _t.Host.ReadSysctl("net.ipv4.conf.eth0.route_localnet"));
        Assert.Equal("192.168.0.1", HostTopology.ConnectTcp(_t.HostName, "127.0.0.1", 8088));
    }

    [Fact]
    public void S000_PublishedPort_ReachableFromOutside_Host_Loopback_AndHairpin_ThenClosedAndFlushed()
    {
        var (fw, net1) = S000();
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]) { Owner = "s000" });
        _t.ListenTcp(net1, 80);
        var published = fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 8088, IPAddress.Parse("192.168.0.2"), 80) { Owner = "web" },
            allowedContainerSubnets: [Subnet]);
        Assert.Equal(8088, published.HostPort);

        // another machine: the container sees the client's own address (no SNAT on the way in)
        Assert.Equal(HostTopology.OutsideAddress, HostTopology.ConnectTcp(_t.OutsideName, HostTopology.HostAddress, 8088));
        // the host itself, on its own address
        Assert.Equal(HostTopology.HostAddress, HostTopology.ConnectTcp(_t.HostName, HostTopology.HostAddress, 8088));
        // the host's 127.0.0.1: masqueraded to the bridge's address (route_localnet on br0 only)
        Assert.Equal("192.168.0.1", HostTopology.ConnectTcp(_t.HostName, "127.0.0.1", 8088));
        Assert.Equal("1", _t.Host.ReadSysctl("net.ipv4.conf.br0.route_localnet"));
        Assert.Equal("0", _t.Host.ReadSysctl("net.ipv4.conf.all.route_localnet"));
        Assert.Equal("0", _t.Host.ReadSysctl("net.ipv4.conf.eth0.route_localnet"));
        // hairpin: another container on the bridge reaches it through the host's address (masqueraded to the bridge's address) …
        var net2 = _t.AddContainer("br0", "192.168.0.3/24", "192.168.0.1");
        Assert.Equal("192.168.0.1", HostTopology.ConnectTcp(net2.Name!, HostTopology.HostAddress, 8088));
        // … and so does the container itself, once its bridge port is in hairpin mode (as Docker sets it without the userland proxy)
        _t.Host.Rtnl.SetBridgePort("veth1_p", new ContainerNetworking.Route.BridgePortOptions { Hairpin = true });
        Assert.Equal("192.168.0.1", HostTopology.ConnectTcp(net1.Name!, HostTopology.HostAddress, 8088));

        var mapping = Assert.Single(fw.GetPublishedPorts());
        Assert.Equal((PortProtocol.Tcp, 8088, 8088, "192.168.0.2", 80, "web"),
            (mapping.Protocol, mapping.HostPort, mapping.HostPortEnd, mapping.ContainerAddress.ToString(), mapping.ContainerPort, mapping.Owner));
        Assert.True(mapping.Packets > 0, "the map element counted the new connections");
        // nft decodes the element the same way
        Assert.Contains("element 00000006 0000981f  : 0200a8c0 00005000", NftOracle.DebugNetlink(_t.HostName, "list", "map", "inet", "containernetworking", "ports4"));

        // a flow that is still tracked …
        Assert.Contains("dport=8088", Cli.InNs(_t.HostName, "conntrack", "-L", "-p", "tcp").Stdout);
        fw.Unpublish(PortProtocol.Tcp, 8088);
        Assert.Empty(fw.GetPublishedPorts());
        // … is gone, and the port is closed
        Assert.DoesNotContain("dport=8088", Cli.InNs(_t.HostName, "conntrack", "-L", "-p", "tcp").Stdout);
        Assert.Null(HostTopology.ConnectTcp(_t.OutsideName, HostTopology.HostAddress, 8088, attempts: 1));
        Assert.Throws<ContainerNetworkingException>(() => fw.Unpublish(PortProtocol.Tcp, 8088));
    }

    [Fact]
    public void Udp_StaleFlowIsFlushedOnUnpublish()
    {
        var (fw, net1) = S000();
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]));
        _t.ListenUdp(net1, 53);
        fw.Publish(new PortMappingSpec(PortProtocol.Udp, 5353, IPAddress.Parse("192.168.0.2"), 53));
        Assert.Equal(HostTopology.OutsideAddress, HostTopology.SendUdp(_t.OutsideName, HostTopology.HostAddress, 5353, 40000));
        var before = Cli.InNs(_t.HostName, "conntrack", "-L", "-p", "udp", "--dport", "5353").Stdout;
        Assert.Contains("src=192.168.0.2", before);
        fw.Unpublish(PortProtocol.Udp, 5353);
        Assert.DoesNotContain("dport=5353", Cli.InNs(_t.HostName, "conntrack", "-L", "-p", "udp").Stdout);
    }

    [Fact]
    public void PortRange_IsOneMappingOfManyElements_AndEachPortReachesItsContainerPort()
    {
        var (fw, net1) = S000();
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]));
        _t.ListenTcp(net1, 81);
        _t.ListenTcp(net1, 83);
        var m = fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 9080, IPAddress.Parse("192.168.0.2"), 80) { HostPortEnd = 9089 });
        Assert.Equal(89, m.ContainerPortEnd);
        var read = Assert.Single(fw.GetPublishedPorts());
        Assert.Equal((9080, 9089, 80, 89), (read.HostPort, read.HostPortEnd, read.ContainerPort, read.ContainerPortEnd));
        Assert.NotNull(HostTopology.ConnectTcp(_t.OutsideName, HostTopology.HostAddress, 9081));
        Assert.NotNull(HostTopology.ConnectTcp(_t.OutsideName, HostTopology.HostAddress, 9083));
        // the chain has the same rules however many ports are published: it is a map lookup
        var published = NftOracle.Items(_t.HostName, "rule").Count(r => r.GetProperty("chain").GetString() == "published");
        Assert.Equal(4, published);
        Assert.Equal(10, NftOracle.Items(_t.HostName, "map").Single(x => x.GetProperty("name").GetString() == "ports4").GetProperty("elem").GetArrayLength());
    }

    [Fact]
    public void HostAddressBoundMapping_AnswersOnlyOnThatAddress()
    {
        var (fw, net1) = S000();
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]));
        _t.Host.Rtnl.AddAddress("eth0", IPAddress.Parse("198.18.0.7"), 24);
        _t.ListenTcp(net1, 80);
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 8088, IPAddress.Parse("192.168.0.2"), 80) { HostAddress = IPAddress.Parse("198.18.0.7") });
        Assert.Equal(HostTopology.OutsideAddress, HostTopology.ConnectTcp(_t.OutsideName, "198.18.0.7", 8088));
        Assert.Null(HostTopology.ConnectTcp(_t.OutsideName, HostTopology.HostAddress, 8088, attempts: 1));
        Assert.Equal(IPAddress.Parse("198.18.0.7"), Assert.Single(fw.GetPublishedPorts()).HostAddress);
        // the same port on every address would overlap it
        var e = Assert.Throws<ContainerNetworkingException>(() => fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 8088, IPAddress.Parse("192.168.0.3"), 80)));
        Assert.Equal("PortAlreadyPublished", e.ErrorId);
    }

    [Fact]
    public void Loopback_Guard_DropsPacketsTo127FromOutsideLo()
    {
        var (fw, net1) = S000();
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [Subnet]));
        // a service bound to the host's loopback only
        _t.ListenTcp(_t.Host, 7777, bind: "127.0.0.1");
        Assert.NotNull(HostTopology.ConnectTcp(_t.HostName, "127.0.0.1", 7777));
        // a container sends to 127.0.0.1 through the bridge (route_localnet is on for br0): the guard must drop it
        Cli.InNs(net1.Name!, "ip", "route", "add", "127.0.0.0/8", "via", "192.168.0.1", "dev", "eth0", "table", "100").Ok();
        Cli.InNs(net1.Name!, "ip", "rule", "add", "to", "127.0.0.1", "iif", "lo", "lookup", "100", "pref", "10").Ok();
        Assert.Null(HostTopology.ConnectTcp(net1.Name!, "127.0.0.1", 7777, attempts: 1));
        var guard = NftOracle.Items(_t.HostName, "rule").Single(r => r.GetProperty("chain").GetString() == "raw-prerouting");
        Assert.Contains("CVE-2020-8558", guard.GetProperty("comment").GetString());
    }
}
