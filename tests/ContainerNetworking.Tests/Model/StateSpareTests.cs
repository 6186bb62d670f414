using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// Spare inodes (StateStore.SpareDirectory): what a Disconnect removes (the endpoint record, the lease, the
/// container's /etc/netns link) is kept in ROOT/.spare and is what the next Connect's files are made of, so connecting
/// and disconnecting make and free no inode; a file with another hard link is never kept (its content is someone's).
/// </summary>
public sealed class StateSpareTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    private string SpareDir => Path.Combine(_f.StateDir, StateStore.SpareDirName);

    /// <summary>The inode of <paramref name="path"/> itself (a link not followed), as <c>stat -c %i</c> prints it.</summary>
    private static ulong Inode(string path)
    {
        var r = Cli.Run("stat", "-c", "%i", path);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return ulong.Parse(r.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Disconnect_KeepsTheInodes_AndTheNextConnect_IsMadeOfThem()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        var keep = _f.Run("bridge", "keep"); // the network keeps a container: its files stay where they are
        var a = _f.Run("bridge", "a");
        var record = Path.Combine(_f.StateDir, "networks", "bridge", "endpoints", a.Id + ".json");
        var lease = Path.Combine(_f.StateDir, "networks", "bridge", "leases", a.IPv4Address!.ToString());
        var link = NameResolution.DirectoryOf(a.Namespace!);
        var used = new HashSet<ulong> { Inode(record), Inode(lease), Inode(link) };

        _f.Manager.Disconnect(a.Id);
        Assert.False(File.Exists(record));
        Assert.False(File.Exists(lease));
        Assert.Null(new FileInfo(link).LinkTarget);
        // Kept as spares, inode for inode. (The note of the address's stale flows, written before the lease goes, is
        // made of a spare when there is one: in this new store there was none yet.)
        var spares = Directory.EnumerateFileSystemEntries(SpareDir).Select(Inode).ToHashSet();
        Assert.True(File.Exists(Path.Combine(_f.StateDir, "networks", "bridge", "conntrack-pending", a.IPv4Address.ToString())));
        Assert.Subset(spares, used);

        var b = _f.Run("bridge", "b");
        var bRecord = Path.Combine(_f.StateDir, "networks", "bridge", "endpoints", b.Id + ".json");
        var bLease = Path.Combine(_f.StateDir, "networks", "bridge", "leases", b.IPv4Address!.ToString());
        var bLink = NameResolution.DirectoryOf(b.Namespace!);
        Assert.Contains(Inode(bRecord), used);
        Assert.Contains(Inode(bLease), used);
        Assert.Contains(Inode(bLink), used);
        // And they hold what they must: the record and lease read back, the link leads to the network's name files.
        Assert.Equal(b.Id, _f.Manager.State.ReadEndpoint("bridge", b.Id)!.Id);
        Assert.Equal(RecordState.Ready, _f.Manager.State.ReadEndpoint("bridge", b.Id)!.State);
        Assert.Equal(b.Id, File.ReadAllText(bLease));
        Assert.Equal(b.Id, _f.Manager.State.Leases("bridge")[b.IPv4Address]);
        Assert.Contains(b.IPv4Address + "\t" + b.Container, File.ReadAllText(Path.Combine(bLink, "hosts")));
        Assert.Contains(keep.IPv4Address + "\t" + keep.Container, File.ReadAllText(Path.Combine(bLink, "hosts")));
        Assert.Equal(keep.Id, _f.Manager.State.Leases("bridge")[keep.IPv4Address!]);
    }

    [Fact]
    public void AFileWithAnotherHardLink_IsRemoved_NotKept()
    {
        Directory.CreateDirectory(_f.StateDir);
        var store = _f.Manager.State;
        var theirs = Path.Combine(_f.StateDir, "theirs.txt");
        File.WriteAllText(theirs, "someone's content");
        var ours = Path.Combine(_f.StateDir, "networks", "n", "etc", "hosts");
        Directory.CreateDirectory(Path.GetDirectoryName(ours)!);
        Assert.Equal(0, Cli.Run("ln", theirs, ours).ExitCode);
        using (store.Lock())
        {
            store.RemoveFile(ours);
            // Made now, it would be made of a spare if one were kept: it must not be the other name's inode.
            store.WriteFileAtomically(Path.Combine(_f.StateDir, "networks", "n", "etc", "other"), "new content");
        }
        Assert.False(File.Exists(ours));
        Assert.Equal("someone's content", File.ReadAllText(theirs));
        Assert.False(Directory.Exists(SpareDir) && Directory.EnumerateFileSystemEntries(SpareDir).Select(Inode).Contains(Inode(theirs)));
    }

    [Fact]
    public void SparesRemovedByHand_AreMadeAnew()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        _f.Run("bridge", "keep");
        var a = _f.Run("bridge", "a");
        _f.Manager.Disconnect(a.Id);
        Assert.NotEmpty(Directory.EnumerateFileSystemEntries(SpareDir));
        foreach (var s in Directory.EnumerateFileSystemEntries(SpareDir)) File.Delete(s);

        var b = _f.Run("bridge", "b");
        Assert.Equal(RecordState.Ready, _f.Manager.State.ReadEndpoint("bridge", b.Id)!.State);
        Assert.Equal(b.Id, File.ReadAllText(Path.Combine(_f.StateDir, "networks", "bridge", "leases", b.IPv4Address!.ToString())));
        Assert.NotNull(new FileInfo(NameResolution.DirectoryOf(b.Namespace!)).LinkTarget);
        Assert.True(NetNamespace.Exists(b.Namespace!));
    }
}
