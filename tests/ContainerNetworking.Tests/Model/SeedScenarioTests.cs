using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>The walkthroughs (S000, S001, S004's pods) built with the model, checked with real packets.</summary>
public sealed class SeedScenarioTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    [Fact]
    public void S001_Docker0_ContainersReachEachOther_TheHost_TheOutsideMasqueraded_AndPublishedPorts()
    {
        var outside = Outside.Create(_f);
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var c2 = _f.Run("bridge", "c2", "9001:80");
        var c3 = _f.Run("bridge", "c3", "9002:80");
        Assert.Equal(Ip("172.17.0.2"), c2.IPv4Address);
        Assert.Equal("9001:80/tcp", Assert.Single(c2.Ports).ToString());

        using var web2 = Traffic.Listen(c2.Namespace!, 80, "nginx-c2");
        using var web3 = Traffic.Listen(c3.Namespace!, 80, "nginx-c3");
        using var world = Traffic.Listen(outside, 7000, "outside-saw");

        Assert.True(Cli.Ping(c2.Namespace!, "172.17.0.3"), "c2 -> c3");
        Assert.True(Cli.Ping(c3.Namespace!, "172.17.0.1"), "c3 -> host");
        Assert.Equal("nginx-c3 172.17.0.2", Traffic.Fetch(c2.Namespace!, "172.17.0.3", 80));
        // Out through the host: the outside sees the host's address, not 172.17.0.2 (masquerade), and has no route back.
        Assert.Equal($"outside-saw {Outside.HostAddress}", Traffic.Fetch(c2.Namespace!, Outside.Address, 7000));
        Assert.True(Cli.Ping(c3.Namespace!, Outside.Address), "c3 -> outside (ping, masqueraded)");
        // In through the published ports, from another machine and from the host itself (curl 127.0.0.1:9001).
        Assert.StartsWith("nginx-c2 ", Traffic.Fetch(outside, Outside.HostAddress, 9001));
        Assert.StartsWith("nginx-c3 ", Traffic.Fetch(outside, Outside.HostAddress, 9002));
        Assert.StartsWith("nginx-c2 ", Traffic.Fetch(_f.HostName, "127.0.0.1", 9001));
        // The oracle: nft shows the mapping to 172.17.0.2 . 80 and the masquerade of the subnet.
        var ruleset = Cli.InNs(_f.HostName, "nft", "list", "ruleset").Ok().Stdout;
        Assert.Contains("172.17.0.2 . 80", ruleset);
        Assert.Contains("172.17.0.0/16", ruleset);

        // Every hop of c2's path is fine.
        var hops = _f.Manager.Test(c2.Container, "bridge");
        Assert.All(hops, h => Assert.True(h.Status == HopStatus.Ok, $"{h.Hop}: {h.Status} {h.Detail}"));

        // Unpublished with Disconnect: the port no longer answers, the other still does.
        _f.Manager.Disconnect(c2.Container, "bridge");
        Assert.Null(Traffic.Fetch(outside, Outside.HostAddress, 9001));
        Assert.StartsWith("nginx-c3 ", Traffic.Fetch(outside, Outside.HostAddress, 9002));
        Assert.DoesNotContain("172.17.0.2 . 80", Cli.InNs(_f.HostName, "nft", "list", "ruleset").Ok().Stdout);
    }

    [Fact]
    public void S000_Net1BehindBr0_OutThroughNat_AndInOn8088()
    {
        var outside = Outside.Create(_f);
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "net0", BridgeName = "br0", Subnet = Net("192.168.0.0/24") });
        var ns = _f.Container("net1");
        var net1 = _f.Manager.Connect(new EndpointSpec { Network = "net0", Namespace = ns, CreateNamespace = true, Container = "net1", Publish = ["8088:80"] });
        Assert.Equal(Ip("192.168.0.2"), net1.IPv4Address);
        Assert.Equal("192.168.0.1", Cli.IpJson(ns, "route", "show", "default")[0].GetProperty("gateway").GetString());

        using var nc = Traffic.Listen(ns, 80, "net1");
        using var world = Traffic.Listen(outside, 7000, "outside-saw");
        Assert.Equal($"outside-saw {Outside.HostAddress}", Traffic.Fetch(ns, Outside.Address, 7000));
        // The telnet to host:8088 from another machine reaches nc -lp 80 in net1, which sees the real client.
        Assert.Equal($"net1 {Outside.Address}", Traffic.Fetch(outside, Outside.HostAddress, 8088));
    }

    [Fact]
    public void Pod_TwoContainersShareOneNamespace_TalkOverLocalhost_PortsPublishedOnce()
    {
        var outside = Outside.Create(_f);
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "pods", BridgeName = "cni0", Subnet = Net("10.244.1.0/24") });
        var pod = _f.Run("pods", "pod", "8080:80");
        var app = _f.Manager.Connect(new EndpointSpec { ShareWith = pod.Container, Container = "app" });
        var sidecar = _f.Manager.Connect(new EndpointSpec { ShareWith = pod.Id[..12], Container = "sidecar" });
        Assert.Equal(EndpointMode.Container, app.Mode);
        Assert.Equal(pod.Namespace, app.Namespace);
        Assert.Equal(pod.NamespaceId, sidecar.NamespaceId);
        Assert.Equal(pod.IPv4Address, app.IPv4Address);
        Assert.Equal(pod.Id, sidecar.SharedWith);
        // One namespace, one eth0: joining made no link.
        Assert.Equal(["eth0", "lo"], Cli.IpJson(pod.Namespace!, "link", "show").EnumerateArray().Select(l => l.GetProperty("ifname").GetString()).Order());

        // "app" serves on localhost; "sidecar" reaches it over localhost; the pod's port reaches "app" from outside.
        using var svc = Traffic.Listen(pod.Namespace!, 80, "app");
        Assert.Equal("app 127.0.0.1", Traffic.Fetch(pod.Namespace!, "127.0.0.1", 80));
        Assert.Equal($"app {Outside.Address}", Traffic.Fetch(outside, Outside.HostAddress, 8080));

        var e = Assert.Throws<ContainerNetworkingException>(() => _f.Manager.Connect(new EndpointSpec { ShareWith = pod.Container, Container = "web2", Publish = ["8081:80"] }));
        Assert.Equal("PortsNotSupported", e.ErrorId);
        e = Assert.Throws<ContainerNetworkingException>(() => _f.Manager.Disconnect(pod.Container, "pods"));
        Assert.Equal("EndpointInUse", e.ErrorId);
        Assert.True(NetNamespace.Exists(pod.Namespace!));

        _f.Manager.Disconnect("app", "pods");
        Assert.True(NetNamespace.Exists(pod.Namespace!));
        Assert.Equal($"app {Outside.Address}", Traffic.Fetch(outside, Outside.HostAddress, 8080));
        _f.Manager.Disconnect(pod.Container, "pods", force: true); // takes the sidecar along
        Assert.Empty(_f.Manager.GetEndpoints("pods"));
        Assert.False(NetNamespace.Exists(pod.Namespace!));
    }

    [Fact]
    public void HostAndNoneModes()
    {
        // none: a namespace with only lo, up.
        var ns = _f.Container("none");
        var none = _f.Manager.Connect(new EndpointSpec { Network = "none", Namespace = ns, CreateNamespace = true });
        Assert.Equal(EndpointMode.None, none.Mode);
        var links = Cli.IpJson(ns, "link", "show");
        Assert.Equal("lo", Assert.Single(links.EnumerateArray()).GetProperty("ifname").GetString());
        Assert.Contains("UP", links[0].GetProperty("flags").ToString());
        Assert.True(Cli.Ping(ns, "127.0.0.1"));

        // host: only a record; the host's links are unchanged; ports are refused.
        var before = Cli.IpJson(_f.HostName, "link", "show").ToString();
        var host = _f.Manager.Connect(new EndpointSpec { Network = "host", Container = "monitor" });
        Assert.Equal(EndpointMode.Host, host.Mode);
        Assert.Equal(_f.Host.Id, host.NamespaceId);
        Assert.Equal(before, Cli.IpJson(_f.HostName, "link", "show").ToString());
        Assert.Equal("PortsNotSupported", Assert.Throws<ContainerNetworkingException>(
            () => _f.Manager.Connect(new EndpointSpec { Network = "host", Container = "web", Publish = ["80:80"] })).ErrorId);

        // Both survive the process: a new manager sees them; Disconnect removes the namespace none made.
        var other = new ContainerNetworkManager(_f.Host, _f.StateDir);
        Assert.Equal(["monitor"], other.GetEndpoints("host").Select(x => x.Container));
        other.Disconnect(none.Id);
        other.Disconnect("monitor", "host");
        Assert.False(NetNamespace.Exists(ns));
        Assert.Empty(other.GetEndpoints());
    }
}
