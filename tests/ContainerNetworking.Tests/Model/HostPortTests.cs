using System.Diagnostics;
using System.Net;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// Host ports of -Publish: a chosen one skips what the port maps hold (any owner) and what a socket of the host holds;
/// an explicit one held by a listener is refused naming the process; choices stay distinct when other processes publish
/// at the same time; a failed Connect leaves last_reserved_ip where it was; an all-zero MAC is refused before anything.
/// </summary>
public sealed class HostPortTests : IDisposable
{
    private readonly ModelFixture _f = new();
    private readonly Processes _processes = new();

    public void Dispose()
    {
        _processes.Dispose();
        _f.Dispose();
    }

    private void Bridge() => _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });

    /// <summary>ncat listening (TCP) or bound (UDP) on <paramref name="port"/> in the host namespace; its process (pid = ncat's), stopped on Dispose.</summary>
    private Process Listen(int port, bool udp = false)
    {
        var p = _processes.StartInNs(_f.HostName, "ncat", "-l", udp ? "-u" : "-k", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Processes.WaitForSockets(_f.HostName, $"{(udp ? "-Hlun" : "-Hltn")} sport = :{port}");
        return p;
    }

    private List<int> MappedPorts() =>
        new ContainerFirewall(_f.Host).GetPublishedPorts().SelectMany(m => Enumerable.Range(m.HostPort, m.HostPortEnd - m.HostPort + 1)).Order().ToList();

    [Fact]
    public void AChosenHostPort_SkipsPortsPublishedByHand_AndPortsHeldBySockets()
    {
        Bridge();
        // Publish-ContainerPort's way: a mapping with no endpoint record behind it.
        new ContainerFirewall(_f.Host).Publish(new PortMappingSpec(PortProtocol.Tcp, 49153, Ip("172.17.0.200"), 80) { Owner = "by-hand" });
        Listen(49155);
        var a = _f.Run("bridge", "pa", "80");
        var b = _f.Run("bridge", "pb", "80");
        Assert.Equal(49154, a.Ports.Single().HostPort);
        Assert.Equal(49156, b.Ports.Single().HostPort); // 49155 is ncat's
        Assert.Equal([49153, 49154, 49156], MappedPorts());
        // UDP: a bound socket counts as well
        Listen(49153, udp: true);
        Assert.Equal(49154, _f.Run("bridge", "pu", "53/udp").Ports.Single().HostPort);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnExplicitHostPortHeldByAListener_IsRefused_NamingTheProcess_AndNothingIsMade(bool udp)
    {
        Bridge();
        _f.Run("bridge", "first");
        var listener = Listen(8080, udp);
        var before = _f.Snapshot();
        var name = _f.Container("refused");
        var e = Assert.Throws<ContainerNetworkingException>(() =>
            _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = name, CreateNamespace = true, Publish = [udp ? "8080:53/udp" : "8080:80"] }));
        Assert.Equal("HostPortInUse", e.ErrorId);
        Assert.Contains($"process {listener.Id} (ncat)", e.Message);
        Assert.Contains($"8080/{(udp ? "udp" : "tcp")}", e.Message);
        Assert.Contains(_f.HostName, e.Message);
        Assert.False(NetNamespace.Exists(name));
        Assert.Equal(before, _f.Snapshot()); // no lease, no record, no rule; last_reserved_ip where it was
        // the other protocol on that port is free
        Assert.Equal(8080, _f.Run("bridge", "other", udp ? "8080:80" : "8080:53/udp").Ports.Single().HostPort);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnExplicitHostPortHeldOnlyOverIPv6_IsRefused_NamingThatListener_NotOneOnAnotherPort(bool udp)
    {
        Bridge();
        // the host's sockets of both families on the port are asked for at once: this one is IPv6's, on ::1 only
        var listener = _processes.StartInNs(_f.HostName, "ncat", "-l", "-6", udp ? "-u" : "-k", "::1", "8081");
        Processes.WaitForSockets(_f.HostName, $"{(udp ? "-Hlun" : "-Hltn")} sport = :8081");
        var elsewhere = Listen(8082, udp);
        var publish = udp ? "/udp" : "";
        var before = _f.Snapshot();
        var name = _f.Container("refused6");
        var e = Assert.Throws<ContainerNetworkingException>(() =>
            _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = name, CreateNamespace = true, Publish = ["8081:80" + publish] }));
        Assert.Equal("HostPortInUse", e.ErrorId);
        Assert.Contains($"process {listener.Id} (ncat)", e.Message);
        Assert.DoesNotContain($"process {elsewhere.Id} ", e.Message);
        Assert.Contains("[::1]:8081", e.Message);
        Assert.False(NetNamespace.Exists(name));
        Assert.Equal(before, _f.Snapshot());
        // the port beside it is free, the other listener's port is not
        Assert.Equal(8083, _f.Run("bridge", "beside", "8083:80" + publish).Ports.Single().HostPort);
        Assert.Equal("HostPortInUse", Assert.Throws<ContainerNetworkingException>(() => _f.Run("bridge", "taken", "8082:80" + publish)).ErrorId);
    }

    [Fact]
    public void ALongExplicitRange_IsRefused_WhenARecordTheMapsOrASocketHoldOneOfItsPorts_AndGrantedWhenAllAreFree()
    {
        Bridge();
        // ten ports: tested against the records, the maps and the sockets read whole rather than one by one
        _f.Run("bridge", "holder", "9204:80");
        var fw = new ContainerFirewall(_f.Host);
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 9306, Ip("172.17.0.200"), 80) { Owner = "by-hand" });
        var listener = Listen(9408);
        var before = _f.Snapshot();
        ContainerNetworkingException Refused(string range) => Assert.Throws<ContainerNetworkingException>(() =>
            _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("range"), CreateNamespace = true, Publish = [range] }));
        var e = Refused("9200-9209:100-109");
        Assert.Equal("PortAlreadyAllocated", e.ErrorId);
        Assert.Contains("9204/tcp is already published by endpoint", e.Message);
        e = Refused("9300-9309:100-109");
        Assert.Equal("PortAlreadyAllocated", e.ErrorId);
        Assert.Contains("9306/tcp is already published", e.Message);
        Assert.Contains("Get-ContainerPort", e.Message);
        e = Refused("9400-9409:100-109");
        Assert.Equal("HostPortInUse", e.ErrorId);
        Assert.Contains($"process {listener.Id} (ncat)", e.Message);
        Assert.Contains("9408/tcp", e.Message);
        Assert.Equal(before, _f.Snapshot());
        // the same ranges of UDP are free, and so is a range beside them
        Assert.Equal(Enumerable.Range(9400, 10), _f.Run("bridge", "udp", "9400-9409:100-109/udp").Ports.Select(p => (int)p.HostPort));
        Assert.Equal(Enumerable.Range(9500, 10), _f.Run("bridge", "free", "9500-9509:100-109").Ports.Select(p => (int)p.HostPort));
    }

    [Fact]
    public void ChosenPorts_StayDistinct_WhileOtherProcessesConnectAndPublishByHand()
    {
        Bridge();
        // Three agents connect at once, each choosing a host port for "80"; meanwhile this process publishes by hand
        // (no state lock, as Publish-ContainerPort does) into the same range.
        var agents = Enumerable.Range(0, 3).Select(i =>
        {
            var prefix = TestNamespaces.UniqueName("race" + i) + "x";
            for (var k = 0; k < 3; k++) _f.Track(prefix + k);
            return Agent.Start(_f, "bridge", 3, prefix, null, "80");
        }).ToList();
        var fw = new ContainerFirewall(new ContainerNetworkManager(_f.Host, _f.StateDir).Host);
        var byHand = new List<int>();
        for (var port = 49153; port < 49153 + 40 && byHand.Count < 6; port++)
        {
            try
            {
                fw.Publish(new PortMappingSpec(PortProtocol.Tcp, port, Ip("172.17.0.250"), 80) { Owner = "by-hand" });
                byHand.Add(port);
                Thread.Sleep(30);
            }
            catch (ContainerNetworkingException x) when (x.ErrorId == "PortAlreadyPublished") { }
        }
        foreach (var a in agents)
        {
            Assert.True(a.WaitForExit(120_000));
            Assert.True(a.ExitCode == 0, a.StandardError.ReadToEnd());
            a.Dispose();
        }
        var endpoints = _f.Manager.GetEndpoints("bridge");
        Assert.Equal(9, endpoints.Count);
        var chosen = endpoints.Select(x => (int)x.Ports.Single().HostPort).ToList();
        Assert.Equal(9, chosen.Distinct().Count());
        Assert.Empty(chosen.Intersect(byHand));
        Assert.Equal(chosen.Concat(byHand).Order(), MappedPorts());
    }

    [Fact]
    public void AChosenPortTakenBetweenTheChoiceAndThePublish_IsChosenAgain_AnExplicitOneFails()
    {
        Bridge();
        var fw = new ContainerFirewall(_f.Host);
        // Another process publishes 49153 by hand right after the Connect chose it (before its PublishPorts step): the
        // kernel refuses the exclusive insert (EEXIST) and the Connect chooses again.
        FaultInjection.Interleave("PublishPorts", () => fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 49153, Ip("172.17.0.250"), 80) { Owner = "by-hand" }));
        var e = _f.Run("bridge", "again", "80");
        Assert.Equal(49154, e.Ports.Single().HostPort);
        Assert.Equal(49154, _f.Manager.State.ReadEndpoint("bridge", e.Id)!.Ports.Single().HostPort);
        Assert.Equal([49153, 49154], MappedPorts());

        // An explicit port has no other choice: the Connect fails and rolls back.
        FaultInjection.Interleave("PublishPorts", () => fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 9001, Ip("172.17.0.250"), 80) { Owner = "by-hand" }));
        var before = LastReserved();
        var name = _f.Container("explicit");
        var x = Assert.Throws<ContainerNetworkingException>(() => _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = name, CreateNamespace = true, Publish = ["9001:80"] }));
        Assert.Equal("PortAlreadyPublished", x.ErrorId);
        Assert.False(NetNamespace.Exists(name));
        Assert.Equal(before, LastReserved());
        Assert.Single(_f.Manager.GetEndpoints("bridge"));
    }

    private string? LastReserved() => _f.Manager.State.LastReserved("bridge", System.Net.Sockets.AddressFamily.InterNetwork)?.ToString();

    [Fact]
    public void AFailedConnect_LeavesLastReservedWhereItWas()
    {
        Bridge();
        _f.Run("bridge", "first");
        Assert.Equal("172.17.0.2", LastReserved());
        Cli.Run("ip", "-n", _f.HostName, "link", "del", "docker0").Ok(); // CreateVeth fails, after the lease step
        var name = _f.Container("fails");
        Assert.Throws<ContainerNetworkingException>(() => _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = name, CreateNamespace = true }));
        Assert.Equal("172.17.0.2", LastReserved());
        Assert.False(_f.Manager.State.IsLeased("bridge", Ip("172.17.0.3")));
    }

    [Fact]
    public void AnAllZeroMac_IsRefused_BeforeTheNamespaceAndTheLease()
    {
        Bridge();
        _f.Run("bridge", "first");
        var before = _f.Snapshot();
        var name = _f.Container("zeromac");
        var e = Assert.Throws<ContainerNetworkingException>(() =>
            _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = name, CreateNamespace = true, MacAddress = "00:00:00:00:00:00", Publish = ["9001:80"] }));
        Assert.Equal("InvalidMacAddress", e.ErrorId);
        Assert.False(NetNamespace.Exists(name));
        Assert.False(_f.Manager.State.IsLeased("bridge", Ip("172.17.0.3")));
        Assert.Equal(before, _f.Snapshot());
    }
}
