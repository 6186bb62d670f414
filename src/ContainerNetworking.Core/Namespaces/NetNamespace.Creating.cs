using ContainerNetworking.Interop;
using ContainerNetworking.Netlink;
using Microsoft.Win32.SafeHandles;

namespace ContainerNetworking.Namespaces;

// Creating a named namespace, at once or on a worker thread while the caller goes on.
public sealed partial class NetNamespace
{
    /// <summary>
    /// Creates a named namespace exactly as <c>ip netns add NAME</c> does: /run/netns made a shared mount point,
    /// an empty file /run/netns/NAME, a new namespace bind-mounted onto it. The namespace's loopback is left down,
    /// as iproute2 leaves it. Nothing is left behind on failure.
    /// </summary>
    public static NetNamespace Create(string name) => BeginCreate(name).Wait();

    /// <summary>
    /// Starts <see cref="Create"/> on a worker thread and returns at once, so that the caller does other work while
    /// the kernel makes the namespace (unshare(CLONE_NEWNET) is the costliest step of a container's set-up); the
    /// caller must take the namespace from <see cref="PendingNetNamespace.Wait"/> (which throws what Create would) or,
    /// on failure elsewhere, remove it through <see cref="PendingNetNamespace.WaitOrNull"/>. The name is checked here.
    /// </summary>
    public static PendingNetNamespace BeginCreate(string name)
    {
        ValidateName(name);
        EnsureRunDirectory();
        var path = System.IO.Path.Combine(RunDirectory, name);
        var job = NamespaceThread.StartInNew(() =>
        {
            var fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_CLOEXEC, 0);
            if (fd < 0)
            {
                var e = Errno.Last;
                if (e == LibC.EEXIST)
                    throw new NetNamespaceExistsException(name, $"Network namespace '{name}' already exists ({path}). Use Get-NetNamespace -Name {name} to open it, or choose another name.");
                throw new LinuxException(e, $"create {path}");
            }
            LibC.close(fd);
            FaultInjection.Point("MountNamespace"); // the empty file is there, the namespace not yet mounted onto it
        }, () =>
        {
            SafeFileHandle? h = null;
            try
            {
                Errno.ThrowIfError(LibC.mount("/proc/thread-self/ns/net", path, "none", LibC.MS_BIND, 0), $"mount --bind /proc/thread-self/ns/net {path}");
                h = OpenFile("/proc/thread-self/ns/net");
                // Open the namespace's rtnetlink socket now, while we are inside: it saves a thread later.
                return (Handle: h, Socket: NetlinkSocket.Open(LibC.NETLINK_ROUTE));
            }
            catch
            {
                h?.Dispose();
                LibC.umount2(path, LibC.MNT_DETACH);
                LibC.unlink(path);
                throw;
            }
        });
        return new PendingNetNamespace(name, path, job);
    }

    /// <summary>A namespace being created (<see cref="BeginCreate"/>).</summary>
    public sealed class PendingNetNamespace
    {
        private readonly NamespaceThread.Pending<(SafeFileHandle Handle, NetlinkSocket Socket)> _job;
        private readonly string _path;
        private NetNamespace? _made;

        internal PendingNetNamespace(string name, string path, NamespaceThread.Pending<(SafeFileHandle Handle, NetlinkSocket Socket)> job)
        {
            Name = name;
            _path = path;
            _job = job;
        }

        /// <summary>The namespace's name.</summary>
        public string Name { get; }

        /// <summary>Waits until the namespace is made and returns it (the same object every time), or throws why it could not be.</summary>
        public NetNamespace Wait()
        {
            lock (this)
            {
                if (_made is not null) return _made;
                var (handle, socket) = _job.Wait();
                return _made = new NetNamespace(handle, Name, _path, isCurrent: false, routeSocket: socket);
            }
        }

        /// <summary>Waits until the creation ends: the namespace, or null when it could not be made (nothing of it is left then).</summary>
        public NetNamespace? WaitOrNull()
        {
            try { return Wait(); }
            catch (Exception e) when (e is ContainerNetworkingException or LinuxException or IOException or UnauthorizedAccessException) { return null; }
        }
    }
}
