using ContainerNetworking.Model;
using ContainerNetworking.Tests.Fixtures;
using ContainerNetworking.Tests.Netfilter;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>Networks allowed to talk to each other: persisted in both records, re-created by Repair after a flush, gone with a network.</summary>
public sealed class NetworkAllowModelTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    private bool Blocked(ContainerEndpoint from, ContainerEndpoint to) => !Cli.Ping(from.Namespace!, to.IPv4Address!.ToString(), waitSeconds: 1);
    private bool Reaches(ContainerEndpoint from, ContainerEndpoint to) => Cli.Ping(from.Namespace!, to.IPv4Address!.ToString());

    private int AllowRulesInNft() => NftOracle.Items(_f.HostName, "rule")
        .Count(r => r.TryGetProperty("comment", out var c) && c.GetString()!.StartsWith("cn:allow cn-back cn-front", StringComparison.Ordinal));

    private (ContainerEndpoint A, ContainerEndpoint B, ContainerEndpoint C) ThreeNetworks()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "front", BridgeName = "cn-front", Subnet = Net("172.30.1.0/24") });
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "back", BridgeName = "cn-back", Subnet = Net("172.30.2.0/24") });
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "third", BridgeName = "cn-third", Subnet = Net("172.30.3.0/24") });
        return (_f.Run("front", "a"), _f.Run("back", "b"), _f.Run("third", "c"));
    }

    [Fact]
    public void Allow_Persists_RepairRecreatesItAfterAFlush_DisallowIsolatesAgain()
    {
        var (a, b, c) = ThreeNetworks();
        Assert.True(Blocked(a, b), "networks start isolated");

        _f.Manager.AllowBetweenNetworks("front", "back");
        Assert.True(Reaches(a, b), "front -> back");
        Assert.True(Reaches(b, a), "back -> front");
        Assert.True(Blocked(a, c), "third stays isolated");
        Assert.Equal(["back"], _f.Manager.GetNetwork("front").AllowedNetworks);
        Assert.Equal(["front"], _f.Manager.GetNetwork("back").AllowedNetworks);
        Assert.Contains("\"allowedNetworks\"", File.ReadAllText(Path.Combine(_f.StateDir, "networks", "front", "network.json")));
        Assert.Equal(2, AllowRulesInNft());
        _f.Manager.AllowBetweenNetworks("back", "front"); // idempotent
        Assert.Equal(["back"], _f.Manager.GetNetwork("front").AllowedNetworks);
        Assert.Equal(2, AllowRulesInNft());
        Assert.Empty(_f.Manager.Repair()); // healthy: no false findings

        // Someone flushes the host's ruleset: Repair re-creates every network's rules and then the allowance.
        Cli.InNs(_f.HostName, "nft", "flush", "ruleset").Ok();
        Assert.Equal(0, AllowRulesInNft());
        var planned = _f.Manager.Repair(whatIf: true);
        Assert.Contains(planned, x => x.Kind == "MissingNetworkAllowance" && x.Action == "WouldRecreate");
        Assert.Equal(0, AllowRulesInNft());
        var findings = _f.Manager.Repair();
        var allowance = Assert.Single(findings, x => x.Kind == "MissingNetworkAllowance");
        Assert.Equal("Recreated", allowance.Action);
        Assert.Equal(3, findings.Count(x => x.Kind == "MissingNetworkRules"));
        Assert.Equal(2, AllowRulesInNft());
        Assert.True(Reaches(a, b), "the allowance is back");
        Assert.True(Reaches(b, a));
        Assert.True(Blocked(a, c), "and so is the isolation of the others");
        Assert.Empty(_f.Manager.Repair());

        _f.Manager.DisallowBetweenNetworks("front", "back");
        Assert.True(Blocked(a, b));
        Assert.True(Blocked(b, a));
        Assert.Empty(_f.Manager.GetNetwork("front").AllowedNetworks);
        Assert.Empty(_f.Manager.GetNetwork("back").AllowedNetworks);
        Assert.Equal(0, AllowRulesInNft());
        _f.Manager.DisallowBetweenNetworks("front", "back"); // nothing to do
        Assert.Empty(_f.Manager.Repair());
    }

    [Fact]
    public void BadInput_ChangesNothing_AndRemovingANetworkForgetsTheAllowance()
    {
        var (a, b, _) = ThreeNetworks();
        var before = _f.Snapshot();
        Assert.Equal("NetworkNotFound", Assert.Throws<ContainerNetworkingException>(() => _f.Manager.AllowBetweenNetworks("front", "nope")).ErrorId);
        Assert.Equal("PredefinedNetwork", Assert.Throws<ContainerNetworkingException>(() => _f.Manager.AllowBetweenNetworks("front", "host")).ErrorId);
        Assert.Equal("InvalidNetworkPair", Assert.Throws<ContainerNetworkingException>(() => _f.Manager.AllowBetweenNetworks("front", "front")).ErrorId);
        var plan = _f.Manager.PlanAllowBetweenNetworks("front", "back");
        Assert.Equal(["WriteAllowedNetworks", "InstallAllowRules"], plan.Steps.Select(s => s.Name));
        Assert.Equal(before, _f.Snapshot());

        _f.Manager.AllowBetweenNetworks("front", "back");
        Assert.True(Reaches(a, b));
        _f.Manager.RemoveNetwork("back", force: true);
        Assert.Empty(_f.Manager.GetNetwork("front").AllowedNetworks);
        Assert.Equal(0, AllowRulesInNft());
        Assert.Empty(_f.Manager.Repair());
    }
}
