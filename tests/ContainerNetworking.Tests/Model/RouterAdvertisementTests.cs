using ContainerNetworking.Model;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// A host that learns its IPv6 default route by SLAAC keeps learning it after a dual-stack network switched IPv6
/// forwarding on: accept_ra goes from 1 to 2 (only where it was 1), and a router advertisement from the outside still
/// gives the host its default route.
/// </summary>
public sealed class RouterAdvertisementTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    private string Sysctl(string key) => Cli.InNs(_f.HostName, "sysctl", "-n", key).Ok().Stdout.Trim();

    /// <summary>Waits until the link-local address of <paramref name="dev"/> in <paramref name="ns"/> has passed duplicate address detection.</summary>
    private static void WaitForLinkLocal(string ns, string dev)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var text = Cli.Run("ip", "-n", ns, "-6", "addr", "show", "dev", dev, "scope", "link").Stdout;
            if (text.Contains("fe80::", StringComparison.Ordinal) && !text.Contains("tentative", StringComparison.Ordinal)) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no usable link-local address on {dev} in {ns}: {text}");
            Thread.Sleep(100);
        }
    }

    /// <summary>One router advertisement (router lifetime 1800 s) from <paramref name="ns"/>'s eth0 to all nodes, sent by python's raw ICMPv6 socket.</summary>
    private static void SendRouterAdvertisement(string ns) => Cli.InNs(ns, "python3", "-c", """
        import socket, struct
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        i = socket.if_nametoindex('eth0')
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, i)
        ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 1800, 0, 0)  # type, code, checksum (the kernel's), hop limit, flags, lifetime, reachable, retrans
        s.sendto(ra, ('ff02::1', 0, 0, i))
        """).Ok();

    [Fact]
    public void IPv6Forwarding_KeepsRouterAdvertisementsAccepted_WhereTheyWere_AndTheDefaultRouteIsLearnt()
    {
        var outside = Outside.Create(_f);
        Cli.InNs(_f.HostName, "sysctl", "-qw", "net.ipv6.conf.uplink0.accept_ra=1").Ok();
        Cli.Run("ip", "-n", _f.HostName, "link", "add", "quiet0", "type", "bridge").Ok();
        Cli.InNs(_f.HostName, "sysctl", "-qw", "net.ipv6.conf.quiet0.accept_ra=0").Ok();
        Assert.Equal("0", Sysctl("net.ipv6.conf.all.forwarding"));
        var defaultBefore = Sysctl("net.ipv6.conf.default.accept_ra");

        _f.Manager.CreateNetwork(new NetworkSpec { Name = "ds", BridgeName = "br-ds", Subnet = Net("172.28.0.0/16"), SubnetV6 = Net("fd00:28::/64") });

        Assert.Equal("1", Sysctl("net.ipv6.conf.all.forwarding"));
        Assert.Equal("2", Sysctl("net.ipv6.conf.uplink0.accept_ra"));
        Assert.Equal("0", Sysctl("net.ipv6.conf.quiet0.accept_ra"));   // off stays off
        Assert.Equal(defaultBefore == "1" ? "2" : defaultBefore, Sysctl("net.ipv6.conf.default.accept_ra"));

        // The outside world's router advertises itself: the host, now a router itself, still takes the default route.
        WaitForLinkLocal(outside, "eth0");
        WaitForLinkLocal(_f.HostName, "uplink0");
        SendRouterAdvertisement(outside);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        string routes;
        while (!(routes = Cli.Run("ip", "-n", _f.HostName, "-6", "route", "show", "default").Stdout).Contains("dev uplink0", StringComparison.Ordinal)
               && DateTime.UtcNow < deadline)
            Thread.Sleep(100);
        Assert.Contains("proto ra", routes);
        Assert.Contains("dev uplink0", routes);
    }
}
