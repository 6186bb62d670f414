using System.Net;
using ContainerNetworking.Model;

namespace ContainerNetworking.Tests.Model;

public sealed class IpamTests
{
    private static IPNetwork Net(string s) => AddressMath.ParseSubnet(s);
    private static IPAddress Ip(string s) => IPAddress.Parse(s);

    [Fact]
    public void Defaults_GatewayIsFirstAddress_RangeSkipsNetworkGatewayBroadcast()
    {
        var p = AddressPool.Create(Net("172.17.0.0/16"));
        Assert.Equal(Ip("172.17.0.1"), p.Gateway);
        Assert.Equal(Ip("172.17.0.1"), p.FirstAllocatable);
        Assert.Equal(Ip("172.17.255.254"), p.LastAllocatable);
        Assert.Equal(Ip("172.17.0.2"), p.Allocate(_ => false));
        Assert.True(p.IsReserved(Ip("172.17.0.0")));
        Assert.True(p.IsReserved(Ip("172.17.255.255")));
        Assert.False(p.IsReserved(Ip("172.17.0.9")));
    }

    [Fact]
    public void RangeStartAndEnd_BoundDynamicAllocation_AsHostLocalDoes()
    {
        var p = AddressPool.Create(Net("10.9.0.0/24"), start: Ip("10.9.0.100"), end: Ip("10.9.0.101"));
        Assert.Equal(Ip("10.9.0.100"), p.FirstAllocatable);
        Assert.Equal(Ip("10.9.0.101"), p.LastAllocatable);
        var taken = new HashSet<IPAddress>();
        taken.Add(p.Allocate(taken.Contains));
        taken.Add(p.Allocate(taken.Contains));
        Assert.Equal([Ip("10.9.0.100"), Ip("10.9.0.101")], taken.Order(Comparer<IPAddress>.Create((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()))));
        Assert.Equal("AddressRangeExhausted", Assert.Throws<ContainerNetworkingException>(() => p.Allocate(taken.Contains)).ErrorId);
        p.CheckStatic(Ip("10.9.0.7"), taken.Contains); // a static address may lie outside the range, inside the subnet
        Assert.Equal("IpRangeOutsideSubnet", Assert.Throws<ContainerNetworkingException>(() => AddressPool.Create(Net("10.9.0.0/24"), start: Ip("10.8.0.1"))).ErrorId);
        Assert.Equal("IpRangeOutsideSubnet", Assert.Throws<ContainerNetworkingException>(() => AddressPool.Create(Net("10.9.0.0/24"), start: Ip("10.9.0.9"), end: Ip("10.9.0.8"))).ErrorId);
    }

    [Fact]
    public void Allocate_ContinuesAfterLastReserved_AndWraps()
    {
        var p = AddressPool.Create(Net("10.9.0.0/29")); // .1 gw, .2-.6 usable, .7 broadcast
        var taken = new HashSet<IPAddress> { Ip("10.9.0.2") };
        Assert.Equal(Ip("10.9.0.5"), p.Allocate(taken.Contains, Ip("10.9.0.4")));
        Assert.Equal(Ip("10.9.0.3"), p.Allocate(taken.Contains, Ip("10.9.0.6"))); // wraps, skips .1 (gateway) and .2 (taken)
    }

    [Fact]
    public void FullRange_IsExhausted_WithStableErrorId()
    {
        var p = AddressPool.Create(Net("10.9.0.0/29"));
        var taken = new HashSet<IPAddress>();
        for (var i = 0; i < 5; i++) taken.Add(p.Allocate(taken.Contains));
        Assert.Equal(5, taken.Count);
        var e = Assert.Throws<ContainerNetworkingException>(() => p.Allocate(taken.Contains));
        Assert.Equal("AddressRangeExhausted", e.ErrorId);
    }

    [Fact]
    public void IpRange_LimitsDynamicAllocation_StaticMayBeOutsideRangeButInSubnet()
    {
        var p = AddressPool.Create(Net("172.20.0.0/16"), null, Net("172.20.5.0/24"));
        // As Docker: inside a range only the subnet's network, broadcast and gateway are reserved, so the range starts at .5.0.
        Assert.Equal(Ip("172.20.5.0"), p.Allocate(_ => false));
        p.CheckStatic(Ip("172.20.9.9"), _ => false);
        var e = Assert.Throws<ContainerNetworkingException>(() => p.CheckStatic(Ip("172.21.0.2"), _ => false));
        Assert.Equal("AddressOutsideRange", e.ErrorId);
        e = Assert.Throws<ContainerNetworkingException>(() => p.CheckStatic(Ip("172.20.0.1"), _ => false));
        Assert.Equal("AddressInUse", e.ErrorId);
        e = Assert.Throws<ContainerNetworkingException>(() => p.CheckStatic(Ip("172.20.0.7"), a => a.Equals(Ip("172.20.0.7"))));
        Assert.Equal("AddressInUse", e.ErrorId);
    }

    [Theory]
    [InlineData("172.18.0.0/16", "172.19.0.1")]
    [InlineData("172.18.0.0/16", "172.18.0.0")]
    [InlineData("172.18.0.0/16", "172.18.255.255")]
    [InlineData("172.18.0.0/16", "fd00::1")]
    public void GatewayOutsideSubnet_IsRefused(string subnet, string gateway)
    {
        var e = Assert.Throws<ContainerNetworkingException>(() => AddressPool.Create(Net(subnet), Ip(gateway)));
        Assert.Equal("GatewayOutsideSubnet", e.ErrorId);
        Assert.Contains(subnet, e.Message);
    }

    [Fact]
    public void RangeOutsideSubnet_AndBadSubnets_AreRefused()
    {
        Assert.Equal("IpRangeOutsideSubnet", Assert.Throws<ContainerNetworkingException>(() => AddressPool.Create(Net("172.18.0.0/16"), null, Net("172.19.0.0/24"))).ErrorId);
        Assert.Equal("IpRangeOutsideSubnet", Assert.Throws<ContainerNetworkingException>(() => AddressPool.Create(Net("172.18.0.0/16"), null, Net("172.16.0.0/12"))).ErrorId);
        var e = Assert.Throws<ContainerNetworkingException>(() => AddressMath.ParseSubnet("172.17.0.1/16"));
        Assert.Equal("InvalidSubnet", e.ErrorId);
        Assert.Contains("172.17.0.0/16", e.Message);
        Assert.Equal("InvalidSubnet", Assert.Throws<ContainerNetworkingException>(() => AddressMath.ParseSubnet("10.0.0.0/33")).ErrorId);
        Assert.Equal("InvalidSubnet", Assert.Throws<ContainerNetworkingException>(() => AddressPool.Create(Net("10.0.0.0/31"))).ErrorId);
    }

    [Fact]
    public void Ipv6_NoBroadcast_GatewayFirst()
    {
        var p = AddressPool.Create(Net("fd00:db8:1::/64"));
        Assert.Equal(Ip("fd00:db8:1::1"), p.Gateway);
        Assert.Equal(Ip("fd00:db8:1::2"), p.Allocate(_ => false));
        Assert.Equal(Ip("fd00:db8:1::ffff:ffff:ffff:ffff"), p.LastAllocatable);
    }

    [Fact]
    public void DefaultPools_AreDockers_AndSkipWhatIsInUse()
    {
        var all = DefaultAddressPools.Candidates().ToList();
        Assert.Equal(15 + 16, all.Count);
        Assert.Equal(Net("172.17.0.0/16"), all[0]);
        Assert.Equal(Net("172.31.0.0/16"), all[14]);
        Assert.Equal(Net("192.168.0.0/20"), all[15]);
        Assert.Equal(Net("192.168.240.0/20"), all[30]);
        // A host route 172.16.0.0/12 covers all 172.x pools; an address in 192.168.3.x takes the first /20.
        var pick = DefaultAddressPools.PickFree([Net("172.16.0.0/12"), Net("192.168.3.7/32")]);
        Assert.Equal(Net("192.168.16.0/20"), pick);
        Assert.Equal(Net("172.18.0.0/16"), DefaultAddressPools.PickFree([Net("172.17.0.0/16")]));
        Assert.Equal("SubnetPoolExhausted", Assert.Throws<ContainerNetworkingException>(
            () => DefaultAddressPools.PickFree([Net("172.16.0.0/12"), Net("192.168.0.0/16")])).ErrorId);
        var ula = DefaultAddressPools.RandomUniqueLocal();
        Assert.Equal(64, ula.PrefixLength);
        Assert.Equal(0xfd, ula.BaseAddress.GetAddressBytes()[0]);
    }
}
