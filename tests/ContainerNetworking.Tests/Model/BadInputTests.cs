using System.Text.RegularExpressions;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>Bad input gets a clear error with a stable ErrorId, and changes nothing: links, rules, state, namespaces.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    private string Snapshot() => Regex.Replace(_f.Snapshot(), @"counter packets \d+ bytes \d+", "counter");

    private void Refused(string errorId, Action act, string? mentions = null)
    {
        var before = Snapshot();
        var e = Assert.ThrowsAny<ContainerNetworkingException>(act);
        Assert.Equal(errorId, e.ErrorId);
        if (mentions is not null) Assert.Contains(mentions, e.Message);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public void EveryRefusal_ChangesNothing()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "tiny", Subnet = Net("10.50.0.0/30") }); // one usable address: .2
        var c1 = _f.Run("bridge", "c1", "8080:80");
        _f.Run("tiny", "t1");

        Refused("SubnetOverlap", () => _f.Manager.CreateNetwork(new NetworkSpec { Name = "n2", Subnet = Net("172.17.128.0/17") }), "bridge");
        Refused("NetworkExists", () => _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", Subnet = Net("172.30.0.0/16") }));
        Refused("NetworkExists", () => _f.Manager.CreateNetwork(new NetworkSpec { Name = "host" }));
        Refused("GatewayOutsideSubnet", () => _f.Manager.CreateNetwork(new NetworkSpec { Name = "n3", Subnet = Net("172.30.0.0/16"), Gateway = Ip("172.31.0.1") }), "172.30.0.0/16");
        Refused("BridgeExists", () => _f.Manager.CreateNetwork(new NetworkSpec { Name = "n4", BridgeName = "docker0", Subnet = Net("172.30.0.0/16") }));
        Refused("InvalidName", () => _f.Manager.CreateNetwork(new NetworkSpec { Name = "n5", BridgeName = "a-very-long-bridge-name", Subnet = Net("172.30.0.0/16") }));
        Refused("InvalidName", () => _f.Manager.CreateNetwork(new NetworkSpec { Name = "bad/name" }));

        Refused("AddressInUse", () => _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("x"), CreateNamespace = true, IPv4Address = c1.IPv4Address }), c1.IPv4Address!.ToString());
        Refused("AddressInUse", () => _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("x"), CreateNamespace = true, IPv4Address = Ip("172.17.0.1") }), "gateway");
        Refused("AddressOutsideRange", () => _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("x"), CreateNamespace = true, IPv4Address = Ip("10.0.0.5") }));
        Refused("AddressRangeExhausted", () => _f.Manager.Connect(new EndpointSpec { Network = "tiny", Namespace = _f.Container("x"), CreateNamespace = true }), "10.50.0.0/30");
        Refused("NamespaceAlreadyAttached", () => _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = c1.Namespace }), c1.Container);
        Refused("NetworkNotFound", () => _f.Manager.Connect(new EndpointSpec { Network = "nope", Namespace = _f.Container("x"), CreateNamespace = true }), "New-ContainerNetwork");
        Refused("NetworkNotFound", () => _f.Manager.RemoveNetwork("nope"));
        Refused("NetNamespaceNotFound", () => _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = "cnt-missing-0-0" }));
        Refused("NetNamespaceExists", () => _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = c1.Namespace, CreateNamespace = true }));
        Refused("PortAlreadyAllocated", () => _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("x"), CreateNamespace = true, Publish = ["8080:80"] }), "8080");
        Refused("InvalidPortSpec", () => _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("x"), CreateNamespace = true, Publish = ["80:8080:90:1"] }));
        Refused("InvalidMacAddress", () => _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("x"), CreateNamespace = true, MacAddress = "01:00:5e:00:00:01" }));
        Refused("EndpointExists", () => _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("x"), CreateNamespace = true, Container = c1.Container }));
        Refused("NetworkHasEndpoints", () => _f.Manager.RemoveNetwork("bridge"), c1.Container);
        Refused("EndpointNotFound", () => _f.Manager.Disconnect("nobody"));
        Refused("PredefinedNetwork", () => _f.Manager.RemoveNetwork("none"));

        // An existing namespace that is already attached keeps working.
        Assert.True(Cli.Ping(c1.Namespace!, "172.17.0.1"));
        // The things that were refused remain possible with the right input; running Remove twice is an error, not damage.
        _f.Manager.RemoveNetwork("bridge", force: true);
        Assert.Null(_f.Host.Rtnl.FindLink("docker0"));
        Assert.False(NetNamespace.Exists(c1.Namespace!));
        Refused("NetworkNotFound", () => _f.Manager.RemoveNetwork("bridge"));
    }

    [Fact]
    public void WhatIfPlan_ListsEverything_AndChangesNothing()
    {
        var before = Snapshot();
        var plan = _f.Manager.PlanCreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16"), SubnetV6 = Net("fd00:17::/64") });
        Assert.Equal(before, Snapshot());
        var text = plan.ToString();
        Assert.Contains("ip link add docker0 type bridge", text);
        Assert.Contains("ip addr add 172.17.0.1/16 dev docker0", text);
        Assert.Contains("fd00:17::1/64", text);
        Assert.Contains("masquerade 172.17.0.0/16", text);
        // A plan against a state directory that does not exist yet creates neither it nor its lock file.
        var fresh = Path.Combine(_f.StateDir, "not-yet");
        new ContainerNetworkManager(_f.Host, fresh).PlanCreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        Assert.False(Directory.Exists(fresh));

        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        before = Snapshot();
        var ns = _f.Container("c");
        var connect = _f.Manager.PlanConnect(new EndpointSpec { Network = "bridge", Namespace = ns, CreateNamespace = true, Publish = ["127.0.0.1:8080:80/tcp"] }).ToString();
        Assert.Equal(before, Snapshot());
        Assert.False(NetNamespace.Exists(ns));
        Assert.Contains($"ip netns add {ns}", connect);
        Assert.Contains("address 02:42:ac:11:00:02", connect);
        Assert.Contains("route add default via 172.17.0.1", connect);
        Assert.Contains("127.0.0.1:8080:80/tcp -> 172.17.0.2:80", connect);
    }

    [Fact]
    public void DualStack_EndpointsGetBothFamilies()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "ds", Subnet = Net("172.28.0.0/16"), SubnetV6 = Net("fd00:28::/64") });
        var a = _f.Run("ds", "a");
        var b = _f.Run("ds", "b");
        Assert.Equal(Ip("fd00:28::2"), a.IPv6Address);
        Assert.Equal(Ip("fd00:28::3"), b.IPv6Address);
        var addrs = Cli.IpJson(a.Namespace!, "-6", "addr", "show", "eth0")[0].GetProperty("addr_info").EnumerateArray().Select(x => x.GetProperty("local").GetString());
        Assert.Contains("fd00:28::2", addrs);
        Assert.Equal("fd00:28::1", Cli.IpJson(a.Namespace!, "-6", "route", "show", "default")[0].GetProperty("gateway").GetString());
        Assert.True(Cli.Ping(a.Namespace!, "172.28.0.3"));
        // IPv6 neighbours need DAD to finish; ping retries for a few seconds.
        Assert.True(Cli.Ping(a.Namespace!, "fd00:28::3", count: 1, waitSeconds: 5) || Cli.Ping(a.Namespace!, "fd00:28::3", count: 3, waitSeconds: 5));
    }
    [Fact]
    public void UnclearRefusals_NameTheProblemAndAFixThatWorks()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        // 'host' is predefined: the advice must not be a removal that is refused.
        Refused("NetworkExists", () => _f.Manager.CreateNetwork(new NetworkSpec { Name = "host" }), "predefined");
        Assert.DoesNotContain("Remove-ContainerNetwork", Assert.ThrowsAny<ContainerNetworkingException>(() => _f.Manager.CreateNetwork(new NetworkSpec { Name = "none" })).Message);
        // 57-64 characters: refused up front (the owner 'network:NAME' holds 64), not later as InvalidOwner.
        Refused("InvalidName", () => _f.Manager.CreateNetwork(new NetworkSpec { Name = new string('n', 57), Subnet = Net("172.30.0.0/16") }), "1-56");
        Refused("InvalidName", () => _f.Manager.CreateNetwork(new NetworkSpec { Name = new string('n', 64), Subnet = Net("172.30.0.0/16") }), "64 characters");
        var longest = _f.Manager.CreateNetwork(new NetworkSpec { Name = new string('n', 56), Subnet = Net("172.30.0.0/16") });
        _f.Manager.RemoveNetwork(longest.Name);
        // A link of that name exists: the fix names the cmdlet and the namespace.
        _f.Host.Rtnl.CreateBridge("taken0");
        Refused("BridgeExists", () => _f.Manager.CreateNetwork(new NetworkSpec { Name = "n4", BridgeName = "taken0", Subnet = Net("172.30.0.0/16") }),
            $"Remove-NetLink taken0 -NetNamespace {_f.HostName}  # or: ip -n {_f.HostName} link del taken0");
    }

    [Fact]
    public void AStateDirectoryThatIsAFile_IsNamed_ByEveryOperation()
    {
        var file = Path.Combine(_f.StateDir, "state-file");
        File.WriteAllText(file, "not a directory");
        var m = new ContainerNetworkManager(_f.Host, file);
        var before = Snapshot();
        foreach (var act in new Action[]
                 {
                     () => m.CreateNetwork(new NetworkSpec { Name = "n1", Subnet = Net("172.30.0.0/16") }),
                     () => m.GetNetworks(),
                     () => m.Repair(),
                     () => m.Connect(new EndpointSpec { Network = "bridge", Namespace = "x", CreateNamespace = true }),
                 })
        {
            var e = Assert.ThrowsAny<ContainerNetworkingException>(act);
            Assert.Equal("StateDirectoryNotADirectory", e.ErrorId);
            Assert.Contains(file + " is a file", e.Message);
            Assert.Contains("-StateDirectory", e.Message);
        }
        Assert.Equal(before, Snapshot());
        Assert.Equal("not a directory", File.ReadAllText(file));
    }

    [Fact]
    public void ANetworkRecordThatIsADirectory_IsStateCorrupt_NamingIt()
    {
        var dir = Path.Combine(_f.StateDir, "networks", "odd", "network.json");
        Directory.CreateDirectory(dir);
        var before = Snapshot();
        var e = Assert.ThrowsAny<ContainerNetworkingException>(() => _f.Manager.GetNetworks());
        Assert.Equal("StateCorrupt", e.ErrorId);
        Assert.Contains(dir, e.Message);
        Assert.Contains("is a directory, not a file", e.Message);
        Assert.Equal(before, Snapshot());
    }
}
