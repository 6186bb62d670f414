using ContainerNetworking.Model;
using ContainerNetworking.Route;
using ContainerNetworking.Tests.Fixtures;
using ContainerNetworking.Tests.RouteLayer;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// A container on a network without IPv6 gets no IPv6 of its own on its interface (addrgenmode none, as Docker disables
/// IPv6 there): it sends nothing that the bridge would flood to every other container. On a dual-stack network the
/// interface keeps its link-local address.
/// </summary>
public sealed class ContainerIPv6Tests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    private static string? AddrGenMode(string ns, string dev) => Oracle.Link(ns, dev)!.Value.Str("inet6_addr_gen_mode");

    private static string[] IPv6Addresses(string ns, string dev) =>
        [.. Oracle.Addresses(ns, dev).Where(a => a.Str("family") == "inet6").Select(a => a.Str("local")!)];

    /// <summary>Packets the container has sent: what the host end of its veth has received.</summary>
    private long SentByContainer(ContainerEndpoint e) =>
        Cli.IpJson(_f.HostName, "-s", "link", "show", "dev", e.HostInterface!)[0].GetProperty("stats64").GetProperty("rx").GetProperty("packets").GetInt64();

    [Fact]
    public void IPv4OnlyNetwork_TheContainerInterfaceHasNoIPv6_AndSendsNothing_DualStackKeepsItsLinkLocal()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "v4", BridgeName = "cn-v4", Subnet = Net("172.21.0.0/16") });
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "ds", BridgeName = "cn-ds", Subnet = Net("172.22.0.0/16"), SubnetV6 = Net("fd00:22::/64") });
        var quiet = _f.Run("v4", "q");
        var dual = _f.Run("ds", "d");

        Assert.Equal("none", AddrGenMode(quiet.Namespace!, "eth0"));
        Assert.Equal("eui64", AddrGenMode(dual.Namespace!, "eth0"));
        // The dual-stack container is heard within seconds (duplicate address detection, MLD reports, router
        // solicitations): this is what the count below would see from the IPv4-only one if it had IPv6.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (SentByContainer(dual) == 0 && DateTime.UtcNow < deadline) Thread.Sleep(100);
        Assert.True(SentByContainer(dual) > 0, "the dual-stack container sent nothing within 5 s");
        Assert.Contains(IPv6Addresses(dual.Namespace!, "eth0"), a => a.StartsWith("fe80:", StringComparison.Ordinal));
        Assert.Contains("fd00:22::2", IPv6Addresses(dual.Namespace!, "eth0"));

        Assert.Equal(0, SentByContainer(quiet));
        Assert.Empty(IPv6Addresses(quiet.Namespace!, "eth0"));
        // Loopback keeps ::1, and IPv4 works.
        Assert.Contains("::1", IPv6Addresses(quiet.Namespace!, "lo"));
        Assert.True(Cli.Ping(quiet.Namespace!, "172.21.0.1"));
    }

    [Fact]
    public void NetworkBelowIPv6MinimumMtu_ConnectWorks_TheInterfaceHasNoIPv6()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "small", BridgeName = "cn-small", Subnet = Net("172.23.0.0/16"), Mtu = 1200 });
        var c = _f.Run("small", "s");
        var eth0 = Oracle.Link(c.Namespace!, "eth0")!.Value;
        Assert.Equal(1200, eth0.Int("mtu"));
        Assert.False(eth0.TryGetProperty("inet6_addr_gen_mode", out _));
        Assert.True(Cli.Ping(c.Namespace!, "172.23.0.1"));
    }

    [Fact]
    public void ExistingNamespace_SecondInterface_OnAnIPv4OnlyNetwork_ComesUpQuiet()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "one", BridgeName = "cn-one", Subnet = Net("172.24.0.0/16"), SubnetV6 = Net("fd00:24::/64") });
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "two", BridgeName = "cn-two", Subnet = Net("172.25.0.0/16") });
        var a = _f.Run("one", "m");
        var b = _f.Manager.Connect(new EndpointSpec { Network = "two", Namespace = a.Namespace!, Container = "m-two" });
        Assert.Equal("eth1", b.InterfaceName);
        Assert.Equal("eui64", AddrGenMode(a.Namespace!, "eth0"));
        Assert.Equal("none", AddrGenMode(a.Namespace!, "eth1"));
        Assert.Empty(IPv6Addresses(a.Namespace!, "eth1"));
        using var ns = ContainerNetworking.Namespaces.NetNamespace.Open(a.Namespace!);
        Assert.Equal(IPv6AddressGeneration.None, ns.Rtnl.GetLink("eth1").IPv6AddressGeneration);
    }
}
