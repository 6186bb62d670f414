using System.Text.RegularExpressions;
using ContainerNetworking.Model;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>Repair's own mistakes: what it removed that was not a leftover, and what it missed.</summary>
public sealed class RepairMistakesTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    private string Snapshot() => Regex.Replace(_f.Snapshot(), @"counter packets \d+ bytes \d+", "counter")
        .Split('\n').Where(l => !l.Contains("last_reserved_ip", StringComparison.Ordinal)).Aggregate("", (a, l) => a + l + "\n");

    private ContainerEndpoint Network(string role, params string[] publish)
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        return _f.Run("bridge", role, publish);
    }

    [Fact]
    public void AMappingPublishedToAnEndpointsAddressByHand_IsNotAnOrphan()
    {
        var outside = Outside.Create(_f);
        var web = Network("web", "9001:80");
        var fw = new ContainerFirewall(_f.Host);
        // Publish-ContainerPort 9300:80 to the container's address (no owner, and one with an owner of the user's).
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 9300, web.IPv4Address!, 80));
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 9301, web.IPv4Address!, 80) { Owner = "admin" });
        // A leftover: a mapping that names another endpoint as its owner, to this address.
        fw.Publish(new PortMappingSpec(PortProtocol.Tcp, 9302, web.IPv4Address!, 80) { Owner = "endpoint:0123456789ab" });
        using var server = Traffic.Listen(web.Namespace!, 80, "web");

        var f = Assert.Single(_f.Manager.Repair());
        Assert.Equal("OrphanPortMapping", f.Kind);
        Assert.Contains("9302", f.Object);
        Assert.Equal("web " + Outside.Address, Traffic.Fetch(outside, Outside.HostAddress, 9300));
        Assert.Equal("web " + Outside.Address, Traffic.Fetch(outside, Outside.HostAddress, 9301));
        Assert.Null(Traffic.Fetch(outside, Outside.HostAddress, 9302));
        Assert.Empty(_f.Manager.Repair());
    }

    [Fact]
    public void OneMissingPortOfSeveral_IsReAddedAlone()
    {
        var outside = Outside.Create(_f);
        var web = Network("web", "9100:80", "9200-9202:90-92/udp", "9300:30");
        var baseline = Snapshot();
        // Someone deletes one port and the middle of a range.
        Cli.InNs(_f.HostName, "nft", "delete", "element", "inet", "containernetworking", "ports4", "{ tcp . 9300 }").Ok();
        Cli.InNs(_f.HostName, "nft", "delete", "element", "inet", "containernetworking", "ports4", "{ udp . 9201 }").Ok();
        using var server = Traffic.Listen(web.Namespace!, 30, "web");
        Assert.Null(Traffic.Fetch(outside, Outside.HostAddress, 9300));
        var hop = Assert.Single(_f.Manager.Test(web.Container, "bridge"), h => h.Hop == "PublishedPorts");
        Assert.Equal(HopStatus.Broken, hop.Status);
        Assert.Contains("9300:30/tcp", hop.Detail);
        Assert.Contains("9201:91/udp", hop.Detail);

        var f = Assert.Single(_f.Manager.Repair());
        Assert.Equal(("MissingPortMapping", "Recreated"), (f.Kind, f.Action));
        Assert.DoesNotContain("9100", f.Detail);
        Assert.Equal("web " + Outside.Address, Traffic.Fetch(outside, Outside.HostAddress, 9300));
        Assert.Equal(Sorted(baseline), Sorted(Snapshot())); // the same elements, with the same comments (the range's)
        Assert.Empty(_f.Manager.Repair());
        // The range is one mapping again: Disconnect removes it whole.
        _f.Manager.Disconnect(web.Id);
        Assert.DoesNotContain("9201", Cli.InNs(_f.HostName, "nft", "list", "map", "inet", "containernetworking", "ports4").Ok().Stdout);
    }

    private static string Sorted(string s) => string.Join("\n", s.Split('\n', ',').Select(l => l.Trim()).Order(StringComparer.Ordinal));

    [Fact]
    public void ARecordDeletedByHand_IsSeenInTheSameSession()
    {
        var keep = Network("keep", "9001:80");
        var gone = _f.Run("bridge", "gone", "9002:80");
        Assert.Empty(_f.Manager.Repair()); // the records are cached now
        File.Delete(Path.Combine(_f.StateDir, "networks", "bridge", "endpoints", gone.Id + ".json"));

        var kinds = _f.Manager.Repair().Select(f => f.Kind).Order().ToList();
        // The others' hosts file still listed it, and its own /etc/netns link led there: both put right.
        Assert.Equal(["OrphanLease", "OrphanPortMapping", "OrphanVeth", "StaleHostsFile", "StaleHostsFile"], kinds);
        Assert.False(Directory.Exists(Path.Combine("/etc/netns", gone.Namespace!)));
        Assert.DoesNotContain(gone.Container, File.ReadAllText(Path.Combine(_f.StateDir, "networks", "bridge", "etc", "hosts")));
        Assert.Null(_f.Host.Rtnl.FindLink(gone.HostInterface!));
        Assert.Equal([keep.Container], _f.Manager.GetEndpoints("bridge").Select(e => e.Container));
        Assert.Empty(_f.Manager.Repair());
    }

    [Fact]
    public void TheDeletedCve20208558Guard_IsNamedByTest_AndPutBackByRepair()
    {
        var keep = Network("keep", "127.0.0.1:9001:80");
        var attacker = _f.Run("bridge", "attacker");
        var baseline = Snapshot();
        // A port published on the host's 127.0.0.1 only, and a container that routes 127.0.0.1 to its gateway (the CVE).
        using var web = Traffic.Listen(keep.Namespace!, 80, "keep");
        Cli.InNs(attacker.Namespace!, "ip", "route", "del", "local", "127.0.0.1", "table", "local").Ok();
        Cli.InNs(attacker.Namespace!, "ip", "route", "del", "local", "127.0.0.0/8", "table", "local").Ok();
        Cli.InNs(attacker.Namespace!, "sysctl", "-qw", "net.ipv4.conf.eth0.route_localnet=1").Ok();
        Cli.InNs(attacker.Namespace!, "ip", "route", "add", "127.0.0.1/32", "via", "172.17.0.1", "dev", "eth0").Ok();
        // Whether the attacker's SYN to 127.0.0.1:9001 got through to the container: the host tracked (and translated) it.
        bool Reached()
        {
            Cli.InNs(_f.HostName, "conntrack", "-D", "-p", "tcp", "--orig-dst", "127.0.0.1");
            Traffic.Fetch(attacker.Namespace!, "127.0.0.1", 9001);
            return Cli.InNs(_f.HostName, "conntrack", "-L", "-p", "tcp", "--orig-dst", "127.0.0.1", "--reply-src", keep.IPv4Address!.ToString()).Stdout.Contains("dport=9001");
        }
        Assert.False(Reached());

        var chain = Cli.InNs(_f.HostName, "nft", "-a", "list", "chain", "inet", "containernetworking", "raw-prerouting").Ok().Stdout;
        var handle = Regex.Match(chain, @"CVE-2020-8558.*# handle (\d+)").Groups[1].Value;
        Cli.InNs(_f.HostName, "nft", "delete", "rule", "inet", "containernetworking", "raw-prerouting", "handle", handle).Ok();
        Assert.True(Reached()); // the hole the guard closes

        var hop = Assert.Single(_f.Manager.Test(keep.Container, "bridge"), h => h.Hop == "NetworkRules");
        Assert.Equal(HopStatus.Broken, hop.Status);
        Assert.Contains("CVE-2020-8558", hop.Detail);
        var f = Assert.Single(_f.Manager.Repair());
        Assert.Equal(("MissingBaseRules", "Recreated"), (f.Kind, f.Action));
        Assert.Contains("raw-prerouting", f.Detail);
        Assert.False(Reached());
        Assert.Equal(baseline, Snapshot());
        Assert.Empty(_f.Manager.Repair());
        Assert.Equal(HopStatus.Ok, Assert.Single(_f.Manager.Test(keep.Container, "bridge"), h => h.Hop == "NetworkRules").Status);
    }

    [Theory]
    [InlineData("forward", "isolation")]
    [InlineData("forward", "invalid in")]
    [InlineData("forward", "invalid out")]
    [InlineData("forward", "established")]
    [InlineData("forward", "published ports")]
    [InlineData("forward", "networks")]
    [InlineData("published", "")]
    [InlineData("nat-prerouting", "")]
    [InlineData("nat-output", "")]
    [InlineData("nat-postrouting", "loopback")]
    public void AnyDeletedFixedRule_IsPutBackInItsPlace(string chain, string comment)
    {
        Network("keep", "9001:80");
        var baseline = Snapshot();
        var list = Cli.InNs(_f.HostName, "nft", "-a", "list", "chain", "inet", "containernetworking", chain).Ok().Stdout;
        var handle = Regex.Matches(list, @"comment ""cn:base ([^""]*)"" # handle (\d+)").First(m => m.Groups[1].Value.Contains(comment)).Groups[2].Value;
        Cli.InNs(_f.HostName, "nft", "delete", "rule", "inet", "containernetworking", chain, "handle", handle).Ok();
        Assert.Equal("MissingBaseRules", Assert.Single(_f.Manager.Repair()).Kind);
        Assert.Equal(baseline, Snapshot());
    }

    /// <summary>The rules of network bridge as nft -j reads them: (chain, handle), in the kernel's order.</summary>
    private List<(string Chain, string Handle)> NetworkRules()
    {
        var doc = System.Text.Json.JsonDocument.Parse(Cli.InNs(_f.HostName, "nft", "-j", "list", "table", "inet", "containernetworking").Ok().Stdout);
        return doc.RootElement.GetProperty("nftables").EnumerateArray()
            .Where(x => x.TryGetProperty("rule", out var r) && r.TryGetProperty("comment", out var c) && c.GetString()!.EndsWith("owner=network:bridge", StringComparison.Ordinal))
            .Select(x => x.GetProperty("rule")).Select(r => (r.GetProperty("chain").GetString()!, r.GetProperty("handle").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
    }

    /// <summary>
    /// One rule of a network's own deleted by hand (its masquerade, its hairpin masquerade, its isolation drop, its ICC
    /// accept, its accept out of the bridge, its drop of direct access): Test names the rule in the NetworkRules hop,
    /// Repair puts the network's rules back (one finding, one batch) and the ruleset, read back, is what it was.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void AnyDeletedRuleOfANetwork_IsNamedByTest_AndPutBackByRepair(int index)
    {
        var keep = Network("keep", "9001:80");
        Assert.Empty(_f.Manager.Repair());
        var baseline = Snapshot();
        var rules = NetworkRules();
        Assert.Equal(6, rules.Count);
        var (chain, handle) = rules[index];
        Cli.InNs(_f.HostName, "nft", "delete", "rule", "inet", "containernetworking", chain, "handle", handle).Ok();
        Assert.Equal(5, NetworkRules().Count);

        var hop = Assert.Single(_f.Manager.Test(keep.Container, "bridge"), h => h.Hop == "NetworkRules");
        Assert.Equal(HopStatus.Broken, hop.Status);
        Assert.Contains("Rules of network 'bridge' are missing", hop.Detail);
        Assert.Contains($"rule inet containernetworking {chain} ", hop.Detail);
        var f = Assert.Single(_f.Manager.Repair());
        Assert.Equal(("MissingNetworkRules", "Recreated"), (f.Kind, f.Action));
        Assert.Contains($"rule inet containernetworking {chain} ", f.Detail);
        Assert.Equal(baseline, Snapshot());
        Assert.Empty(_f.Manager.Repair());
        Assert.Equal(HopStatus.Ok, Assert.Single(_f.Manager.Test(keep.Container, "bridge"), h => h.Hop == "NetworkRules").Status);
    }

    /// <summary>
    /// The network's element of the networks set deleted by hand (the invalid-state drops and the isolation of other
    /// networks from it rely on it): named by Test, put back by Repair, and the masquerade works again (the outside sees
    /// the host's address).
    /// </summary>
    [Fact]
    public void TheDeletedElementOfTheNetworksSet_IsNamedByTest_AndPutBackByRepair()
    {
        var outside = Outside.Create(_f);
        var keep = Network("keep", "9001:80");
        var baseline = Snapshot();
        Cli.InNs(_f.HostName, "nft", "delete", "element", "inet", "containernetworking", "networks", "{ \"docker0\" }").Ok();
        var hop = Assert.Single(_f.Manager.Test(keep.Container, "bridge"), h => h.Hop == "NetworkRules");
        Assert.Equal(HopStatus.Broken, hop.Status);
        var f = Assert.Single(_f.Manager.Repair());
        Assert.Equal(("MissingNetworkRules", "Recreated"), (f.Kind, f.Action));
        Assert.Contains("element docker0 of set inet containernetworking networks", f.Detail);
        Assert.Equal(baseline, Snapshot());
        Assert.Empty(_f.Manager.Repair());
        using var web = Traffic.Listen(outside, 8080, "outside");
        Assert.Equal("outside " + Outside.HostAddress, Traffic.Fetch(keep.Namespace!, Outside.Address, 8080));
    }

    /// <summary>
    /// With two networks, whose rules share the isolation and networks chains: a deleted rule of the first is put back in
    /// its place among the second's (the chain reads as before, rule for rule), and the second's are not touched (same
    /// handles). By packets: the neighbour that routes the subnet via the host reaches a container directly while the
    /// network's direct-access drop is gone, and no longer once Repair put it back.
    /// </summary>
    [Fact]
    public void ADeletedRuleAmongAnotherNetworksRules_IsPutBackInItsPlace_AndDirectAccessIsDroppedAgain()
    {
        var outside = Outside.Create(_f);
        var keep = Network("keep", "9001:80");
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "second", BridgeName = "cn-second", Subnet = Net("172.18.0.0/16") });
        _f.Run("second", "other");
        Cli.InNs(outside, "ip", "route", "add", "172.17.0.0/16", "via", Outside.HostAddress).Ok();
        using var web = Traffic.Listen(keep.Namespace!, 80, "keep");
        Assert.Null(Traffic.Fetch(outside, keep.IPv4Address!.ToString(), 80));
        var baseline = Snapshot();
        string Handles(string owner) => string.Join(",", Regex.Matches(Cli.InNs(_f.HostName, "nft", "-a", "list", "table", "inet", "containernetworking").Ok().Stdout,
            $@"owner={owner}"" # handle (\d+)").Select(m => m.Groups[1].Value));
        var secondBefore = Handles("network:second");

        var drop = Regex.Match(Cli.InNs(_f.HostName, "nft", "-a", "list", "chain", "inet", "containernetworking", "networks").Ok().Stdout,
            @"oifname ""docker0"" counter packets \d+ bytes \d+ drop comment ""[^""]*"" # handle (\d+)").Groups[1].Value;
        Cli.InNs(_f.HostName, "nft", "delete", "rule", "inet", "containernetworking", "networks", "handle", drop).Ok();
        Assert.Equal("keep " + Outside.Address, Traffic.Fetch(outside, keep.IPv4Address!.ToString(), 80)); // the hole

        var f = Assert.Single(_f.Manager.Repair());
        Assert.Equal(("MissingNetworkRules", "Recreated", "bridge"), (f.Kind, f.Action, f.Network));
        Assert.Contains("rule inet containernetworking networks oifname docker0 drop", f.Detail);
        Assert.Equal(baseline, Snapshot());
        Assert.Equal(secondBefore, Handles("network:second"));
        Assert.Null(Traffic.Fetch(outside, keep.IPv4Address!.ToString(), 80));
        Assert.Equal("keep " + Outside.Address, Traffic.Fetch(outside, Outside.HostAddress, 9001));
        Assert.Empty(_f.Manager.Repair());
    }

    /// <summary>
    /// Every kind of network (ICC off with its bridge-family rules, internal, routed, without masquerade, dual stack):
    /// a healthy one has no missing piece (no false finding), and each of its rules deleted in turn is named and put back
    /// in its place, the ruleset as before.
    /// </summary>
    [Theory]
    [InlineData("icc")]
    [InlineData("internal")]
    [InlineData("routed")]
    [InlineData("nomasq")]
    [InlineData("dual")]
    public void EveryRuleOfEveryKindOfNetwork_IsCheckedAndPutBack(string kind)
    {
        _f.Manager.CreateNetwork(new NetworkSpec
        {
            Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16"),
            Icc = kind != "icc", Internal = kind == "internal", Routed = kind == "routed", Masquerade = kind != "nomasq",
            SubnetV6 = kind == "dual" ? Net("fd00:17::/64") : null,
        });
        var keep = _f.Run("bridge", "keep");
        Assert.Empty(_f.Manager.Repair());
        Assert.Equal(HopStatus.Ok, Assert.Single(_f.Manager.Test(keep.Container, "bridge"), h => h.Hop == "NetworkRules").Status);
        var baseline = Snapshot();
        var doc = System.Text.Json.JsonDocument.Parse(Cli.InNs(_f.HostName, "nft", "-j", "list", "ruleset").Ok().Stdout);
        var rules = doc.RootElement.GetProperty("nftables").EnumerateArray()
            .Where(x => x.TryGetProperty("rule", out var r) && r.GetProperty("table").GetString() == "containernetworking"
                && r.TryGetProperty("comment", out var c) && c.GetString()!.EndsWith("owner=network:bridge", StringComparison.Ordinal))
            .Select(x => x.GetProperty("rule"))
            .Select(r => (Family: r.GetProperty("family").GetString()!, Chain: r.GetProperty("chain").GetString()!, Handle: r.GetProperty("handle").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        Assert.True(rules.Count >= 4, $"{rules.Count} rules");
        if (kind == "icc") Assert.Contains(rules, r => r.Family == "bridge");
        foreach (var (family, chain, handle) in rules)
        {
            Cli.InNs(_f.HostName, "nft", "delete", "rule", family, "containernetworking", chain, "handle", handle).Ok();
            Assert.NotEqual(baseline, Snapshot());
            var f = Assert.Single(_f.Manager.Repair());
            Assert.Equal(("MissingNetworkRules", "Recreated"), (f.Kind, f.Action));
            Assert.Contains($" {chain} ", f.Detail);
            Assert.Equal(baseline, Snapshot());
        }
        Assert.Empty(_f.Manager.Repair());
    }

    /// <summary>
    /// One of the two rules that let an allowed pair of networks talk deleted by hand: the container of the first network
    /// can no longer reach the second's; Test names the pair in the NetworkRules hop, Repair puts the pair's rules back
    /// (the ruleset as before) and the ping crosses again.
    /// </summary>
    [Fact]
    public void ADeletedRuleOfAnAllowedPair_IsNamedByTest_AndPutBackByRepair()
    {
        var keep = Network("keep");
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "second", BridgeName = "cn-second", Subnet = Net("172.18.0.0/16") });
        var other = _f.Run("second", "other");
        _f.Manager.AllowBetweenNetworks("bridge", "second");
        Assert.True(Cli.Ping(keep.Namespace!, other.IPv4Address!.ToString()));
        var baseline = Snapshot();
        var handle = Regex.Match(Cli.InNs(_f.HostName, "nft", "-a", "list", "chain", "inet", "containernetworking", "isolation").Ok().Stdout,
            @"iifname ""docker0"" oifname ""cn-second"" counter packets \d+ bytes \d+ accept comment ""[^""]*"" # handle (\d+)").Groups[1].Value;
        Cli.InNs(_f.HostName, "nft", "delete", "rule", "inet", "containernetworking", "isolation", "handle", handle).Ok();
        Assert.False(Cli.Ping(keep.Namespace!, other.IPv4Address!.ToString()));

        var hop = Assert.Single(_f.Manager.Test(keep.Container, "bridge"), h => h.Hop == "NetworkRules");
        Assert.Equal(HopStatus.Broken, hop.Status);
        Assert.Contains("let networks 'bridge' and 'second' talk", hop.Detail);
        var f = Assert.Single(_f.Manager.Repair());
        Assert.Equal(("MissingNetworkAllowance", "Recreated"), (f.Kind, f.Action));
        Assert.Equal(baseline, Snapshot());
        Assert.True(Cli.Ping(keep.Namespace!, other.IPv4Address!.ToString()));
        Assert.Empty(_f.Manager.Repair());
        Assert.Equal(HopStatus.Ok, Assert.Single(_f.Manager.Test(keep.Container, "bridge"), h => h.Hop == "NetworkRules").Status);
    }
}

