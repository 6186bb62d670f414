using ContainerNetworking.Interop;
using ContainerNetworking.Netlink;
using Microsoft.Win32.SafeHandles;

namespace ContainerNetworking.Namespaces;

// Creating a named namespace, at once or on a worker thread while the caller goes on; or a namespace made before it
// has a name, named when it is taken.
public sealed partial class NetNamespace
{
    /// <summary>
    /// Creates a named namespace exactly as <c>ip netns add NAME</c> does: /run/netns made a shared mount point,
    /// an empty file /run/netns/NAME, a new namespace bind-mounted onto it. The namespace's loopback is left down,
    /// as iproute2 leaves it. Nothing is left behind on failure.
    /// </summary>
    public static NetNamespace Create(string name) => BeginCreate(name).Wait();

    /// <summary>
    /// Starts <see cref="Create"/> and returns at once: the kernel makes the namespace on a worker thread
    /// (unshare(CLONE_NEWNET) is the costliest step of a container's set-up) while the caller does other work, and
    /// <see cref="PendingNetNamespace.Wait()"/> names it (the file under /run/netns and the bind mount) and returns it,
    /// or throws what Create would. The caller must call Wait, or <see cref="PendingNetNamespace.Discard"/>. Until
    /// Wait, nothing of it is visible: the namespace is held by descriptors alone and goes with them, also when the
    /// process dies. The name is checked here.
    /// </summary>
    public static PendingNetNamespace BeginCreate(string name)
    {
        ValidateName(name);
        return new PendingNetNamespace(name, StartUnnamed());
    }

    /// <summary>
    /// <see cref="BeginCreate"/> before the name is known, or before the caller may make anything visible (a Connect
    /// starts its namespace before it plans and writes its intent record): <see cref="PendingNetNamespace.Wait(string)"/>
    /// gives it its name. Discarded (<see cref="PendingNetNamespace.Discard"/>), it leaves nothing behind.
    /// </summary>
    public static PendingNetNamespace BeginCreateUnnamed() => new(null, StartUnnamed());

    /// <summary>unshare(CLONE_NEWNET) on a worker, which keeps a handle on the new namespace and opens its rtnetlink socket while inside.</summary>
    private static NamespaceThread.Pending<(SafeFileHandle Handle, NetlinkSocket Socket)> StartUnnamed() =>
        NamespaceThread.StartInNew(static () => { }, static () =>
        {
            var h = OpenFile("/proc/thread-self/ns/net");
            try { return (Handle: h, Socket: NetlinkSocket.Open(LibC.NETLINK_ROUTE)); }
            catch
            {
                h.Dispose();
                throw;
            }
        });

    /// <summary>
    /// Gives the namespace of <paramref name="handle"/> the name <paramref name="name"/> as <c>ip netns add</c> does: the
    /// empty file /run/netns/NAME made exclusively, the namespace bind-mounted onto it. Nothing is left on failure.
    /// </summary>
    private static string Mount(SafeFileHandle handle, string name)
    {
        EnsureRunDirectory();
        var path = System.IO.Path.Combine(RunDirectory, name);
        var fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            var e = Errno.Last;
            if (e == LibC.EEXIST)
                throw new NetNamespaceExistsException(name, $"Network namespace '{name}' already exists ({path}). Use Get-NetNamespace -Name {name} to open it, or choose another name.");
            throw new LinuxException(e, $"create {path}");
        }
        LibC.close(fd);
        try
        {
            FaultInjection.Point("MountNamespace"); // the empty file is there, the namespace not yet mounted onto it
            var source = "/proc/self/fd/" + handle.DangerousGetHandle();
            Errno.ThrowIfError(LibC.mount(source, path, "none", LibC.MS_BIND, 0), $"mount --bind {source} {path}");
            return path;
        }
        catch
        {
            LibC.unlink(path);
            throw;
        }
    }

    /// <summary>A namespace being created (<see cref="BeginCreate"/>, <see cref="BeginCreateUnnamed"/>).</summary>
    public sealed class PendingNetNamespace
    {
        private readonly NamespaceThread.Pending<(SafeFileHandle Handle, NetlinkSocket Socket)> _job;
        private NetNamespace? _made;
        private Exception? _failed;
        private bool _discarded;

        internal PendingNetNamespace(string? name, NamespaceThread.Pending<(SafeFileHandle Handle, NetlinkSocket Socket)> job)
        {
            Name = name;
            _job = job;
        }

        /// <summary>The name it gets, given to <see cref="BeginCreate"/>; null until <see cref="Wait(string)"/> for one begun unnamed.</summary>
        public string? Name { get; private set; }

        /// <summary>True once the kernel's part is over (made or failed): <see cref="Wait(string)"/> will not wait for it.</summary>
        public bool IsMade => _job.IsCompleted;

        /// <summary>Waits until the namespace is made, names it, and returns it (the same object every time), or throws why it could not be.</summary>
        public NetNamespace Wait() => Wait(Name ?? throw new InvalidOperationException("This namespace was begun without a name: give it one, Wait(name)."));

        /// <summary>
        /// Waits until the namespace is made, names it <paramref name="name"/> (/run/netns/NAME, as <c>ip netns add</c>)
        /// and returns it, the same object every time; or throws why it could not be, the same error every time, and
        /// nothing of it is left (a namespace of that name made by someone else is theirs, untouched).
        /// </summary>
        public NetNamespace Wait(string name)
        {
            lock (this)
            {
                if (_made is not null)
                    return _made.Name == name ? _made : throw new InvalidOperationException($"This namespace is named '{_made.Name}' already.");
                if (_failed is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_failed);
                ObjectDisposedException.ThrowIf(_discarded, this);
                ValidateName(name);
                SafeFileHandle? handle = null;
                NetlinkSocket? socket = null;
                string? path = null;
                try
                {
                    (handle, socket) = _job.Wait();
                    path = Mount(handle, name);
                    _made = new NetNamespace(handle, name, path, isCurrent: false, routeSocket: socket);
                    Name = name;
                    return _made;
                }
                catch (Exception e)
                {
                    if (path is not null)
                    {
                        // Named, but it could not be opened as a NetNamespace: the name goes too, as it came.
                        LibC.umount2(path, LibC.MNT_DETACH);
                        LibC.unlink(path);
                    }
                    socket?.Dispose();
                    handle?.Dispose();
                    _failed = e;
                    throw;
                }
            }
        }

        /// <summary>For tests: the namespace's inode once the kernel has made it (waiting for that), or null when it was not made or is let go.</summary>
        internal ulong? WaitForId()
        {
            lock (this)
            {
                if (_made is not null) return _made.Id;
                if (_failed is not null || _discarded) return null;
                try { return ReadInode(_job.Wait().Handle, "/proc/thread-self/ns/net"); }
                catch (Exception e) when (NeverMade(e)) { return null; }
            }
        }

        /// <summary>The errors of a creation that did not make the namespace (nothing of it is left then).</summary>
        private static bool NeverMade(Exception e) => e is ContainerNetworkingException or LinuxException or IOException or UnauthorizedAccessException;

        /// <summary>
        /// Lets go of a namespace that was not taken (<see cref="Wait(string)"/> never called, or failed): waits until the
        /// kernel's part is over and closes its handles, and the kernel removes it. One that was taken is the taker's.
        /// </summary>
        public void Discard()
        {
            lock (this)
            {
                if (_made is not null || _failed is not null || _discarded) return;
                _discarded = true;
                try
                {
                    var (handle, socket) = _job.Wait();
                    socket.Dispose();
                    handle.Dispose();
                }
                catch (Exception e) when (NeverMade(e)) { /* never made */ }
            }
        }
    }
}
