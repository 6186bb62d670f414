using ContainerNetworking.Model;
using ContainerNetworking.Tests.Fixtures;
using ContainerNetworking.Tests.Netfilter;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// Records that a power cut left empty or cut short: StateCorrupt names the file and the Repair command for this host
/// and state directory; Repair sets the record aside and removes what it described, after which the network can be
/// created (the container connected) again.
/// </summary>
public sealed class StateCorruptionTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    private List<string> Links() => Cli.IpJson(_f.HostName, "link", "show").EnumerateArray().Select(l => l.GetProperty("ifname").GetString()!).ToList();

    private string NetworkFile(string network) => Path.Combine(_f.StateDir, "networks", network, "network.json");

    [Fact]
    public void AnEmptyNetworkRecord_IsStateCorrupt_AndRepairSetsItAside_WithItsBridgeRulesAndContainers()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var c = _f.Run("bridge", "cut", "9001:80");
        File.WriteAllBytes(NetworkFile("bridge"), []); // what a rename without fsync leaves after a power cut

        var e = Assert.Throws<ContainerNetworkingException>(() => _f.Manager.GetNetwork("bridge"));
        Assert.Equal("StateCorrupt", e.ErrorId);
        Assert.Contains(NetworkFile("bridge"), e.Message);
        Assert.Contains("it is empty", e.Message);
        Assert.Contains($"Repair-ContainerNetwork -StateDirectory {_f.StateDir} -NetNamespace {_f.HostName}", e.Message);
        // every command that reads the records says so, not only the one for that network
        Assert.Equal("StateCorrupt", Assert.Throws<ContainerNetworkingException>(() => _f.Manager.GetEndpoints()).ErrorId);

        var before = _f.Snapshot();
        var plan = _f.Manager.Repair(whatIf: true);
        var finding = Assert.Single(plan, x => x.Kind == "CorruptNetworkRecord");
        Assert.Equal("WouldRemove", finding.Action);
        Assert.Contains("its bridge docker0 and its rules are removed", finding.Detail);
        Assert.Equal(before, _f.Snapshot());

        var done = _f.Manager.Repair();
        Assert.Contains(done, x => x.Kind == "CorruptNetworkRecord" && x.Action == "Removed");
        Assert.All(done, x => Assert.NotEqual("Failed", x.Action));
        Assert.DoesNotContain("docker0", Links());
        Assert.DoesNotContain("docker0", NftOracle.RulesetText(_f.HostName));
        Assert.DoesNotContain("9001", NftOracle.RulesetText(_f.HostName));
        Assert.False(ContainerNetworking.Namespaces.NetNamespace.Exists(c.Namespace!));
        Assert.False(Directory.Exists(Path.Combine(_f.StateDir, "networks", "bridge")));
        Assert.Single(Directory.GetDirectories(Path.Combine(_f.StateDir, "corrupt")), d => Path.GetFileName(d).StartsWith("bridge.network.", StringComparison.Ordinal));
        Assert.Empty(_f.Manager.Repair());

        // and the network is made again as before
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var again = _f.Run("bridge", "again", "9001:80");
        Assert.Equal(Ip("172.17.0.2"), again.IPv4Address);
    }

    [Fact]
    public void ACutShortEndpointRecord_IsSetAside_WithItsVethLeaseAndPort_AndTheOthersStay()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var keep = _f.Run("bridge", "keep", "9001:80");
        var cut = _f.Run("bridge", "cut", "9002:80");
        var file = Path.Combine(_f.StateDir, "networks", "bridge", "endpoints", cut.Id + ".json");
        var text = File.ReadAllText(file);
        File.WriteAllText(file, text[..(text.Length / 2)]);

        var e = Assert.Throws<ContainerNetworkingException>(() => _f.Manager.GetEndpoints("bridge"));
        Assert.Equal("StateCorrupt", e.ErrorId);
        Assert.Contains("not a valid record", e.Message);

        var done = _f.Manager.Repair();
        Assert.Contains(done, x => x.Kind == "CorruptEndpointRecord" && x.Object == cut.Id && x.Action == "Removed");
        Assert.Contains(done, x => x.Kind == "OrphanPortMapping" && x.Object.Contains("9002", StringComparison.Ordinal));
        Assert.All(done, x => Assert.NotEqual("Failed", x.Action));
        Assert.DoesNotContain(cut.HostInterface!, Links());
        Assert.Contains(keep.HostInterface!, Links());
        Assert.DoesNotContain("9002", NftOracle.RulesetText(_f.HostName));
        Assert.Equal([keep.IPv4Address], _f.Manager.State.Leases("bridge").Keys);
        Assert.Equal([keep.Id], _f.Manager.GetEndpoints("bridge").Select(x => x.Id));
        Assert.True(Cli.Ping(keep.Namespace!, "172.17.0.1"));
        Assert.Empty(_f.Manager.Repair());
    }

    [Fact]
    public void APowerCut_EmptyEndpointRecordsAndLeases_AreStateCorrupt_RepairLeavesAConsistentState_AndConnectWorks()
    {
        // A container's records are renamed into place without fsync (StateStore.DurabilityOf): after a power cut a
        // record or lease can be there but empty, its data never written back. Simulated by truncating them: one
        // container's record and lease, another's lease only (its record, namespace and veth intact).
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var keep = _f.Run("bridge", "keep", "9001:80");
        var lost = _f.Run("bridge", "lost", "9002:80");
        var leaseCut = _f.Run("bridge", "leasecut");
        string Lease(ContainerEndpoint e) => Path.Combine(_f.StateDir, "networks", "bridge", "leases", e.IPv4Address!.ToString());
        var record = Path.Combine(_f.StateDir, "networks", "bridge", "endpoints", lost.Id + ".json");
        File.WriteAllBytes(record, []);
        File.WriteAllBytes(Lease(lost), []);
        File.WriteAllBytes(Lease(leaseCut), []);

        // Every command that reads the records names the empty one and the Repair that fixes it.
        var e = Assert.Throws<ContainerNetworkingException>(() => _f.Manager.GetEndpoints("bridge"));
        Assert.Equal("StateCorrupt", e.ErrorId);
        Assert.Contains(record, e.Message);
        Assert.Contains("it is empty", e.Message);
        Assert.Contains($"Repair-ContainerNetwork -StateDirectory {_f.StateDir} -NetNamespace {_f.HostName}", e.Message);

        var done = _f.Manager.Repair();
        Assert.All(done, x => Assert.NotEqual("Failed", x.Action));
        Assert.Contains(done, x => x.Kind == "CorruptEndpointRecord" && x.Object == lost.Id);
        Assert.Contains(done, x => x.Kind == "EmptyLease" && x.Object == lost.IPv4Address!.ToString());
        Assert.Contains(done, x => x.Kind == "EmptyLease" && x.Object == leaseCut.IPv4Address!.ToString());
        // Consistent: every lease held by a live endpoint, every live endpoint's address leased to it, nothing of the lost one left.
        Assert.Equal([keep.Id, leaseCut.Id], _f.Manager.GetEndpoints("bridge").Select(x => x.Id));
        var leases = _f.Manager.State.Leases("bridge");
        Assert.Equal(2, leases.Count);
        Assert.Equal(keep.Id, leases[keep.IPv4Address!]);
        Assert.Equal(leaseCut.Id, leases[leaseCut.IPv4Address!]);
        Assert.DoesNotContain(lost.HostInterface!, Links());
        Assert.DoesNotContain("9002", NftOracle.RulesetText(_f.HostName));
        Assert.Empty(_f.Manager.Repair());

        // A new Connect works, never with an address a survivor holds, and reaches them.
        var again = _f.Run("bridge", "again", "9002:80");
        Assert.NotEqual(keep.IPv4Address, again.IPv4Address);
        Assert.NotEqual(leaseCut.IPv4Address, again.IPv4Address);
        Assert.Equal(again.Id, _f.Manager.State.Leases("bridge")[again.IPv4Address!]);
        Assert.True(Cli.Ping(again.Namespace!, keep.IPv4Address!.ToString()));
        Assert.True(Cli.Ping(again.Namespace!, leaseCut.IPv4Address!.ToString()));
        Assert.Empty(_f.Manager.Repair());
    }

    [Fact]
    public void Repair_RemovesTheTemporaryFilesOfKilledWriters_OnlyOnceTheirProcessIsGone()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        using var gone = System.Diagnostics.Process.Start("true")!;
        gone.WaitForExit();
        var dead = NetworkFile("bridge") + $".tmp-{gone.Id}-7";
        File.WriteAllText(dead, "{\"name\":");
        using var sleeper = System.Diagnostics.Process.Start("sleep", "30")!;
        var live = NetworkFile("bridge") + $".tmp-{sleeper.Id}-7";
        File.WriteAllText(live, "{}");
        try
        {
            var plan = _f.Manager.Repair(whatIf: true);
            Assert.Equal(dead, Assert.Single(plan, x => x.Kind == "LeftoverTemporaryFile").Object);
            Assert.True(File.Exists(dead));
            var done = _f.Manager.Repair();
            Assert.Equal("bridge", Assert.Single(done, x => x.Kind == "LeftoverTemporaryFile").Network);
            Assert.False(File.Exists(dead));
            Assert.True(File.Exists(live));
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
        }
    }
}
