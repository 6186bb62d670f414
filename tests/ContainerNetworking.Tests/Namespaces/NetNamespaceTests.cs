using System.Diagnostics;
using ContainerNetworking.Interop;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Namespaces;

public sealed class NetNamespaceTests : IDisposable
{
    private readonly TestNamespaces _ns = new();
    public void Dispose() => _ns.Dispose();

    [Fact]
    public void Create_IsVisibleToIproute2_AndIsANewNamespace()
    {
        using var ns = _ns.Create("create");
        var list = Cli.Run("ip", "netns", "list").Ok().Stdout;
        Assert.Contains(ns.Name!, list);
        Assert.NotEqual(NetNamespace.CurrentId(), ns.Id);
        // A new namespace has only a down loopback (scenario S002).
        var links = Cli.IpJson(ns.Name!, "link", "show");
        Assert.Single(links.EnumerateArray());
        Assert.Equal("lo", links[0].GetProperty("ifname").GetString());
        Assert.Contains(ns.Name!, NetNamespace.ListNames());
    }

    [Fact]
    public void NamespaceMadeByIproute2_CanBeOpenedByName()
    {
        var name = TestNamespaces.UniqueName("ipadd");
        Cli.Run("ip", "netns", "add", name).Ok();
        _ns.Track(name);
        using var ns = NetNamespace.Open(name);
        Assert.Equal(name, ns.Name);
        // Same inode as iproute2 sees for a process inside it.
        var inode = Cli.InNs(name, "readlink", "/proc/self/ns/net").Ok().Stdout.Trim();
        Assert.Equal($"net:[{ns.Id}]", inode);
    }

    [Fact]
    public void Delete_RemovesTheMountAndTheName()
    {
        var name = TestNamespaces.UniqueName("del");
        NetNamespace.Create(name).Dispose();
        NetNamespace.Delete(name);
        Assert.False(NetNamespace.Exists(name));
        Assert.DoesNotContain(name, Cli.Run("ip", "netns", "list").Ok().Stdout);
        Assert.Throws<NetNamespaceNotFoundException>(() => NetNamespace.Delete(name));
    }

    [Fact]
    public void CreateTwice_FailsClearly_AndKeepsTheFirst()
    {
        using var ns = _ns.Create("dup");
        var e = Assert.Throws<NetNamespaceExistsException>(() => NetNamespace.Create(ns.Name!));
        Assert.Contains("already exists", e.Message);
        using var again = NetNamespace.Open(ns.Name!);
        Assert.Equal(ns.Id, again.Id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("a/b")]
    public void BadNames_AreRefused_AndNothingIsCreated(string name)
    {
        // Other tests make their namespaces meanwhile (all named with the fixture's prefix): the rest must not change.
        static List<string> Others() => [.. NetNamespace.ListNames().Where(n => !n.StartsWith(TestNamespaces.Prefix, StringComparison.Ordinal))];
        var before = Others();
        Assert.ThrowsAny<ArgumentException>(() => NetNamespace.Create(name));
        Assert.ThrowsAny<ArgumentException>(() => NetNamespace.BeginCreate(name));
        var unnamed = NetNamespace.BeginCreateUnnamed();
        Assert.ThrowsAny<ArgumentException>(() => unnamed.Wait(name));
        // A refused name changes nothing: the namespace is still made and unnamed, and goes when let go.
        var id = unnamed.WaitForId();
        Assert.NotNull(id);
        unnamed.Discard();
        Assert.Empty(Holders(id!.Value));
        Assert.Equal(before, Others());
    }

    [Fact]
    public void Open_Missing_SaysHowToFixIt()
    {
        var e = Assert.Throws<NetNamespaceNotFoundException>(() => NetNamespace.Open("cnt-does-not-exist"));
        Assert.Contains("New-NetNamespace", e.Message);
    }

    [Fact]
    public void Missing_StandsInForANamespaceThatDoesNotExist_AndEveryUseThrowsItsError()
    {
        var e = Assert.Throws<NetNamespaceNotFoundException>(() => NetNamespace.Open("cnt-does-not-exist"));
        using var m = NetNamespace.Missing(e);
        Assert.Equal("cnt-does-not-exist", m.Name);
        Assert.Equal("/run/netns/cnt-does-not-exist", m.Path);
        Assert.True(m.IsDisposed);
        Assert.Same(e, m.MissingError);
        Assert.Equal(e.Message, Assert.Throws<NetNamespaceNotFoundException>(() => m.Rtnl.GetLinks()).Message);
        Assert.Equal(e.Message, Assert.Throws<NetNamespaceNotFoundException>(() => m.Nft).Message);
        Assert.Equal("cnt-does-not-exist", Assert.Throws<NetNamespaceNotFoundException>(() => m.Handle).NamespaceName);
        Assert.Throws<NetNamespaceNotFoundException>(() => m.ReadSysctl("net.ipv4.ip_forward"));
        // A namespace that was opened has none.
        using var current = NetNamespace.OpenCurrent();
        Assert.Null(current.MissingError);
    }

    [Fact]
    public void Sysctl_IsPerNamespace_AndNeverTouchesTheRoot()
    {
        using var ns = _ns.Create("sysctl");
        var rootBefore = File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim();
        Assert.Equal("0", ns.ReadSysctl("net.ipv4.ip_forward"));
        ns.WriteSysctl("net.ipv4.ip_forward", "1");
        Assert.Equal("1", ns.ReadSysctl("net.ipv4.ip_forward"));
        Assert.Equal("1", Cli.InNs(ns.Name!, "cat", "/proc/sys/net/ipv4/ip_forward").Ok().Stdout.Trim());
        Assert.Equal(rootBefore, File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim());
    }

    [Fact]
    public void StartProcess_RunsInsideTheNamespace()
    {
        using var ns = _ns.Create("exec");
        var psi = new System.Diagnostics.ProcessStartInfo("readlink", "/proc/self/ns/net") { RedirectStandardOutput = true };
        using var p = ns.StartProcess(psi);
        var output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        Assert.Equal($"net:[{ns.Id}]", output);
    }

    [Fact]
    public void ProcessesIn_FindsWhatIpNetnsPidsFinds_AndHasProcessesSeesAProcessComeAndGo()
    {
        using var ns = _ns.Create("pids");
        Assert.False(NetNamespace.HasProcesses(ns.Id));
        Assert.Empty(NetNamespace.ProcessesIn(ns.Id));
        using var p = ns.StartProcess(new System.Diagnostics.ProcessStartInfo("sleep", "30"));
        try
        {
            Assert.True(NetNamespace.HasProcesses(ns.Id));
            Assert.Equal([p.Id], NetNamespace.ProcessesIn(ns.Id));
            Assert.Equal(p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), Cli.Run("ip", "netns", "pids", ns.Name!).Ok().Stdout.Trim());
            // the process's own namespace has processes (this one), an inode of another file system is no namespace
            Assert.Contains(Environment.ProcessId, NetNamespace.ProcessesIn(NetNamespace.CurrentId()));
        }
        finally
        {
            p.Kill();
            p.WaitForExit();
        }
        Assert.False(NetNamespace.HasProcesses(ns.Id));
    }

    [Fact]
    public void Sockets_AreBoundToTheirNamespace_AndThePipelineThreadNeverMoves()
    {
        using var ns = _ns.Create("sock");
        var threadNs = new FileInfo("/proc/thread-self/ns/net").LinkTarget;
        _ = ns.RouteConnection;
        using var s = ns.OpenSocket(LibC.NETLINK_ROUTE);
        Assert.Equal(threadNs, new FileInfo("/proc/thread-self/ns/net").LinkTarget);
        Assert.NotEqual($"net:[{ns.Id}]", threadNs);
    }

    /// <summary>Every thread and descriptor of this process that refers to namespace <paramref name="id"/> (net:[ID]).</summary>
    private static List<string> Holders(ulong id)
    {
        var inside = $"net:[{id}]";
        static string? Target(string link)
        {
            try { return new FileInfo(link).LinkTarget; }
            catch (IOException) { return null; } // gone meanwhile
        }
        return [.. Directory.GetDirectories("/proc/self/task").Select(t => t + "/ns/net").Concat(Directory.GetFiles("/proc/self/fd")).Where(l => Target(l) == inside)];
    }

    [Fact]
    public void BeginCreateUnnamed_IsInvisibleUntilNamed_ThenIsWhatIpNetnsAddMakes()
    {
        var name = TestNamespaces.UniqueName("early");
        _ns.Track(name);
        var pending = NetNamespace.BeginCreateUnnamed();
        var id = pending.WaitForId();
        Assert.NotNull(id);
        Assert.True(pending.IsMade);
        Assert.NotEqual(NetNamespace.CurrentId(), id);
        // Made, held by our descriptors only: no name, no thread of ours inside it.
        Assert.False(NetNamespace.Exists(name));
        Assert.DoesNotContain(name, Cli.Run("ip", "netns", "list").Ok().Stdout);
        Assert.All(Holders(id!.Value), h => Assert.StartsWith("/proc/self/fd/", h));

        using var ns = pending.Wait(name);
        Assert.Same(ns, pending.Wait(name));
        Assert.Equal(name, ns.Name);
        Assert.Equal(id, ns.Id);
        Assert.Equal($"net:[{id}]", Cli.InNs(name, "readlink", "/proc/self/ns/net").Ok().Stdout.Trim());
        // Its socket opened inside works: the new namespace's loopback, down, as ip netns add leaves it.
        var lo = Assert.Single(ns.Rtnl.GetLinks());
        Assert.Equal("lo", lo.Name);
        Assert.Throws<InvalidOperationException>(() => pending.Wait(name + "x"));
    }

    [Fact]
    public void BeginCreateUnnamed_Discarded_LeavesNothing_AndNothingHoldsTheNamespace()
    {
        var pending = NetNamespace.BeginCreateUnnamed();
        var id = pending.WaitForId()!.Value;
        Assert.NotEmpty(Holders(id));
        pending.Discard();
        // Nothing of ours refers to it any more (no descriptor, no thread, no mount), so the kernel frees it.
        Assert.Empty(Holders(id));
        Assert.Null(pending.WaitForId());
        Assert.Throws<ObjectDisposedException>(() => pending.Wait(TestNamespaces.UniqueName("late")));
        pending.Discard(); // twice: nothing more to do
    }

    [Fact]
    public void BeginCreate_WhenSomeoneTakesTheNameMeanwhile_FailsClearly_TheirsIsKept_AndOursGoes()
    {
        using var theirs = _ns.Create("taken");
        var pending = NetNamespace.BeginCreate(theirs.Name!);
        var id = pending.WaitForId()!.Value;
        var e = Assert.Throws<NetNamespaceExistsException>(() => pending.Wait());
        Assert.Contains("already exists", e.Message);
        Assert.Same(e, Assert.Throws<NetNamespaceExistsException>(() => pending.Wait()));
        Assert.Null(pending.WaitForId()); // nothing of it is left to give
        Assert.Empty(Holders(id));
        using var again = NetNamespace.Open(theirs.Name!);
        Assert.Equal(theirs.Id, again.Id);
    }

    /// <summary>
    /// Socket work inside a namespace must not leave a runtime thread behind in it: the socket engine's thread, started
    /// by the first socket operation of a process, would pin the namespace (deleted, it would never go, nor its veths).
    /// Checked in a fresh process (the test agent), where that operation is the first.
    /// </summary>
    [Fact]
    public void SocketWorkInside_LeavesNoThreadInTheNamespace()
    {
        using var ns = _ns.Create("pin");
        var r = Cli.Run("dotnet", [ContainerNetworking.Tests.Model.Agent.Path, "pin-check", ns.Name!], TimeSpan.FromSeconds(60));
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Equal("clean", r.Stdout.Trim());
    }

    /// <summary>
    /// Namespace work runs on long-lived workers of ours that go home after each job: after creating a namespace
    /// (unshare on a worker) and working inside it (setns on a worker), no thread of the process is in it, a worker is
    /// alive at home, and the namespace, deleted, really goes (the kernel takes its veth's host end along).
    /// </summary>
    [Fact]
    public void NamespaceWork_LeavesTheWorkerAtHome_AndPinsNothing()
    {
        var home = new FileInfo("/proc/self/ns/net").LinkTarget;
        using var host = _ns.Create("whost");
        var c = _ns.Create("wctr");
        host.Rtnl.CreateVeth("vw0", "eth0", c.Handle);
        Assert.Equal(1, c.Run(() => 1));
        var inside = $"net:[{c.Id}]";
        static string? Ns(string task)
        {
            try { return new FileInfo(task + "/ns/net").LinkTarget; }
            catch (IOException) { return null; } // the thread ended meanwhile
        }
        static string Comm(string task)
        {
            try { return File.ReadAllText(task + "/comm").Trim(); }
            catch (IOException) { return ""; }
        }
        var tasks = Directory.GetDirectories("/proc/self/task");
        Assert.Empty(tasks.Where(t => Ns(t) == inside).Select(Comm));
        // Another test may be running a job on a worker right now: some worker is idle at home within a second.
        var sw = Stopwatch.StartNew();
        while (!Directory.GetDirectories("/proc/self/task").Any(t => Comm(t) == "netns worker" && Ns(t) == home) && sw.Elapsed < TimeSpan.FromSeconds(1))
            Thread.Sleep(10);
        Assert.Contains(Directory.GetDirectories("/proc/self/task"), t => Comm(t) == "netns worker" && Ns(t) == home);

        var name = c.Name!;
        c.Dispose();
        NetNamespace.Delete(name);
        sw.Restart();
        while (host.Rtnl.FindLink("vw0") is not null && sw.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(20);
        Assert.Null(host.Rtnl.FindLink("vw0"));
    }
}
