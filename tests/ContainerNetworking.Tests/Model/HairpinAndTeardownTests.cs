using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>Hairpin on the container's bridge port, and the namespace-only teardown of Disconnect.</summary>
public sealed class HairpinAndTeardownTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    [Fact]
    public void Container_ReachesItsOwnPublishedPort_ThroughTheHostsAddress()
    {
        Outside.Create(_f);
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var c = _f.Run("bridge", "self", "9001:80");
        using var web = Traffic.Listen(c.Namespace!, 80, "self-web");

        // The bridge port has hairpin mode on (what lets the translated packet go back out of the port it came in on).
        var port = Cli.IpJson(_f.HostName, "-d", "link", "show", c.HostInterface!)[0];
        Assert.True(port.GetProperty("linkinfo").GetProperty("info_slave_data").GetProperty("hairpin").GetBoolean());

        // The container connects to the host's uplink address and its gateway, on its own published port, and gets its
        // own listener (the hairpin masquerade makes the connection come from the gateway).
        Assert.Equal("self-web 172.17.0.1", Traffic.Fetch(c.Namespace!, Outside.HostAddress, 9001));
        Assert.Equal("self-web 172.17.0.1", Traffic.Fetch(c.Namespace!, "172.17.0.1", 9001));
    }

    [Fact]
    public void Disconnect_DeletesTheNamespace_TheVethGoesWithIt_AndRepairFindsNothing()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var keep = _f.Run("bridge", "keep", "9001:80");
        var baseline = Regex(_f.Snapshot());
        var names = new List<ContainerEndpoint>();
        for (var i = 0; i < 5; i++) names.Add(_f.Run("bridge", "gone" + i, $"{9100 + i}:80"));
        var plan = _f.Manager.PlanDisconnect(names[0].Container, "bridge");
        Assert.DoesNotContain(plan.Steps, s => s.Name == "DeleteVeth");
        Assert.Contains(plan.Steps, s => s.Name == "DeleteNamespace" && s.Description.Contains(names[0].HostInterface!));
        foreach (var e in names) _f.Manager.Disconnect(e.Container, "bridge");
        foreach (var e in names) Assert.False(NetNamespace.Exists(e.Namespace!));
        // Right away, Repair does not call the veths the kernel is still taking down orphans.
        Assert.Empty(_f.Manager.Repair());
        Assert.Equal(baseline, Regex(_f.Snapshot()));
        Assert.True(Cli.Ping(keep.Namespace!, "172.17.0.1"));
    }

    // Links and the ruleset (the state directory differs by design: last_reserved_ip moved on).
    private static string Regex(string s) =>
        System.Text.RegularExpressions.Regex.Replace(s[..s.IndexOf("\n--state--\n", StringComparison.Ordinal)], @"counter packets \d+ bytes \d+", "counter");
}
