using ContainerNetworking.Model;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>A network's static routes (podman network create --route) and -NoDefaultRoute, read back from the containers.</summary>
public sealed class NetworkRouteTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    private static List<string> Routes(string ns, string family) =>
        Cli.IpJson(ns, family, "route", "show").EnumerateArray()
            .Where(r => r.TryGetProperty("gateway", out _))
            .Select(r => $"{r.GetProperty("dst").GetString()} via {r.GetProperty("gateway").GetString()} dev {r.GetProperty("dev").GetString()}")
            .OrderBy(s => s, StringComparer.Ordinal).ToList();

    [Fact]
    public void Routes_ArePushedIntoEveryContainer_Persisted_AndRepaired()
    {
        var net = _f.Manager.CreateNetwork(new NetworkSpec
        {
            Name = "routed", Subnet = Net("172.20.0.0/24"), SubnetV6 = Net("fd20::/64"),
            Routes = [NetworkRoute.Parse("10.99.0.0/16=172.20.0.254"), NetworkRoute.Parse("10.98.0.0/24"), NetworkRoute.Parse("fd99::/48,fd20::fe")],
        });
        Assert.Equal(["10.99.0.0/16=172.20.0.254", "10.98.0.0/24", "fd99::/48=fd20::fe"],
            new ContainerNetworkManager(_f.Host, _f.StateDir).GetNetwork("routed").Routes.Select(r => r.ToString()));
        Assert.Equal(3, net.Routes.Count);
        var a = _f.Run("routed", "a");
        var b = _f.Run("routed", "b");
        foreach (var c in new[] { a, b })
        {
            Assert.Equal(["10.98.0.0/24 via 172.20.0.1 dev eth0", "10.99.0.0/16 via 172.20.0.254 dev eth0", "default via 172.20.0.1 dev eth0"], Routes(c.Namespace!, "-4"));
            Assert.Contains("fd99::/48 via fd20::fe dev eth0", Routes(c.Namespace!, "-6"));
        }

        // Someone deletes one: Repair puts it back, and Repair again finds nothing.
        Cli.Run("ip", "-n", b.Namespace!, "route", "del", "10.99.0.0/16").Ok();
        var found = _f.Manager.Repair();
        Assert.Equal("MissingRoute", Assert.Single(found).Kind);
        Assert.Contains("10.99.0.0/16 via 172.20.0.254 dev eth0", Routes(b.Namespace!, "-4"));
        Assert.Empty(_f.Manager.Repair());
    }

    [Fact]
    public void NoDefaultRoute_LeavesContainersWithoutOne_AndADefaultRouteMayBeGivenInstead()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "nodef", Subnet = Net("172.21.0.0/24"), NoDefaultRoute = true, Routes = [NetworkRoute.Parse("10.0.0.0/8=172.21.0.254")] });
        var c = _f.Run("nodef", "c");
        Assert.Equal(["10.0.0.0/8 via 172.21.0.254 dev eth0"], Routes(c.Namespace!, "-4"));
        Assert.Null(c.Gateway);

        _f.Manager.CreateNetwork(new NetworkSpec { Name = "elsewhere", Subnet = Net("172.22.0.0/24"), NoDefaultRoute = true, Routes = [NetworkRoute.Parse("0.0.0.0/0=172.22.0.254")] });
        var d = _f.Run("elsewhere", "d");
        Assert.Equal(["default via 172.22.0.254 dev eth0"], Routes(d.Namespace!, "-4"));
    }

    [Theory]
    [InlineData("10.99.0.0/16=10.1.1.1", "not inside the network's subnet")]
    [InlineData("0.0.0.0/0=172.23.0.254", "-NoDefaultRoute")]
    [InlineData("fd99::/48", "no IPv6 subnet")]
    public void BadRoutes_AreRefused_AndNothingIsCreated(string route, string hint)
    {
        var before = _f.Snapshot();
        var e = Assert.Throws<ContainerNetworkingException>(() =>
            _f.Manager.CreateNetwork(new NetworkSpec { Name = "bad", Subnet = Net("172.23.0.0/24"), Routes = [NetworkRoute.Parse(route)] }));
        Assert.Equal("InvalidRoute", e.ErrorId);
        Assert.Contains(hint, e.Message);
        Assert.Equal(before, _f.Snapshot());
        Assert.Equal("InvalidRoute", Assert.Throws<ContainerNetworkingException>(() => NetworkRoute.Parse("10.99.0.0/16=nope")).ErrorId);
        Assert.Equal("InvalidRoute", Assert.Throws<ContainerNetworkingException>(() => NetworkRoute.Parse("10.99.0.1/16")).ErrorId);
    }
}
