using System.Net;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Values;

namespace ContainerNetworking.Tests.Values;

/// <summary>
/// The one validator of each kind of value, and the one encoding of rule comments: what every layer accepts and
/// refuses is decided here (links, bridge networks, firewall rules and endpoints all call these).
/// </summary>
public sealed class ValueValidationTests
{
    [Theory]
    [InlineData("eth0", true)]
    [InlineData("br-0123456789ab", true)]
    [InlineData("", false)]
    [InlineData("a-very-long-name0", false)]
    [InlineData("bad name", false)]
    [InlineData("bad/name", false)]
    [InlineData("bad:name", false)]
    [InlineData("..", false)]
    public void InterfaceName_AcceptsWhatTheKernelAccepts(string name, bool valid)
    {
        Assert.Equal(valid, InterfaceName.IsValid(name));
        if (valid) InterfaceName.Validate(name);
        else
        {
            Assert.Equal("InvalidInterfaceName", Assert.Throws<ContainerNetworkingException>(() => InterfaceName.Validate(name)).ErrorId);
            Assert.Equal("InvalidName", Assert.Throws<ContainerNetworkingException>(() => InterfaceName.Validate(name, "bridge name", "InvalidName")).ErrorId);
        }
    }

    [Theory]
    [InlineData("02:42:AC:11:00:02", "02:42:ac:11:00:02")]
    [InlineData("02-42-ac-11-00-02", "02:42:ac:11:00:02")]
    [InlineData("2:42:ac:11:0:2", "02:42:ac:11:00:02")]
    [InlineData("01:00:5e:00:00:01", null)] // multicast
    [InlineData("00:00:00:00:00:00", null)] // all zeros
    [InlineData("zz:00", null)]
    public void MacAddress_ParsesUnicastOnly(string text, string? normalized)
    {
        if (normalized is null)
            Assert.Equal("InvalidMacAddress", Assert.Throws<ContainerNetworkingException>(() => MacAddress.Normalize(text)).ErrorId);
        else Assert.Equal(normalized, MacAddress.Normalize(text));
        var random = MacAddress.Parse(MacAddress.Random());
        Assert.Equal(2, random[0] & 3); // locally administered unicast
    }

    [Theory]
    [InlineData("192.168.15.77", 24, "192.168.15.0/24")]
    [InlineData("10.1.2.3", 0, "0.0.0.0/0")]
    [InlineData("fd00::1:2", 64, "fd00::/64")]
    [InlineData("fd00::ff", 121, "fd00::80/121")]
    public void IPPrefix_MasksHostBits(string address, int length, string network)
    {
        Assert.Equal(IPNetwork.Parse(network), IPPrefix.Network(IPAddress.Parse(address), length));
        IPPrefix.ValidateLength(IPAddress.Parse(address), length);
        Assert.Equal("InvalidPrefixLength", Assert.Throws<ContainerNetworkingException>(() => IPPrefix.ValidateLength(IPAddress.Parse(address), 129)).ErrorId);
    }

    [Theory]
    [InlineData("8080", 8080, 8080, null)]
    [InlineData("8000-8010", 8000, 8010, null)]
    [InlineData("0", 0, 0, "not a valid")]
    [InlineData("65536", 0, 0, "not a valid")]
    [InlineData("90-80", 0, 0, "ends before")]
    public void Ports_ParseRanges(string text, int first, int last, string? why)
    {
        var problem = Ports.TryParseRange(text, "host port", out var a, out var z);
        if (why is null) Assert.Equal((first, last, (string?)null), (a, z, problem));
        else Assert.Contains(why, problem);
        Assert.Equal(PortProtocol.Udp, Ports.ParseProtocol("UDP"));
        Assert.Equal("InvalidProtocol", Assert.Throws<ContainerNetworkingException>(() => Ports.ParseProtocol("icmp")).ErrorId);
    }

    [Fact]
    public void RuleComment_RoundTripsEverySpec()
    {
        var net = new BridgeNetworkRules("br0", [IPNetwork.Parse("192.168.0.0/24"), IPNetwork.Parse("fd00::/64")])
            { Masquerade = false, InterContainerCommunication = true, Internal = true, LoopbackPublishing = false, Owner = "network:a b" };
        var text = RuleComment.ForNetwork(net);
        Assert.Equal("cn:network br0 masq=0 icc=1 internal=1 lo=0 subnets=192.168.0.0/24,fd00::/64 owner=network:a b", text);
        var back = RuleComment.Parse(text)!.ToNetwork()!;
        Assert.Equal((net.Bridge, net.Masquerade, net.InterContainerCommunication, net.Internal, net.LoopbackPublishing, net.Owner),
            (back.Bridge, back.Masquerade, back.InterContainerCommunication, back.Internal, back.LoopbackPublishing, back.Owner));
        Assert.Equal(net.Subnets, back.Subnets);
        Assert.True(RuleComment.Parse(RuleComment.ForNetworkRule("br0", "x"))!.IsNetwork("br0"));
        Assert.False(RuleComment.Parse(RuleComment.ForNetworkRule("br0", null))!.IsNetwork("br"));

        var masq = new MasqueradeSpec(IPNetwork.Parse("10.0.0.0/8")) { ExcludeOutInterface = "br0", SnatAddress = IPAddress.Parse("::ffff:198.18.0.1"), Owner = "me" };
        Assert.Equal("cn:masquerade 10.0.0.0/8 !br0 to=198.18.0.1 owner=me", RuleComment.ForMasquerade(masq));
        Assert.Equal(masq with { SnatAddress = IPAddress.Parse("198.18.0.1") }, RuleComment.Parse(RuleComment.ForMasquerade(masq))!.ToMasquerade());

        Assert.Equal("cn:allow a b owner=o", RuleComment.ForAllow("b", "a", "o"));
        Assert.Equal(("a", "b"), RuleComment.Parse("cn:allow a b owner=o")!.ToAllowPair());
        Assert.Equal((8080, 8090), RuleComment.Parse(RuleComment.ForPublish(8080, 8090, "endpoint:1"))!.ToPublishedRange());
        Assert.Null(RuleComment.Parse("cn:publish 9-x")!.ToPublishedRange());
        Assert.Null(RuleComment.Parse("something else"));
        Assert.Equal("InvalidOwner", Assert.Throws<ContainerNetworkingException>(() => RuleComment.ValidateOwner(new string('x', 65))).ErrorId);
    }
}
