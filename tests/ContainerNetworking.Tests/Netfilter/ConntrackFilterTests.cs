using System.Net;
using System.Net.Sockets;
using System.Text;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Netfilter;

/// <summary>Conntrack dumps filtered in the kernel (CTA_FILTER), against a table of 10,000 unrelated entries made with conntrack -R.</summary>
public sealed class ConntrackFilterTests : IDisposable
{
    private readonly TestNamespaces _nss = new();
    public void Dispose() => _nss.Dispose();

    /// <summary>Loads conntrack entries into a namespace from conntrack(8) command lines (<c>conntrack -R FILE</c>).</summary>
    internal static void Load(string ns, IEnumerable<string> lines)
    {
        var file = Path.Combine(Path.GetTempPath(), $"cn-ct-{Environment.ProcessId}-{Guid.NewGuid():N}");
        File.WriteAllLines(file, lines);
        try { Cli.InNs(ns, "conntrack", "-R", file).Ok(); }
        finally { File.Delete(file); }
    }

    /// <summary>Entries of 10.1.x.y:port → 10.2.0.1:80, none of which involves 10.50.0.0/16.</summary>
    public static IEnumerable<string> Unrelated(int count) => Enumerable.Range(0, count).Select(i =>
        $"-I -s 10.1.{i / 250}.{i % 250 + 1} -d 10.2.0.1 -p tcp --sport {1024 + i % 60000} --dport 80 --state ESTABLISHED -t 600");

    [Fact]
    public void FilteredDump_SendsOnlyTheMatchingEntries_OutOfTenThousand()
    {
        using var ns = _nss.Create("ctf");
        var c = "10.50.0.2";
        Load(ns.Name!, Unrelated(10_000).Concat(
        [
            $"-I -s {c} -d 10.2.0.9 -p tcp --sport 5000 --dport 443 --state ESTABLISHED -t 600",
            $"-I -s {c} -d 10.2.0.9 -p udp --sport 5001 --dport 53 -t 600",
            $"-I -s 10.50.0.3 -d {c} -p tcp --sport 6000 --dport 5432 --state ESTABLISHED -t 600",
            $"-I -s 10.99.0.2 -d 10.99.0.1 -r {c} -q 10.99.0.2 -p tcp --sport 40000 --dport 8080 --reply-port-src 80 --reply-port-dst 40000 --state ESTABLISHED -t 600",
        ]));
        var ct = new ConntrackClient(ns.NetfilterConnection);
        Assert.Equal(10_004u, ct.Count());
        var addr = IPAddress.Parse(c);

        long Received(Func<List<ConntrackEntry>> f, out List<ConntrackEntry> got)
        {
            var before = ns.NetfilterConnection.MessagesReceived;
            got = f();
            return ns.NetfilterConnection.MessagesReceived - before;
        }
        var n = Received(() => ct.List(AddressFamily.InterNetwork, ConntrackFilter.OriginalSource(addr)), out var from);
        Assert.Equal(2, from.Count);
        Assert.All(from, e => Assert.Equal(addr, e.Original.Source));
        Assert.True(n < 10, $"{n} messages crossed for 2 entries");
        Assert.Equal(2, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-s", c).Stdout));

        var to = ct.List(AddressFamily.InterNetwork, ConntrackFilter.OriginalDestination(addr));
        Assert.Equal(IPAddress.Parse("10.50.0.3"), Assert.Single(to).Original.Source);
        // answered by it: the flow to it, and the one translated to it (to the host's 8080)
        var answered = ct.List(AddressFamily.InterNetwork, ConntrackFilter.ReplySource(addr));
        Assert.Equal(2, answered.Count);
        var translated = Assert.Single(answered, e => e.Original.Destination.Equals(IPAddress.Parse("10.99.0.1")));
        Assert.Equal((ushort)8080, translated.Original.DestinationPort);
        Assert.Equal((ushort)80, translated.Reply.SourcePort);
        var udp = Assert.Single(ct.List(AddressFamily.InterNetwork, new ConntrackFilter { Source = addr, Protocol = 17 }));
        Assert.Equal((ushort)53, udp.Original.DestinationPort);
        Assert.Single(ct.List(AddressFamily.InterNetwork, new ConntrackFilter { Protocol = 6, DestinationPort = 5432 }));

        // Delete through the filters: exactly the four entries of the address go, the 10,000 others stay.
        var deleted = ct.Delete(AddressFamily.InterNetwork, _ => true,
            [ConntrackFilter.OriginalSource(addr), ConntrackFilter.OriginalDestination(addr), ConntrackFilter.ReplySource(addr)]);
        Assert.Equal(4, deleted);
        Assert.Equal(10_000u, ct.Count());
        Assert.Equal(0, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-s", c).Stdout));
        Assert.Equal(0, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-r", c).Stdout));
    }

    [Fact]
    public void Delete_InASmallTable_ReadsItOnce_AndDeletesTheSameEntries()
    {
        // Below FilterAbove entries one unfiltered dump (one walk of the kernel's hash table) replaces one per filter.
        using var ns = _nss.Create("ctsmall");
        var c = "10.50.0.2";
        Load(ns.Name!, Unrelated(5).Concat(
        [
            $"-I -s {c} -d 10.2.0.9 -p tcp --sport 5000 --dport 443 --state ESTABLISHED -t 600",
            $"-I -s 10.99.0.2 -d 10.99.0.1 -r {c} -q 10.99.0.2 -p tcp --sport 40000 --dport 8080 --reply-port-src 80 --reply-port-dst 40000 --state ESTABLISHED -t 600",
        ]));
        var ct = new ConntrackClient(ns.NetfilterConnection);
        var addr = IPAddress.Parse(c);
        var deleted = ct.Delete(AddressFamily.InterNetwork, e => e.Original.Source.Equals(addr) || e.Reply.Source.Equals(addr),
            [ConntrackFilter.OriginalSource(addr), ConntrackFilter.ReplySource(addr)]);
        Assert.Equal(2, deleted);
        Assert.Equal(5u, ct.Count());
        Assert.Equal(5, Lines(Cli.InNs(ns.Name!, "conntrack", "-L").Stdout));
    }

    [Fact]
    public void TryFlush_DeletesInTheKernel_ExactlyWhatTheFiltersSelect_NothingCrossing()
    {
        // The kernel's flush with CTA_FILTER (Linux 6.5+): the address's tcp and udp flows, from it and answered by it,
        // go in one datagram of requests; its ICMP entry (not asked for), the flow it merely received the translated
        // way of another address, and the 10,000 others stay; no entry is sent to user space.
        using var ns = _nss.Create("ctflush");
        var c = "10.50.0.2";
        Load(ns.Name!, Unrelated(10_000).Concat(
        [
            $"-I -s {c} -d 10.2.0.9 -p tcp --sport 5000 --dport 443 --state ESTABLISHED -t 600",
            $"-I -s {c} -d 10.2.0.9 -p udp --sport 5001 --dport 53 -t 600",
            $"-I -s {c} -d 10.2.0.9 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 77 -t 30",
            $"-I -s 10.99.0.2 -d 10.99.0.1 -r {c} -q 10.99.0.2 -p tcp --sport 40000 --dport 8080 --reply-port-src 80 --reply-port-dst 40000 --state ESTABLISHED -t 600",
            $"-I -s 10.99.0.2 -d {c} -r 10.50.0.7 -q 10.99.0.2 -p tcp --sport 40001 --dport 80 --reply-port-src 80 --reply-port-dst 40001 --state ESTABLISHED -t 600",
        ]));
        var ct = new ConntrackClient(ns.NetfilterConnection);
        Assert.Equal(10_005u, ct.Count());
        var addr = IPAddress.Parse(c);
        var before = ns.NetfilterConnection.MessagesReceived;
        Assert.True(ct.TryFlush(AddressFamily.InterNetwork, [.. new byte[] { 6, 17 }.SelectMany(p => new[]
        {
            ConntrackFilter.OriginalSource(addr) with { Protocol = p },
            ConntrackFilter.ReplySource(addr) with { Protocol = p },
        })]), "the kernel (6.5+) flushes with a filter");
        Assert.Equal(4, ns.NetfilterConnection.MessagesReceived - before); // the four ACKs, no entry
        Assert.Equal(10_002u, ct.Count());
        Assert.Equal(1, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-s", c).Stdout));           // the ICMP one
        Assert.Equal(0, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-r", c).Stdout));
        Assert.Equal(1, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-d", c).Stdout));           // translated elsewhere
        Assert.Equal(10_000, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-d", "10.2.0.1").Stdout));
        // A filter that would be a complete tuple on an older kernel is refused before anything is sent.
        Assert.Throws<ArgumentException>(() => ct.TryFlush(AddressFamily.InterNetwork, [new ConntrackFilter { Source = addr, Destination = IPAddress.Parse("10.2.0.9"), Protocol = 6, DestinationPort = 80 }]));
    }

    [Fact]
    public void TryFlush_OnAProtocolAndDestinationPort_DeletesTheFlowsToThatPortOnly()
    {
        // conntrack -D -p udp --orig-port-dst 5353 done by the kernel: the UDP flows to the port, translated or not, in
        // both families' tables as asked; TCP to the same port, UDP to the next port and the 10,000 others stay.
        using var ns = _nss.Create("ctport");
        Load(ns.Name!, Unrelated(10_000).Concat(
        [
            "-I -s 10.99.0.2 -d 10.99.0.1 -r 10.50.0.2 -q 10.99.0.2 -p udp --sport 40000 --dport 5353 --reply-port-src 53 --reply-port-dst 40000 -t 600",
            "-I -s 10.99.0.3 -d 10.99.0.1 -p udp --sport 40001 --dport 5353 -t 600",
            "-I -s fd99::2 -d fd99::1 -p udp --sport 40001 --dport 5353 -t 600",
            "-I -s 10.99.0.2 -d 10.99.0.1 -p udp --sport 40002 --dport 5354 -t 600",
            "-I -s 10.99.0.2 -d 10.99.0.1 -p tcp --sport 40003 --dport 5353 --state ESTABLISHED -t 600",
        ]));
        var ct = new ConntrackClient(ns.NetfilterConnection);
        var before = ns.NetfilterConnection.MessagesReceived;
        Assert.True(ct.TryFlush(AddressFamily.InterNetwork, [new ConntrackFilter { Protocol = 17, DestinationPort = 5353 }]));
        Assert.Equal(1, ns.NetfilterConnection.MessagesReceived - before); // the ACK, no entry
        Assert.Equal(0, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-f", "ipv4", "-p", "udp", "--orig-port-dst", "5353").Stdout));
        Assert.Equal(1, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-f", "ipv6", "-p", "udp", "--orig-port-dst", "5353").Stdout));
        Assert.Equal(1, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-p", "udp", "--orig-port-dst", "5354").Stdout));
        Assert.Equal(1, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-p", "tcp", "--orig-port-dst", "5353").Stdout));
        Assert.Equal(10_000, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-d", "10.2.0.1").Stdout));
        Assert.True(ct.TryFlush(AddressFamily.InterNetworkV6, [new ConntrackFilter { Protocol = 17, DestinationPort = 5353 }]));
        Assert.Equal(0, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-f", "ipv6", "-p", "udp", "--orig-port-dst", "5353").Stdout));
    }

    [Fact]
    public void FlushOfManyAddressesAndPorts_ReadsTheTableOnce_AndDeletesExactlyTheirFlows()
    {
        // What a network's removal flushes after many Disconnects: more filters than MaxFlushFilters (a pass each would
        // add up to seconds), so one dump and a delete per matching entry; the same entries go as with few filters.
        using var ns = _nss.Create("ctmany");
        var addresses = Enumerable.Range(1, 40).Select(i => IPAddress.Parse($"10.50.1.{i}")).ToList();
        Load(ns.Name!, Unrelated(10_000)
            .Concat(addresses.Select((a, i) => $"-I -s {a} -d 10.2.0.9 -p tcp --sport {5000 + i} --dport 443 --state ESTABLISHED -t 600"))
            .Concat(addresses.Select((a, i) => $"-I -s 10.99.0.2 -d 10.99.0.1 -r {a} -q 10.99.0.2 -p tcp --sport {40000 + i} --dport 8080 --reply-port-src 80 --reply-port-dst {40000 + i} --state ESTABLISHED -t 600"))
            .Concat(
            [
                "-I -s 10.99.0.3 -d 10.99.0.1 -p udp --sport 40001 --dport 5353 -t 600",
                "-I -s 10.99.0.3 -d 10.99.0.1 -p udp --sport 40001 --dport 5354 -t 600",
                "-I -s 10.50.1.200 -d 10.2.0.9 -p tcp --sport 5000 --dport 443 --state ESTABLISHED -t 600",
            ]));
        Assert.True(addresses.Count * 2 + 1 > ContainerNetworking.Model.NetworkRules.MaxFlushFilters);
        new ContainerNetworking.Model.NetworkRules(ns).FlushConntrack(addresses, [5353]);
        Assert.Equal(10_002u, new ConntrackClient(ns.NetfilterConnection).Count());
        Assert.Equal(0, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-p", "udp", "--orig-port-dst", "5353").Stdout));
        Assert.Equal(1, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-p", "udp", "--orig-port-dst", "5354").Stdout));
        Assert.Equal(1, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-s", "10.50.1.200").Stdout));
        Assert.Equal(10_000, Lines(Cli.InNs(ns.Name!, "conntrack", "-L", "-d", "10.2.0.1").Stdout));
    }

    [Fact]
    public void Filter_OnPortsWithoutProtocol_IsRefusedBeforeAsking()
    {
        using var ns = _nss.Create("ctfbad");
        var ct = new ConntrackClient(ns.NetfilterConnection);
        Assert.Throws<ArgumentException>(() => ct.List(AddressFamily.InterNetwork, new ConntrackFilter { DestinationPort = 80 }));
        Assert.Throws<ArgumentException>(() => ct.List(AddressFamily.InterNetwork, ConntrackFilter.OriginalSource(IPAddress.IPv6Loopback)));
    }

    private static int Lines(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
}
