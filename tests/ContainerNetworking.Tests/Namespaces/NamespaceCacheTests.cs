using System.Globalization;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Namespaces;

/// <summary>
/// The cache of open namespaces: checked against the path on every use, closing entries whose name is gone (so the
/// deleted namespace, and its veths, really go), and bounded (least recently used closed).
/// </summary>
public sealed class NamespaceCacheTests : IDisposable
{
    private readonly TestNamespaces _nss = new();
    private readonly List<string> _byCli = [];

    public void Dispose()
    {
        foreach (var n in _byCli)
            if (NetNamespace.Exists(n)) Cli.Run("ip", "netns", "del", n);
        _nss.Dispose();
    }

    /// <summary>A namespace made by ip netns add (no handle of the test's own pins it).</summary>
    private string AddByCli(string role)
    {
        var name = TestNamespaces.UniqueName(role);
        _byCli.Add(name);
        Cli.Run("ip", "netns", "add", name).Ok();
        return name;
    }

    private static ulong InodeOf(string name) =>
        ulong.Parse(Cli.Run("stat", "-L", "-c", "%i", NetNamespace.RunDirectory + "/" + name).Ok().Stdout.Trim(), CultureInfo.InvariantCulture);

    [Fact]
    public void ANameDeletedAndAddedAgain_GivesTheNewNamespace_AndClosesTheOld()
    {
        using var cache = new NamespaceCache();
        var name = AddByCli("again");
        Cli.Run("ip", "-n", name, "link", "add", "old0", "type", "bridge").Ok();
        var first = cache.Get(name);
        Assert.Contains(first.Rtnl.GetLinks(), l => l.Name == "old0");
        Assert.Same(first, cache.Get("/run/netns/" + name));

        Cli.Run("ip", "netns", "del", name).Ok();
        Cli.Run("ip", "netns", "add", name).Ok();
        var second = cache.Get(name);
        Assert.NotSame(first, second);
        Assert.True(first.IsDisposed);
        Assert.Equal(InodeOf(name), second.Id);
        Assert.DoesNotContain(second.Rtnl.GetLinks(), l => l.Name == "old0");

        Cli.Run("ip", "netns", "del", name).Ok();
        Assert.Throws<NetNamespaceNotFoundException>(() => cache.Get(name));
        Assert.False(cache.Contains(name));
    }

    [Fact]
    public void ANamespaceDeletedBehindItsBack_IsLetGo_AndItsVethGoesFromThePeer()
    {
        using var cache = new NamespaceCache();
        var a = _nss.Create("peer");
        var b = AddByCli("gone");
        Cli.Run("ip", "-n", a.Name!, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b).Ok();
        Assert.Contains(cache.Get(b).Rtnl.GetLinks(), l => l.Name == "vb"); // the cache holds b's handle and socket
        Cli.Run("ip", "netns", "del", b).Ok();

        // Nobody asks for b again; the next use of the cache (after its once-a-second look) lets it go, and the kernel
        // then destroys the namespace with its end of the veth pair, which takes va.
        Thread.Sleep(NamespaceCache.CheckEvery + TimeSpan.FromMilliseconds(100));
        cache.Get(a.Name!);
        Assert.False(cache.Contains(b));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (a.Rtnl.FindLink("va") is not null && DateTime.UtcNow < deadline) Thread.Sleep(50);
        Assert.Null(a.Rtnl.FindLink("va"));
    }

    [Fact]
    public void TouchingTwoHundredNamespaces_KeepsAtMostTheCapacityOpen_AndFdsAndMemoryBounded()
    {
        var names = Enumerable.Range(0, 200).Select(i => TestNamespaces.UniqueName("many")).ToList();
        _byCli.AddRange(names);
        foreach (var chunk in names.Chunk(50))
            Cli.Run("sh", ["-c", string.Join("; ", chunk.Select(n => "ip netns add " + n))], TimeSpan.FromSeconds(120)).Ok();

        using var cache = new NamespaceCache(capacity: 64, grace: TimeSpan.Zero);
        static int Fds() => Directory.GetFiles("/proc/self/fd").Length;
        cache.Get(names[0]).Rtnl.GetLinks(); // the first of a kind warms what every later one shares
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var fds = Fds();
        var memory = GC.GetTotalMemory(forceFullCollection: true);
        foreach (var n in names) Assert.NotEmpty(cache.Get(n).Rtnl.GetLinks()); // lo: a handle and a route socket each
        Assert.Equal(64, cache.Count);
        var grown = Fds() - fds;
        // 64 entries of a handle and a route socket each; /proc/self/fd counts the whole test process, where other
        // test classes open and close sockets in parallel, so allow them a little room. Unbounded, the 200 touched
        // namespaces would hold 400.
        Assert.InRange(grown, 0, 64 * 2 + 32);
        var grewBy = GC.GetTotalMemory(forceFullCollection: true) - memory;
        Assert.True(grewBy < 8 << 20, $"managed memory grew by {grewBy >> 10} KiB for 200 namespaces touched");
        // the least recently used went; the most recent are still the same objects
        Assert.False(cache.Contains(names[0]));
        Assert.Same(cache.Get(names[^1]), cache.Get(names[^1]));
    }
}
