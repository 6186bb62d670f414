using System.Net;
using ContainerNetworking.Model;
using ContainerNetworking.Netfilter;
using PublishedPort = ContainerNetworking.Model.PublishedPort;

namespace ContainerNetworking.Tests.Model;

public sealed class PortSpecTests
{
    [Theory]
    [InlineData("8088:80", null, 8088, 8088, 80, 80, PortProtocol.Tcp)]
    [InlineData("127.0.0.1:8080:80/tcp", "127.0.0.1", 8080, 8080, 80, 80, PortProtocol.Tcp)]
    [InlineData("8000-8010:80-90/udp", null, 8000, 8010, 80, 90, PortProtocol.Udp)]
    [InlineData("80", null, 0, 0, 80, 80, PortProtocol.Tcp)]
    [InlineData("53/UDP", null, 0, 0, 53, 53, PortProtocol.Udp)]
    [InlineData("127.0.0.1::80", "127.0.0.1", 0, 0, 80, 80, PortProtocol.Tcp)]
    [InlineData("[::1]:8080:80", "::1", 8080, 8080, 80, 80, PortProtocol.Tcp)]
    [InlineData("0.0.0.0:9001:80", "0.0.0.0", 9001, 9001, 80, 80, PortProtocol.Tcp)]
    [InlineData("[::]:9001:80", "::", 9001, 9001, 80, 80, PortProtocol.Tcp)]
    [InlineData("[fd00::1]:8080:80/udp", "fd00::1", 8080, 8080, 80, 80, PortProtocol.Udp)]
    [InlineData("9000-9005:80/sctp", null, 9000, 9005, 80, 80, PortProtocol.Sctp)]
    public void Parses_DockerNotation(string text, string? ip, int hs, int he, int cs, int ce, PortProtocol proto)
    {
        var p = PortSpec.Parse(text);
        Assert.Equal(ip is null ? null : IPAddress.Parse(ip), p.HostIp);
        Assert.Equal((hs, he, cs, ce, proto), ((int)p.HostPortStart, (int)p.HostPortEnd, (int)p.ContainerPortStart, (int)p.ContainerPortEnd, p.Protocol));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("8088:80/icmp", "protocol")]
    [InlineData("8088:0", "container port")]
    [InlineData("70000:80", "host port")]
    [InlineData("8000-8002:80-90", "equal length")]
    [InlineData("90-80", "ends before")]
    [InlineData("1.2.3:8080:80", "IPv4")]
    [InlineData("::1:8080:80", "too many")]
    [InlineData("a:b", "not a valid")]
    public void Refuses_BadNotation_WithTheReason(string text, string reason)
    {
        var e = Assert.Throws<ContainerNetworkingException>(() => PortSpec.Parse(text));
        Assert.Equal("InvalidPortSpec", e.ErrorId);
        Assert.Contains(reason, e.Message);
        Assert.Contains("8088:80", e.Message); // the examples
    }

    [Fact]
    public void Resolve_RangesMapOneToOne_ChosenPortsSkipTakenOnes()
    {
        var ranged = PortSpec.Parse("8000-8002:80-82/udp").Resolve(_ => false);
        Assert.Equal(["8000:80/udp", "8001:81/udp", "8002:82/udp"], ranged.Select(m => m.ToString()));
        var taken = new PublishedPort(null, PortSpec.EphemeralFirst, 1, PortProtocol.Tcp);
        var chosen = PortSpec.Parse("80-81").Resolve(m => m.ConflictsWith(taken));
        Assert.Equal([(ushort)(PortSpec.EphemeralFirst + 1), (ushort)(PortSpec.EphemeralFirst + 2)], chosen.Select(m => m.HostPort));
        var fromRange = PortSpec.Parse("9000-9005:80").Resolve(m => m.HostPort == 9000);
        Assert.Equal(9001, fromRange.Single().HostPort);
    }

    [Fact]
    public void Resolve_ExplicitTakenPort_IsAlreadyAllocated_ButOtherAddressOrProtocolIsFine()
    {
        var existing = new PublishedPort(IPAddress.Loopback, 8080, 80, PortProtocol.Tcp);
        Assert.Equal("PortAlreadyAllocated", Assert.Throws<ContainerNetworkingException>(
            () => PortSpec.Parse("8080:80").Resolve(existing.ConflictsWith)).ErrorId);
        Assert.Single(PortSpec.Parse("127.0.0.2:8080:80").Resolve(existing.ConflictsWith));
        Assert.Single(PortSpec.Parse("8080:80/udp").Resolve(existing.ConflictsWith));
        // each family's wildcard claims that family only; no address claims both
        var v4Any = new PublishedPort(IPAddress.Any, 8080, 80, PortProtocol.Tcp);
        Assert.True(v4Any.ConflictsWith(existing));
        Assert.Single(PortSpec.Parse("[::]:8080:80").Resolve(v4Any.ConflictsWith));
        Assert.Single(PortSpec.Parse("[fd00::1]:8080:80").Resolve(v4Any.ConflictsWith));
        Assert.Throws<ContainerNetworkingException>(() => PortSpec.Parse("8080:80").Resolve(v4Any.ConflictsWith));
        Assert.Throws<ContainerNetworkingException>(() => PortSpec.Parse("[fd00::1]:8080:80").Resolve(new PublishedPort(IPAddress.IPv6Any, 8080, 80, PortProtocol.Tcp).ConflictsWith));
        Assert.True(v4Any.Covers(System.Net.Sockets.AddressFamily.InterNetwork));
        Assert.False(v4Any.Covers(System.Net.Sockets.AddressFamily.InterNetworkV6));
        Assert.True(existing with { HostIp = null } is { } both && both.Covers(System.Net.Sockets.AddressFamily.InterNetworkV6));
    }
}
