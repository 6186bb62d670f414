using System.Diagnostics;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// Containers of a network resolve each other's names through /etc/netns/NAME/hosts, with ip netns exec and with
/// NetNamespace.StartProcess (Invoke-NetNamespace). Only /etc/netns of the test's own namespaces is written; the
/// fixture removes it, also on failure.
/// </summary>
public sealed class NameResolutionTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    private static (int Code, string Out) StartIn(string ns, params string[] command)
    {
        using var n = NetNamespace.Open(ns);
        var psi = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in command[1..]) psi.ArgumentList.Add(a);
        using var p = n.StartProcess(psi);
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output.Trim());
    }

    [Fact]
    public void ContainersResolveEachOther_AndTheNamesFollowConnectAndDisconnect()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "app", Subnet = Net("172.24.0.0/24") });
        var web = _f.Run("app", "web");
        var db = _f.Manager.Connect(new EndpointSpec { Network = "app", Namespace = _f.Container("db"), CreateNamespace = true, Aliases = ["database"] });

        var hosts = File.ReadAllText(Path.Combine("/etc/netns", web.Namespace!, "hosts"));
        Assert.StartsWith(NameResolution.Marker, hosts);
        Assert.Contains($"172.24.0.3\t{db.Container} database", hosts);
        Assert.True(File.Exists(Path.Combine("/etc/netns", web.Namespace!, "resolv.conf")) || !File.Exists("/etc/resolv.conf"));

        // ip netns exec and StartProcess both see it, by name and alias; the ping crosses the bridge.
        Assert.Contains("172.24.0.3", Cli.InNs(web.Namespace!, "getent", "-s", "files", "hosts", db.Container).Ok().Stdout);
        Assert.Equal(0, StartIn(web.Namespace!, "getent", "-s", "files", "hosts", "database").Code);
        Assert.StartsWith("172.24.0.2", StartIn(db.Namespace!, "getent", "-s", "files", "hosts", web.Container).Out);
        Assert.True(Cli.Ping(web.Namespace!, "database"), "web -> database by name");
        // The bind mounts were the started process's own: this process's /etc/hosts does not know the containers.
        Assert.DoesNotContain(db.Container, File.ReadAllText("/etc/hosts"));

        // The network's file is the one place the names are: each container's /etc/netns/NAME is a link to the network's
        // directory of name files (no directory of its own).
        var networkHosts = Path.Combine(_f.StateDir, "networks", "app", "etc", "hosts");
        foreach (var c in new[] { web, db })
        {
            Assert.Equal(Path.GetDirectoryName(networkHosts), new FileInfo(Path.Combine("/etc/netns", c.Namespace!)).LinkTarget);
            Assert.Equal(Inode(networkHosts), Inode(Path.Combine("/etc/netns", c.Namespace!, "hosts")));
        }

        // Deleted by hand: Test finds nothing amiss in the path, Repair makes it again, and a second Repair finds nothing.
        File.Delete(Path.Combine("/etc/netns", web.Namespace!));
        Assert.NotEqual(0, Cli.InNs(web.Namespace!, "getent", "-s", "files", "hosts", "database").ExitCode);
        var fixedOne = Assert.Single(_f.Manager.Repair());
        Assert.Equal(("StaleHostsFile", "Recreated", Path.Combine("/etc/netns", web.Namespace!)), (fixedOne.Kind, fixedOne.Action, fixedOne.Object));
        Assert.Contains("172.24.0.3", Cli.InNs(web.Namespace!, "getent", "-s", "files", "hosts", "database").Ok().Stdout);
        File.Delete(networkHosts);
        var again = Assert.Single(_f.Manager.Repair());
        Assert.Equal(("StaleHostsFile", networkHosts), (again.Kind, again.Object));
        Assert.Equal(0, StartIn(web.Namespace!, "getent", "-s", "files", "hosts", db.Container).Code);
        Assert.Empty(_f.Manager.Repair());

        // A container on two networks lists the containers of both.
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "ops", Subnet = Net("172.25.0.0/24") });
        var probe = _f.Run("ops", "probe");
        _f.Manager.Connect(new EndpointSpec { Network = "ops", Namespace = web.Namespace });
        Assert.Equal(0, StartIn(web.Namespace!, "getent", "-s", "files", "hosts", probe.Container).Code);
        Assert.NotEqual(0, StartIn(probe.Namespace!, "getent", "-s", "files", "hosts", db.Container).Code);

        // db goes: nobody resolves it any more, and its own files are gone.
        _f.Manager.Disconnect(db.Container, "app");
        Assert.NotEqual(0, StartIn(web.Namespace!, "getent", "-s", "files", "hosts", "database").Code);
        Assert.NotEqual(0, Cli.InNs(web.Namespace!, "getent", "-s", "files", "hosts", db.Container).ExitCode);
        Assert.False(Directory.Exists(Path.Combine("/etc/netns", db.Namespace!)));

        _f.Manager.Disconnect(web.Container, "app");
        Assert.Equal(0, StartIn(web.Namespace!, "getent", "-s", "files", "hosts", probe.Container).Code);
        _f.Manager.Disconnect(web.Container, "ops");
        Assert.False(Directory.Exists(Path.Combine("/etc/netns", web.Namespace!)));
    }

    private static string Inode(string path) => Cli.Run("stat", "-L", "-c", "%d:%i", path).Ok().Stdout.Trim();

    [Fact]
    public void ARunningProcess_SeesContainersConnectedAndDisconnectedAfterItStarted()
    {
        // A process started in a container (as ip netns exec or Invoke-NetNamespace start one) bind-mounted the
        // container's hosts file when it started; the network's file is rewritten in place, so it sees later changes.
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "live", Subnet = Net("172.27.0.0/24") });
        var web = _f.Run("live", "web");
        using var n = NetNamespace.Open(web.Namespace!);
        var psi = new ProcessStartInfo("sh") { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        // Waits (at most 20 s) until "late" resolves, prints it, then until it no longer does.
        psi.ArgumentList.Add("i=0; until getent -s files hosts late; do i=$((i+1)); [ $i -gt 200 ] && exit 3; sleep 0.1; done; " +
            "i=0; while getent -s files hosts late >/dev/null; do i=$((i+1)); [ $i -gt 200 ] && exit 4; sleep 0.1; done; echo gone");
        using var p = n.StartProcess(psi);
        Thread.Sleep(300);
        var late = _f.Manager.Connect(new EndpointSpec { Network = "live", Namespace = _f.Container("late"), CreateNamespace = true, Aliases = ["late"] });
        Thread.Sleep(300);
        _f.Manager.Disconnect(late.Container, "live");
        Assert.True(p.WaitForExit(30_000), "the process in web did not finish");
        var output = p.StandardOutput.ReadToEnd();
        Assert.Equal(0, p.ExitCode);
        Assert.Contains(late.IPv4Address!.ToString(), output);
        Assert.EndsWith("gone", output.Trim());
    }

    [Fact]
    public void DualStackContainers_ResolveEachOther_OverBothFamilies()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "ds", Subnet = Net("172.26.0.0/24"), SubnetV6 = Net("fd26::/64") });
        var a = _f.Run("ds", "a");
        var b = _f.Run("ds", "b");
        var six = Cli.InNs(a.Namespace!, "getent", "-s", "files", "ahostsv6", b.Container).Ok().Stdout;
        Assert.Contains(b.IPv6Address!.ToString(), six);
        Assert.True(Cli.Ping(a.Namespace!, b.Container), "a -> b by name");
        Assert.Equal(0, Cli.Run("ip", "netns", "exec", a.Namespace!, "ping", "-6", "-c", "1", "-W", "5", b.Container).ExitCode);
    }

    [Fact]
    public void AHostsFileSomeoneElseWrote_IsLeftAlone()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "app", Subnet = Net("172.24.0.0/24") });
        var name = _f.Container("own");
        var dir = Path.Combine("/etc/netns", name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "hosts"), "10.1.2.3 mine\n");
        _f.Manager.Connect(new EndpointSpec { Network = "app", Namespace = name, CreateNamespace = true });
        _f.Run("app", "other");
        Assert.Equal("10.1.2.3 mine\n", File.ReadAllText(Path.Combine(dir, "hosts")));
        _f.Manager.Disconnect(name, "app");
        Assert.Equal("10.1.2.3 mine\n", File.ReadAllText(Path.Combine(dir, "hosts")));
    }

    [Fact]
    public void ABadAlias_IsRefused_AndNothingChanges()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "app", Subnet = Net("172.24.0.0/24") });
        var before = _f.Snapshot();
        var e = Assert.Throws<ContainerNetworkingException>(() =>
            _f.Manager.Connect(new EndpointSpec { Network = "app", Namespace = _f.Container("x"), CreateNamespace = true, Aliases = ["bad name"] }));
        Assert.Equal("InvalidName", e.ErrorId);
        Assert.Equal(before, _f.Snapshot());
    }

    /// <summary>The hosts file the records say a network's should be: marker, state line, localhost, then each container's addresses in the order given.</summary>
    private string ExpectedHosts(string network, params ContainerEndpoint[] listed)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append(NameResolution.Marker).Append('\n').Append("# State: ").Append(Path.Combine(_f.StateDir, "networks", network)).Append('\n');
        sb.Append("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        foreach (var e in listed)
        {
            var names = string.Join(' ', new[] { e.Container }.Concat(e.Aliases));
            if (e.IPv4Address is { } a) sb.Append(a).Append('\t').Append(names).Append('\n');
            if (e.IPv6Address is { } b) sb.Append(b).Append('\t').Append(names).Append('\n');
        }
        return sb.ToString();
    }

    private string HostsPath(string network) => Path.Combine(_f.StateDir, "networks", network, "etc", "hosts");

    [Fact]
    public void TheNetworksHostsFile_ListsExactlyItsContainers_InConnectOrder_ThroughConnectsAndDisconnects_InTheSameFile()
    {
        // A connect adds its lines at the end and a disconnect rewrites what follows the leaving container's: the file
        // is byte for byte what a whole rewrite gives, IPv4 and IPv6 lines and aliases included, and keeps its inode.
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "seq", Subnet = Net("172.28.0.0/24"), SubnetV6 = Net("fd28::/64") });
        var path = HostsPath("seq");
        var a = _f.Run("seq", "a");
        var inode = Inode(path);
        void Expect(params ContainerEndpoint[] listed)
        {
            Assert.Equal(ExpectedHosts("seq", listed), File.ReadAllText(path));
            Assert.Equal(inode, Inode(path));
        }
        Expect(a);
        var b = _f.Manager.Connect(new EndpointSpec { Network = "seq", Namespace = _f.Container("b"), CreateNamespace = true, Aliases = ["bee", "b-2"] });
        var c = _f.Run("seq", "c");
        Expect(a, b, c);
        _f.Manager.Disconnect(b.Container, "seq"); // from the middle
        Expect(a, c);
        var d = _f.Run("seq", "d");
        Expect(a, c, d);
        _f.Manager.Disconnect(d.Container, "seq"); // the last
        Expect(a, c);
        _f.Manager.Disconnect(a.Container, "seq"); // the first
        Expect(c);
        var e = _f.Run("seq", "e");
        Expect(c, e);
        Assert.Equal(0, StartIn(e.Namespace!, "getent", "-s", "files", "hosts", c.Container).Code);
        Assert.NotEqual(0, StartIn(e.Namespace!, "getent", "-s", "files", "hosts", "bee").Code);
        Assert.Empty(_f.Manager.Repair());
    }

    [Fact]
    public void AHostsFileChangedByHand_IsWrittenWhole_NeverAppendedTo()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "hand", Subnet = Net("172.29.0.0/24") });
        var path = HostsPath("hand");
        var a = _f.Run("hand", "a");
        // A line added by hand (the file grew): the next connect writes the whole file, without it.
        File.AppendAllText(path, "10.9.9.9\tintruder\n");
        var b = _f.Run("hand", "b");
        Assert.Equal(ExpectedHosts("hand", a, b), File.ReadAllText(path));
        // Written over in place with as many bytes (an editor that truncates and writes): seen too.
        File.WriteAllText(path, File.ReadAllText(path).Replace(b.Container, new string('x', b.Container.Length)));
        var c = _f.Run("hand", "c");
        Assert.Equal(ExpectedHosts("hand", a, b, c), File.ReadAllText(path));
        // Cut short by hand, then a disconnect: the whole file again.
        File.WriteAllText(path, File.ReadAllText(path)[..^10]);
        _f.Manager.Disconnect(a.Container, "hand");
        Assert.Equal(ExpectedHosts("hand", b, c), File.ReadAllText(path));
        // Deleted: made again.
        File.Delete(path);
        var d = _f.Run("hand", "d");
        Assert.Equal(ExpectedHosts("hand", b, c, d), File.ReadAllText(path));
        Assert.Empty(_f.Manager.Repair());
    }

    [Fact]
    public void ChangesByAnotherManager_OrToTheNetworkRecordByHand_AreSeenByTheNextOperation()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "both", Subnet = Net("172.30.0.0/24") });
        var path = HostsPath("both");
        var a = _f.Run("both", "a");
        // Another manager of the same state (as another process would) connects and disconnects: the hosts file this
        // manager wrote last is not what is there any more, and the next connect here lists exactly the containers.
        var other = new ContainerNetworkManager(_f.Host, _f.StateDir);
        var b = other.Connect(new EndpointSpec { Network = "both", Namespace = _f.Container("b"), CreateNamespace = true });
        var c = _f.Run("both", "c");
        Assert.Equal(ExpectedHosts("both", a, b, c), File.ReadAllText(path));
        other.Disconnect(a.Container, "both");
        var d = _f.Run("both", "d");
        Assert.Equal(ExpectedHosts("both", b, c, d), File.ReadAllText(path));

        // The network's record edited by hand (in place) between two connects: the next connect reads it again.
        var record = Path.Combine(_f.StateDir, "networks", "both", "network.json");
        var json = File.ReadAllText(record);
        Assert.Contains("\"state\": \"Ready\"", json);
        File.WriteAllText(record, json.Replace("\"state\": \"Ready\"", "\"state\": \"Creating\""));
        var e = Assert.Throws<ContainerNetworkingException>(() => _f.Run("both", "e"));
        Assert.Equal("NetworkIncomplete", e.ErrorId);
        File.WriteAllText(record, json);
        _f.Run("both", "e");

        // A network removed and made again with another subnet by the other manager: the next connect here takes its
        // address from the new one.
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "again", Subnet = Net("172.31.0.0/24") });
        _f.Manager.Disconnect(_f.Run("again", "x").Container, "again");
        other.RemoveNetwork("again");
        other.CreateNetwork(new NetworkSpec { Name = "again", Subnet = Net("172.31.1.0/24") });
        var y = _f.Run("again", "y");
        Assert.Equal("172.31.1.2", y.IPv4Address!.ToString());
        Assert.Equal(ExpectedHosts("again", y), File.ReadAllText(HostsPath("again")));
        Assert.Empty(_f.Manager.Repair());
    }
}
