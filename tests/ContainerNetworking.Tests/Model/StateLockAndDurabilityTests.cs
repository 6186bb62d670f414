using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using ContainerNetworking.Model;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// The state lock waits with a time-out and can be cancelled, names the process that holds it, and tells the next
/// holder when the previous one was killed holding it (its temporary files are swept); network records are written
/// durably (fsync'ed before the rename, the directory after), a container's records atomically without fsync.
/// </summary>
public sealed class StateLockAndDurabilityTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    private string LockPath => Path.Combine(_f.StateDir, ".lock");

    /// <summary>Holds the state lock from another process: flock(1), which writes no pid into the file.</summary>
    private Process HoldWithFlock()
    {
        Directory.CreateDirectory(_f.StateDir);
        var p = Process.Start(new ProcessStartInfo("flock", ["-x", LockPath, "sleep", "60"]) { UseShellExecute = false })!;
        // wait until it holds the lock
        var sw = Stopwatch.StartNew();
        while (!File.ReadAllText("/proc/locks").Contains(" " + p.Id.ToString(CultureInfo.InvariantCulture) + " ", StringComparison.Ordinal))
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException("flock did not take the lock");
            Thread.Sleep(20);
        }
        return p;
    }

    private static void Stop(Process p)
    {
        try { p.Kill(true); } catch (InvalidOperationException) { }
        p.WaitForExit();
        p.Dispose();
    }

    [Fact]
    public void LockedByAnotherProcess_FailsAfterTheTimeout_NamingTheHolder()
    {
        var holder = HoldWithFlock();
        try
        {
            _f.Manager.State.LockTimeout = TimeSpan.FromSeconds(1);
            var sw = Stopwatch.StartNew();
            var e = Assert.Throws<ContainerNetworkingException>(() => _f.Manager.CreateNetwork(new NetworkSpec { Name = "n", BridgeName = "br-n", Subnet = Net("172.20.0.0/16") }));
            Assert.InRange(sw.Elapsed.TotalSeconds, 0.9, 10);
            Assert.Equal("StateLocked", e.ErrorId);
            Assert.Equal(ErrorKind.ResourceBusy, e.Kind);
            Assert.Contains($"held by pid {holder.Id} (flock -x {LockPath} sleep 60)", e.Message);
            Assert.Contains($"kill {holder.Id}", e.Message);
            Assert.Contains(StateStore.LockTimeoutVariable, e.Message);
            Assert.Null(_f.Manager.FindNetwork("n"));
        }
        finally { Stop(holder); }
        // once it is gone, the lock is ours at once
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "n", BridgeName = "br-n", Subnet = Net("172.20.0.0/16") });
    }

    [Fact]
    public void AWaitForTheLock_EndsAtOnce_WhenTheOperationIsCancelled()
    {
        var holder = HoldWithFlock();
        try
        {
            _f.Manager.State.LockTimeout = TimeSpan.FromMinutes(5);
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            var sw = Stopwatch.StartNew();
            Assert.ThrowsAny<OperationCanceledException>(() =>
            {
                using (CancellationScope.Enter(cts.Token)) _f.Manager.CreateNetwork(new NetworkSpec { Name = "n", BridgeName = "br-n", Subnet = Net("172.20.0.0/16") });
            });
            Assert.InRange(sw.Elapsed.TotalSeconds, 0.25, 3);
        }
        finally { Stop(holder); }
    }

    /// <summary>Bytes 8-11 of the lock file, read by od(1) (.NET's own reads take an advisory lock the holder's refuses).</summary>
    private int HolderInFile()
    {
        var text = Cli.Run("od", "-An", "-t", "d4", "-j", "8", "-N", "4", LockPath).Ok().Stdout.Trim();
        return text.Length == 0 ? 0 : int.Parse(text, CultureInfo.InvariantCulture);
    }

    [Fact]
    public void TheHolder_WritesItsPid_AndClearsItWhenItLetsGo()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "n", BridgeName = "br-n", Subnet = Net("172.20.0.0/16") });
        using (_f.Manager.State.Lock()) Assert.Equal(Environment.ProcessId, HolderInFile());
        Assert.Equal(0, HolderInFile());
        Assert.NotNull(_f.Manager.FindNetwork("n")); // the change counter before the pid is still read correctly
    }

    [Fact]
    public void AHolderKilledHoldingTheLock_LeavesItsPid_AndTheNextHolderSweepsItsTemporaryFiles()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        // A process killed while it holds the lock (before the step that would write the lease).
        var r = Agent.Run(_f, "bridge", 1, _f.Container("killed"), new() { [FaultInjection.Variable] = "LeaseAddress" });
        Assert.NotEqual(0, r.ExitCode);
        var killed = HolderInFile();
        Assert.NotEqual(0, killed);
        Assert.False(Directory.Exists($"/proc/{killed}"));
        // What it was writing when it died: a temporary file of its pid; a live process's must stay.
        var netDir = Path.Combine(_f.StateDir, "networks", "bridge");
        var dead = Path.Combine(netDir, $"network.json.tmp-{killed}-1");
        File.WriteAllText(dead, "{\"half\":");
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        var live = Path.Combine(netDir, $"network.json.tmp-{sleeper.Id}-1");
        File.WriteAllText(live, "{}");
        try
        {
            using (_f.Manager.State.Lock()) { }
            Assert.False(File.Exists(dead), "the killed holder's temporary file is swept");
            Assert.True(File.Exists(live), "a live process's temporary file stays");
            Assert.Equal("bridge", _f.Manager.GetNetwork("bridge").Name);
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
        }
        // Repair sweeps those of every process that is gone.
        Assert.Contains(live, _f.Manager.State.SweepTemporaryFiles());
        Assert.False(File.Exists(live));
        _f.Manager.Repair();
    }

    /// <summary>Runs one agent command under strace -f (fsync, fdatasync and the renames): its renames and its fsyncs, by line.</summary>
    private (List<(int Line, string From, string To)> Renames, List<(int Line, string Path)> Fsyncs, string[] Lines) Traced(params string[] agentArgs)
    {
        var (renames, fsyncs, _, lines) = TracedWithWrites(agentArgs);
        return (renames, fsyncs, lines);
    }

    /// <summary>As <see cref="Traced"/>, with the files written in place too (pwrite, by path).</summary>
    private (List<(int Line, string From, string To)> Renames, List<(int Line, string Path)> Fsyncs, List<string> Pwrites, string[] Lines) TracedWithWrites(params string[] agentArgs)
    {
        var trace = Path.Combine(Path.GetTempPath(), $"cn-strace-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            var r = Cli.Run("strace", ["-f", "-qq", "-y", "-e", "trace=fsync,fdatasync,rename,renameat,renameat2,pwrite64", "-o", trace,
                "dotnet", Agent.Path, .. agentArgs], TimeSpan.FromSeconds(120));
            Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
            var lines = File.ReadAllLines(trace);
            var renames = new List<(int Line, string From, string To)>();
            var fsyncs = new List<(int Line, string Path)>();
            var pwrites = new List<string>();
            for (var i = 0; i < lines.Length; i++)
            {
                if (Regex.Match(lines[i], @"pwrite64\(\d+<([^>]*)>") is { Success: true } w) pwrites.Add(w.Groups[1].Value);
                if (Regex.Match(lines[i], @"f(?:data)?sync\(\d+<([^>]*)>") is { Success: true } f) fsyncs.Add((i, f.Groups[1].Value));
                if (Regex.Match(lines[i], @"rename(?:at2?)?\((?:AT_FDCWD<[^>]*>, |AT_FDCWD, )?""([^""]+)"", (?:AT_FDCWD<[^>]*>, |AT_FDCWD, )?""([^""]+)""") is { Success: true } m)
                    renames.Add((i, m.Groups[1].Value, m.Groups[2].Value));
            }
            return (renames, fsyncs, pwrites, lines);
        }
        finally { File.Delete(trace); }
    }

    [Fact]
    public void NetworkRecords_AreFsyncedBeforeTheRename_AndTheirDirectoryAfter()
    {
        // A network outlives a power cut (Repair makes its bridge again from the record): New-ContainerNetwork, from a
        // process of its own, traced, writes network.json (Creating, then Ready) as a temporary file fsync'ed, renamed
        // into place, its directory fsync'ed after.
        Directory.CreateDirectory(_f.StateDir);
        var (renames, fsyncs, lines) = Traced("new-network", _f.HostName, _f.StateDir, "bridge", "docker0", "172.17.0.0/16");
        var ours = renames.Where(x => x.To.StartsWith(_f.StateDir, StringComparison.Ordinal)).ToList();
        Assert.True(ours.Count >= 2, $"{ours.Count} renames into the state directory:\n{string.Join('\n', lines.Take(50))}");
        foreach (var (line, from, to) in ours)
        {
            Assert.EndsWith("/network.json", to);
            Assert.Contains(".tmp-", from);
            Assert.True(fsyncs.Any(x => x.Line < line && x.Path == from), $"{from} was not fsync'ed before it was renamed to {to}");
            Assert.True(fsyncs.Any(x => x.Line > line && x.Path == Path.GetDirectoryName(to)), $"the directory of {to} was not fsync'ed after the rename");
        }
        Assert.Equal(RecordState.Ready, _f.Manager.GetNetwork("bridge").State);
    }

    [Fact]
    public void ContainerRecords_AreRenamedOrOverwrittenInPlace_WithoutAnyFsync()
    {
        // What describes a container (its endpoint record in every state, lease, hosts files) cannot outlive a power cut
        // any more than its namespace and veth: atomic against a killed process (a new file renamed into place, an
        // existing record overwritten in place with one write), but no fsync at all in a Connect or a Disconnect (the
        // network's first container's resolv.conf copy aside: connected here first).
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        _f.Run("bridge", "first");
        // The agent creates the namespace PREFIX0: that is the name the fixture must delete.
        var prefix = TestNamespaces.UniqueName("durable") + "x";
        _f.Track(prefix + "0");
        var (renames, fsyncs, pwrites, lines) = TracedWithWrites("connect", _f.HostName, _f.StateDir, "bridge", "1", prefix);
        var ours = renames.Where(x => x.To.StartsWith(_f.StateDir, StringComparison.Ordinal)).ToList();
        Assert.True(ours.Count >= 2, $"{ours.Count} renames into the state directory:\n{string.Join('\n', lines.Take(50))}");
        Assert.All(ours, x => Assert.Contains(".tmp-", x.From));
        Assert.Contains(ours, x => x.To.Contains("/endpoints/", StringComparison.Ordinal)); // the new record (Creating)
        Assert.Contains(ours, x => x.To.Contains("/leases/", StringComparison.Ordinal));
        Assert.True(fsyncs.Count == 0, "Connect fsync'ed: " + string.Join("; ", fsyncs.Select(x => x.Path)));
        var ep = Assert.Single(_f.Manager.GetEndpoints("bridge"), e => e.Namespace == prefix + "0");
        var record = Path.Combine(_f.StateDir, "networks", "bridge", "endpoints", ep.Id + ".json");
        Assert.Contains(record, pwrites); // made Ready in place
        Assert.Equal(RecordState.Ready, ep.State);
        Assert.Equal(ep.Id, _f.Manager.State.Leases("bridge")[ep.IPv4Address!]);

        (renames, fsyncs, pwrites, lines) = TracedWithWrites("disconnect", _f.HostName, _f.StateDir, "bridge", ep.Container);
        Assert.Contains(record, pwrites); // the Removing mark, in place
        Assert.DoesNotContain(renames, x => x.To == record);
        Assert.True(fsyncs.Count == 0, "Disconnect fsync'ed: " + string.Join("; ", fsyncs.Select(x => x.Path)));
        Assert.DoesNotContain(_f.Manager.GetEndpoints("bridge"), e => e.Id == ep.Id);
        Assert.False(_f.Manager.State.IsLeased("bridge", ep.IPv4Address!));
    }

    [Fact]
    public void NetworkRecords_ServedFromMemoryUnderTheLock_AreCopies_AndReadAgainOnceChangedByHandOrByAnotherManager()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "one", Subnet = Net("172.20.0.0/24") });
        var s = _f.Manager.State;
        var record = Path.Combine(_f.StateDir, "networks", "one", "network.json");
        var json = File.ReadAllText(record);
        using (s.Lock())
        {
            // A caller that changes what it got changes nothing of what the next caller gets.
            var n = s.ReadNetwork("one")!;
            n.AllowedNetworks.Add("elsewhere");
            n.State = RecordState.Removing;
            var again = s.ReadNetwork("one")!;
            Assert.Empty(again.AllowedNetworks);
            Assert.Equal(RecordState.Ready, again.State);
            Assert.Equal(RecordState.Ready, Assert.Single(s.ListNetworks()).State);

            // Written over in place by hand, and renamed over by hand (a new file), while the lock is held: read again.
            File.WriteAllText(record, json.Replace("\"state\": \"Ready\"", "\"state\": \"Creating\""));
            Assert.Equal(RecordState.Creating, s.ReadNetwork("one")!.State);
            Assert.Equal(RecordState.Creating, Assert.Single(s.ListNetworks()).State);
            File.WriteAllText(record + ".new", json.Replace("\"state\": \"Ready\"", "\"state\": \"Removing\""));
            File.Move(record + ".new", record, overwrite: true);
            Assert.Equal(RecordState.Removing, s.ReadNetwork("one")!.State);
            File.WriteAllText(record, json);
            Assert.Equal(RecordState.Ready, s.ReadNetwork("one")!.State);
            // Deleted by hand: no record (and no network listed) any more.
            File.Move(record, record + ".away");
            Assert.Null(s.ReadNetwork("one"));
            Assert.Empty(s.ListNetworks());
            File.Move(record + ".away", record);
            // A network's directory made and removed by hand: listed, then not.
            var made = Path.Combine(_f.StateDir, "networks", "made");
            Directory.CreateDirectory(made);
            File.WriteAllText(Path.Combine(made, "network.json"), json.Replace("\"name\": \"one\"", "\"name\": \"made\""));
            Assert.Equal(["made", "one"], s.ListNetworks().Select(n => n.Name));
            Directory.Delete(made, recursive: true);
            Assert.Equal("one", Assert.Single(s.ListNetworks()).Name);
        }

        // Another manager of the same state (as another process would) adds a network and replaces this one with another
        // subnet: the next hold here lists both, with the new subnet.
        var other = new ContainerNetworkManager(_f.Host, _f.StateDir);
        other.CreateNetwork(new NetworkSpec { Name = "two", Subnet = Net("172.21.0.0/24") });
        other.RemoveNetwork("one");
        other.CreateNetwork(new NetworkSpec { Name = "one", Subnet = Net("172.22.0.0/24") });
        using (s.Lock())
        {
            Assert.Equal(["one", "two"], s.ListNetworks().Select(n => n.Name));
            Assert.Equal(Net("172.22.0.0/24"), s.ReadNetwork("one")!.Subnet);
        }
        Assert.Equal("172.22.0.2", _f.Run("one", "a").IPv4Address!.ToString());
    }

    [Fact]
    public void StagedWrites_AreSeenByTheHolderOnly_CommittedTogether_AndDroppedWhenTheHoldEndsWithoutACommit()
    {
        // Group commit (a Connect's lease and its Ready record): a staged lease is leased for the holder (IPAM does not
        // hand it out twice in one hold) but not on disk; the commit puts it in place; a hold that ends without one
        // (the operation failed) writes nothing and leaves no temporary file; releasing a staged lease unstages it.
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var s = _f.Manager.State;
        var leases = Path.Combine(_f.StateDir, "networks", "bridge", "leases");
        System.Net.IPAddress a = System.Net.IPAddress.Parse("172.17.0.50"), b = System.Net.IPAddress.Parse("172.17.0.51");
        using (s.Lock())
        {
            s.WriteLease("bridge", a, "abc", staged: true);
            Assert.True(s.IsLeased("bridge", a));
            Assert.Equal("abc", s.Leases("bridge")[a]);
            Assert.False(File.Exists(Path.Combine(leases, "172.17.0.50")));
        }
        Assert.False(s.IsLeased("bridge", a));
        Assert.Empty(Directory.GetFiles(leases));

        using (s.Lock())
        {
            s.WriteLease("bridge", a, "abc", staged: true);
            s.WriteLease("bridge", b, "def", staged: true);
            Assert.True(s.ReleaseLease("bridge", b, "def"));
            Assert.False(s.IsLeased("bridge", b));
            s.CommitStaged();
            Assert.Equal("abc", File.ReadAllText(Path.Combine(leases, "172.17.0.50")));
        }
        Assert.Equal(["172.17.0.50"], Directory.GetFiles(leases).Select(Path.GetFileName));

        // A Connect: its lease is on disk once it returns, beside the record marked Ready.
        var e = _f.Manager.Connect(new EndpointSpec { Network = "bridge", Namespace = _f.Container("grouped"), CreateNamespace = true });
        Assert.Equal(e.Id, File.ReadAllText(Path.Combine(leases, e.IPv4Address!.ToString())));
        Assert.Contains("\"Ready\"", File.ReadAllText(Path.Combine(_f.StateDir, "networks", "bridge", "endpoints", e.Id + ".json")));
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(_f.StateDir, "networks", "bridge"), "*", SearchOption.AllDirectories), f => f.Contains(".tmp-"));
    }
}
