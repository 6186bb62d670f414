using ContainerNetworking.Interop;
using ContainerNetworking.Model;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

// xUnit1031: these tests block on purpose: flock holders and waiters are threads, and what is asserted is whether
// a wait ends within a bound (a waiter blocked in flock cannot be awaited).
#pragma warning disable xUnit1031

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// The state directory of a host namespace goes once its last network and endpoint are gone (networks/, .lock, the
/// directory), under the lock, and a process waiting for that lock then locks the new lock file, not the deleted one.
/// </summary>
public sealed class StateCleanupTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    private static NetworkSpec Bridge(string name, string bridge, string subnet) => new() { Name = name, BridgeName = bridge, Subnet = Net(subnet) };

    [Fact]
    public void RemovingTheLastNetwork_RemovesTheStateDirectory_AndTheNextNetworkCreatesItAgain()
    {
        _f.Manager.CreateNetwork(Bridge("bridge", "docker0", "172.17.0.0/16"));
        _f.Manager.CreateNetwork(Bridge("other", "br-other", "172.18.0.0/16"));
        var c = _f.Run("bridge", "c");
        Assert.True(File.Exists(Path.Combine(_f.StateDir, ".lock")));

        _f.Manager.Disconnect(c.Id);
        _f.Manager.RemoveNetwork("other");
        Assert.True(Directory.Exists(Path.Combine(_f.StateDir, "networks", "bridge")), "a network is left: its state stays");
        _f.Manager.RemoveNetwork("bridge");
        Assert.False(Directory.Exists(_f.StateDir), "the last network is gone: so is the state directory, lock file and all");

        var again = _f.Manager.CreateNetwork(Bridge("bridge", "docker0", "172.17.0.0/16"));
        Assert.Equal("bridge", _f.Manager.GetNetwork("bridge").Name);
        var e = _f.Run("bridge", "c2");
        Assert.Equal(again.Gateway, e.Gateway);
        Assert.Single(_f.Manager.GetEndpoints("bridge"));
    }

    [Fact]
    public void AnEndpointOnAPredefinedNetwork_KeepsTheDirectory_UntilItIsDisconnected()
    {
        var n = _f.Container("hostmode");
        var e = _f.Manager.Connect(new EndpointSpec { Network = ContainerNetworkManager.NoneNetwork, Namespace = n, CreateNamespace = true });
        Assert.True(Directory.Exists(Path.Combine(_f.StateDir, "networks", "none", "endpoints")));
        _f.Manager.Disconnect(e.Id);
        Assert.False(Directory.Exists(_f.StateDir));
    }

    [Fact]
    public void FilesThatAreNotTheStores_StayWithTheirDirectory()
    {
        var keep = Path.Combine(_f.StateDir, "keep.txt");
        File.WriteAllText(keep, "mine");
        _f.Manager.CreateNetwork(Bridge("bridge", "docker0", "172.17.0.0/16"));
        _f.Manager.RemoveNetwork("bridge");
        Assert.Equal(["keep.txt"], Directory.EnumerateFileSystemEntries(_f.StateDir).Select(Path.GetFileName));
    }

    [Fact]
    public void AWaiterOnALockFileItsHolderDeleted_LocksTheNewFile_AndExcludesTheNextOne()
    {
        var dir = Path.Combine(_f.StateDir, "lockdir");
        var path = Path.Combine(dir, ".lock");
        Directory.CreateDirectory(dir);
        var first = FileLock.Acquire(path);
        var waiter = Task.Run(() => FileLock.Acquire(path));
        Thread.Sleep(300); // the waiter has opened the old file and blocks in flock
        Assert.False(waiter.IsCompleted);
        File.Delete(path);
        Directory.Delete(dir);
        first.Dispose();

        Assert.True(waiter.Wait(TimeSpan.FromSeconds(10)));
        using (var second = waiter.Result)
        {
            Assert.True(File.Exists(path), "the waiter locked the file the path names now, created with its directory");
            var third = Task.Run(() => FileLock.Acquire(path));
            Assert.False(third.Wait(TimeSpan.FromMilliseconds(300)), "two holders at once");
            second.Dispose();
            Assert.True(third.Wait(TimeSpan.FromSeconds(10)));
            third.Result.Dispose();
        }
    }

    [Fact]
    public async Task TwoManagers_OneRemovingItsLastNetwork_WhileTheOtherCreates_BothSucceed()
    {
        var other = new ContainerNetworkManager(_f.Host, _f.StateDir);
        var remover = Task.Run(() =>
        {
            for (var i = 0; i < 15; i++)
            {
                _f.Manager.CreateNetwork(Bridge("a", "br-a", "172.20.0.0/16"));
                _f.Manager.RemoveNetwork("a");
            }
        });
        var creator = Task.Run(() =>
        {
            for (var i = 0; i < 15; i++)
            {
                other.CreateNetwork(Bridge("b", "br-b", "172.21.0.0/16"));
                // What one wrote, a third reader sees: nobody removed it under the creator's feet.
                Assert.Equal("b", new ContainerNetworkManager(_f.Host, _f.StateDir).GetNetwork("b").Name);
                other.RemoveNetwork("b");
            }
        });
        await Task.WhenAll(remover, creator);
        Assert.False(Directory.Exists(_f.StateDir));
        Assert.Empty(Cli.IpJson(_f.HostName, "link", "show", "type", "bridge").EnumerateArray());
    }
}
