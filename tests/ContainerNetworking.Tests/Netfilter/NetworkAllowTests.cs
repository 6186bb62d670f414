using System.Net;
using System.Text.RegularExpressions;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Netfilter;

/// <summary>Isolation between bridge networks lifted for one pair on request (AllowBetweenNetworks), with real packets.</summary>
public sealed class NetworkAllowTests : IDisposable
{
    private readonly HostTopology _t = new();
    public void Dispose() => _t.Dispose();

    private static bool Blocked(NetNamespace from, string to) => !Cli.Ping(from.Name!, to, waitSeconds: 1);

    /// <summary>The rules of the isolation chain as nft shows them, in chain order: (comment, handle).</summary>
    private List<(string? Comment, ulong Handle)> IsolationChain() =>
        NftOracle.Items(_t.HostName, "rule")
            .Where(r => r.GetProperty("table").GetString() == ContainerFirewall.TableName && r.GetProperty("family").GetString() == "inet"
                        && r.GetProperty("chain").GetString() == "isolation")
            .Select(r => (r.TryGetProperty("comment", out var c) ? c.GetString() : null, r.GetProperty("handle").GetUInt64()))
            .ToList();

    private string Ruleset() => Regex.Replace(NftOracle.RulesetText(_t.HostName), "\"packets\": \\d+, \"bytes\": \\d+", "");

    [Fact]
    public void AllowedPair_TalksBothWays_OthersStayIsolated_DisallowIsolatesAgain()
    {
        _t.AddBridge("br0", "192.168.0.1/24");
        _t.AddBridge("br1", "10.1.0.1/24");
        _t.AddBridge("br2", "10.2.0.1/24");
        var a = _t.AddContainer("br0", "192.168.0.2/24", "192.168.0.1");
        var b = _t.AddContainer("br1", "10.1.0.2/24", "10.1.0.1");
        var c = _t.AddContainer("br2", "10.2.0.2/24", "10.2.0.1");
        var fw = new ContainerFirewall(_t.Host);
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [IPNetwork.Parse("192.168.0.0/24")]));
        fw.AddBridgeNetwork(new BridgeNetworkRules("br1", [IPNetwork.Parse("10.1.0.0/24")]));
        fw.AddBridgeNetwork(new BridgeNetworkRules("br2", [IPNetwork.Parse("10.2.0.0/24")]));
        Assert.True(Blocked(a, "10.1.0.2"), "networks start isolated");
        Assert.True(Blocked(b, "192.168.0.2"));
        Assert.Empty(fw.GetAllowedNetworkPairs());

        // Allow (the bridges given in either order): both ways, one pair, both rules at the top of the isolation chain.
        var pair = fw.AllowBetweenNetworks("br1", "br0", owner: "test");
        Assert.Equal(("br0", "br1", "test", 2), (pair.BridgeA, pair.BridgeB, pair.Owner, pair.Rules.Count));
        Assert.True(Cli.Ping(a.Name!, "10.1.0.2"), "br0 -> br1 after Allow");
        Assert.True(Cli.Ping(b.Name!, "192.168.0.2"), "br1 -> br0 after Allow");
        Assert.True(Blocked(a, "10.2.0.2"), "br2 stays isolated from br0");
        Assert.True(Blocked(c, "10.1.0.2"), "br2 stays isolated from br1");
        var chain = IsolationChain();
        Assert.Equal(["cn:allow br0 br1 owner=test", "cn:allow br0 br1 owner=test"], chain.Take(2).Select(r => r.Comment));
        Assert.Equal(2, chain.Count(r => r.Comment?.StartsWith("cn:allow", StringComparison.Ordinal) == true));
        // what the library reads back is what nft shows
        Assert.Equal(chain.Take(2).Select(r => r.Handle).Order(), fw.GetAllowedNetworkPairs().Single().Rules.Select(r => r.Handle).Order());
        // nft decodes them as iifname X oifname Y accept, one per direction
        var allow = NftOracle.Items(_t.HostName, "rule")
            .Where(r => r.TryGetProperty("comment", out var cm) && cm.GetString()!.StartsWith("cn:allow", StringComparison.Ordinal))
            .Select(r => Regex.Replace(r.GetProperty("expr").GetRawText(), @"\s", "")).ToList();
        Assert.Contains(allow, x => Regex.IsMatch(x, "\"iifname\"}},\"right\":\"br0\".*\"oifname\"}},\"right\":\"br1\".*\"accept\""));
        Assert.Contains(allow, x => Regex.IsMatch(x, "\"iifname\"}},\"right\":\"br1\".*\"oifname\"}},\"right\":\"br0\".*\"accept\""));

        // Idempotent: nothing changes (same handles); replacing a network's own rules keeps the pair ahead of them.
        var before = Ruleset();
        fw.AllowBetweenNetworks("br0", "br1", owner: "test");
        Assert.Equal(before, Ruleset());
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [IPNetwork.Parse("192.168.0.0/24")]) { Owner = "replaced" });
        Assert.True(Cli.Ping(a.Name!, "10.1.0.2"), "the pair survives a replace of br0's rules");
        Assert.StartsWith("cn:allow", IsolationChain()[0].Comment);

        // Disallow: isolated again, the rules are gone; a second Disallow changes nothing.
        Assert.True(fw.DisallowBetweenNetworks("br0", "br1"));
        Assert.True(Blocked(a, "10.1.0.2"));
        Assert.True(Blocked(b, "192.168.0.2"));
        Assert.DoesNotContain(IsolationChain(), r => r.Comment?.StartsWith("cn:allow", StringComparison.Ordinal) == true);
        Assert.Empty(fw.GetAllowedNetworkPairs());
        Assert.False(fw.DisallowBetweenNetworks("br1", "br0"));
    }

    [Fact]
    public void BadPairs_AreRefused_AndChangeNothing_RemovingANetworkRemovesItsPairs()
    {
        _t.AddBridge("br0", "192.168.0.1/24");
        _t.AddBridge("br1", "10.1.0.1/24");
        var fw = new ContainerFirewall(_t.Host);
        var e = Assert.Throws<ContainerNetworkingException>(() => fw.AllowBetweenNetworks("br0", "br1"));
        Assert.Equal("BridgeNetworkNotFound", e.ErrorId); // no table at all yet
        fw.AddBridgeNetwork(new BridgeNetworkRules("br0", [IPNetwork.Parse("192.168.0.0/24")]));
        fw.AddBridgeNetwork(new BridgeNetworkRules("br1", [IPNetwork.Parse("10.1.0.0/24")]));
        var before = Ruleset();
        e = Assert.Throws<ContainerNetworkingException>(() => fw.AllowBetweenNetworks("br0", "br9"));
        Assert.Equal("BridgeNetworkNotFound", e.ErrorId);
        Assert.Contains("br9", e.Message);
        Assert.Equal("InvalidNetworkPair", Assert.Throws<ContainerNetworkingException>(() => fw.AllowBetweenNetworks("br0", "br0")).ErrorId);
        Assert.Equal("InvalidInterfaceName", Assert.Throws<ContainerNetworkingException>(() => fw.AllowBetweenNetworks("br0", "bad name")).ErrorId);
        Assert.Equal("BridgeNetworkNotFound", Assert.Throws<ContainerNetworkingException>(() => fw.DisallowBetweenNetworks("br0", "br9")).ErrorId);
        Assert.Equal(before, Ruleset());

        fw.AllowBetweenNetworks("br0", "br1");
        fw.RemoveBridgeNetwork("br1");
        Assert.Empty(fw.GetAllowedNetworkPairs());
        Assert.DoesNotContain(NftOracle.Items(_t.HostName, "rule"), r => r.TryGetProperty("comment", out var c) && c.GetString()!.StartsWith("cn:allow"));
        Assert.Equal(["br0"], fw.GetBridgeNetworks().Select(n => n.Spec.Bridge));
    }
}
