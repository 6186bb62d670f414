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
        Assert.Equal(["OrphanLease", "OrphanPortMapping", "OrphanVeth"], kinds);
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
    [InlineData("published", "")]
    [InlineData("nat-prerouting", "")]
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
}
