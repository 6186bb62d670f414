using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

public sealed class DiagnosisAndConcurrencyTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    private HopStatus Hop(ContainerEndpoint e, string hop) => _f.Manager.Test(e.Id).Single(h => h.Hop == hop).Status;

    [Fact]
    public void Test_NamesTheBrokenHop_AndItsFix()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var c = _f.Run("bridge", "c", "9001:80");
        Assert.All(_f.Manager.Test(c.Id), h => Assert.Equal(HopStatus.Ok, h.Status));

        Cli.Run("ip", "-n", c.Namespace!, "route", "del", "default").Ok();
        var route = _f.Manager.Test(c.Id).Single(h => h.Hop == "DefaultRoute");
        Assert.Equal(HopStatus.Broken, route.Status);
        Assert.Contains("unreachable", route.Detail);
        // Every fix names the namespace it acts on: the cmdlet's -NetNamespace, and ip -n after "# or:".
        Assert.Equal($"New-NetRoute -DestinationPrefix 0.0.0.0/0 -NextHop 172.17.0.1 -NetNamespace {c.Namespace}  # or: ip -n {c.Namespace} route add default via 172.17.0.1", route.Fix);
        Cli.Run("ip", "-n", c.Namespace!, "route", "add", "default", "via", "172.17.0.1").Ok();

        Cli.Run("ip", "-n", _f.HostName, "link", "set", c.HostInterface!, "down").Ok();
        Assert.Equal($"Set-NetLink {c.HostInterface} -Up -NetNamespace {_f.HostName}  # or: ip -n {_f.HostName} link set {c.HostInterface} up",
            _f.Manager.Test(c.Id).Single(h => h.Hop == "VethPeer").Fix);
        Cli.Run("ip", "-n", _f.HostName, "link", "set", c.HostInterface!, "up").Ok();

        Cli.Run("ip", "-n", _f.HostName, "link", "set", c.HostInterface!, "nomaster").Ok();
        Assert.Equal(HopStatus.Broken, Hop(c, "VethPeer"));
        Cli.Run("ip", "-n", _f.HostName, "link", "set", c.HostInterface!, "master", "docker0").Ok();

        Cli.Run("ip", "-n", c.Namespace!, "link", "set", "eth0", "down").Ok();
        Assert.Equal(HopStatus.Broken, Hop(c, "ContainerInterface"));
        Cli.Run("ip", "-n", c.Namespace!, "link", "set", "eth0", "up").Ok();
        Assert.Equal(HopStatus.Broken, Hop(c, "DefaultRoute")); // a link going down takes its routes along
        Cli.Run("ip", "-n", c.Namespace!, "route", "add", "default", "via", "172.17.0.1").Ok();

        Cli.Run("ip", "-n", _f.HostName, "addr", "flush", "dev", "docker0").Ok();
        Assert.Equal(HopStatus.Broken, Hop(c, "BridgeAddress"));
        Cli.Run("ip", "-n", _f.HostName, "addr", "add", "172.17.0.1/16", "dev", "docker0").Ok();

        _f.Host.WriteSysctl("net.ipv4.ip_forward", "0");
        Assert.Equal(HopStatus.Broken, Hop(c, "Forwarding"));
        Assert.Equal($"Enable-IpForwarding -NetNamespace {_f.HostName}  # or: ip netns exec {_f.HostName} sysctl -w net.ipv4.ip_forward=1",
            _f.Manager.Test(c.Id).Single(h => h.Hop == "Forwarding").Fix);
        _f.Host.WriteSysctl("net.ipv4.ip_forward", "1");

        Cli.InNs(_f.HostName, "nft", "delete", "element", "inet", "containernetworking", "ports4", "{ tcp . 9001 }").Ok();
        Assert.Equal(HopStatus.Broken, Hop(c, "PublishedPorts"));
        _f.Manager.Repair();

        Cli.InNs(_f.HostName, "nft", "add table ip filter; add chain ip filter FORWARD { type filter hook forward priority 0; policy drop; }").Ok();
        var drop = _f.Manager.Test(c.Id).Single(h => h.Hop == "ForeignDropPolicy");
        Assert.Equal(HopStatus.Warning, drop.Status);
        Assert.Contains("FORWARD", drop.Detail);
        Cli.InNs(_f.HostName, "nft", "delete", "table", "ip", "filter").Ok();

        Assert.All(_f.Manager.Test(c.Id), h => Assert.Equal(HopStatus.Ok, h.Status));
        Cli.Run("ip", "netns", "del", c.Namespace!).Ok();
        Assert.Equal(HopStatus.Broken, Hop(c, "Namespace"));
    }

    [Fact]
    public async Task TwoProcesses_Attach50EachAtOnce_100DistinctAddresses_100WorkingEndpoints()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var prefixes = new[] { TestNamespaces.UniqueName("agentA") + "x", TestNamespaces.UniqueName("agentB") + "x" };
        foreach (var p in prefixes) for (var i = 0; i < 50; i++) _f.Track(p + i);

        var procs = prefixes.Select(p => Agent.Start(_f, "bridge", 50, p)).ToList();
        var outputs = procs.Select(p => (Out: p.StandardOutput.ReadToEndAsync(), Err: p.StandardError.ReadToEndAsync())).ToList();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        foreach (var p in procs) await p.WaitForExitAsync(timeout.Token);
        var results = new List<(string Out, string Err)>();
        foreach (var o in outputs) results.Add((await o.Out, await o.Err));
        for (var i = 0; i < 2; i++) Assert.True(procs[i].ExitCode == 0, results[i].Err);

        var reported = results.SelectMany(o => o.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Select(l => l.Split(' ')[2]).ToList();
        Assert.Equal(100, reported.Count);
        Assert.Equal(100, reported.Distinct().Count());

        // This process sees what the other two built: 100 endpoints, 100 leases, each namespace holds its address.
        var endpoints = _f.Manager.GetEndpoints("bridge");
        Assert.Equal(100, endpoints.Count);
        Assert.Equal(reported.Order(), endpoints.Select(e => e.IPv4Address!.ToString()).Order());
        Assert.Equal(100, _f.Manager.State.Leases("bridge").Count);
        Assert.Empty(_f.Manager.Repair());
        var ports = Cli.IpJson(_f.HostName, "link", "show", "master", "docker0").GetArrayLength();
        Assert.Equal(100, ports);
        // Every endpoint answers: one ping from the host per container address.
        var dead = endpoints.Where(e => !Cli.Ping(_f.HostName, e.IPv4Address!.ToString(), waitSeconds: 2)).Select(e => e.Container).ToList();
        Assert.Empty(dead);
        foreach (var e in endpoints) Assert.True(NetNamespace.Exists(e.Namespace!));
    }
}
