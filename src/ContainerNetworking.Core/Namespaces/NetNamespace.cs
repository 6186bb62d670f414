using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using ContainerNetworking.Interop;
using ContainerNetworking.Netlink;
using ContainerNetworking.Values;
using Microsoft.Win32.SafeHandles;

namespace ContainerNetworking.Namespaces;

/// <summary>
/// A network namespace, open: a file handle on it and, created on first use, one netlink connection per protocol
/// bound to it. Named namespaces live where iproute2 keeps them (<c>/run/netns/NAME</c>), so <c>ip netns</c>
/// and this class see each other's namespaces.
/// </summary>
public sealed partial class NetNamespace : IDisposable, global::ContainerNetworking.Netfilter.INetfilterNamespace
{
    /// <summary>Where named namespaces are bind-mounted, as iproute2 does (NETNS_RUN_DIR).</summary>
    public const string RunDirectory = "/run/netns";

    private readonly SafeFileHandle _handle;
    private readonly object _lock = new();
    private NetlinkConnection? _route;
    private NetlinkConnection? _netfilter;
    private global::ContainerNetworking.Route.RouteClient? _rtnl;
    private global::ContainerNetworking.Netfilter.NftClient? _nft;
    private NetlinkConnection? _sockDiag;
    private NamespaceHostSettings? _hostSettings;
    private bool _disposed;

    private NetNamespace(SafeFileHandle handle, string? name, string path, bool isCurrent, NetlinkSocket? routeSocket = null)
    {
        _handle = handle;
        Name = name;
        Path = path;
        IsCurrent = isCurrent;
        Id = ReadInode(handle, path);
        if (routeSocket is not null) _route = NewRouteConnection(routeSocket);
    }

    /// <summary>The name under /run/netns, or null for a namespace opened by process id or by path elsewhere.</summary>
    public string? Name { get; }

    /// <summary>
    /// How records read from this namespace name it, so that piping them on acts here again: the name under
    /// /run/netns, else the path it was opened from; null only for the process's own namespace.
    /// </summary>
    public string? Label => Name ?? (IsCurrent ? null : Path);

    /// <summary>The path the namespace was opened from, e.g. /run/netns/red or /proc/1234/ns/net.</summary>
    public string Path { get; }

    /// <summary>The namespace's inode number (the number in <c>net:[4026532…]</c>): equal ids, same namespace.</summary>
    public ulong Id { get; }

    /// <summary>True when this is the namespace the process itself runs in: no thread switch is needed.</summary>
    public bool IsCurrent { get; }

    public bool IsDisposed => _disposed;

    /// <summary>
    /// True while <see cref="Path"/> still names this namespace (the same nsfs inode and device): false once the name
    /// was deleted (<c>ip netns delete</c>), made a new namespace (<c>ip netns add</c> again), or the process of a
    /// /proc/PID/ns/net path ended. One statx.
    /// </summary>
    public unsafe bool IsStillAt()
    {
        if (_disposed) return false;
        if (IsCurrent && Name is null) return true;
        var (major, minor) = NsfsDevice();
        Span<byte> path = stackalloc byte[Encoding.UTF8.GetMaxByteCount(Path.Length) + 1];
        var n = Encoding.UTF8.GetBytes(Path, path);
        path[n] = 0;
        LibC.statx_t st;
        fixed (byte* p = path)
            if (LibC.statx(LibC.AT_FDCWD, p, 0, LibC.STATX_INO, &st) != 0) return false;
        return st.stx_ino == Id && st.stx_dev_major == major && st.stx_dev_minor == minor;
    }

    /// <summary>
    /// For a stand-in made by <see cref="Missing"/>: why there is no namespace. Null for a namespace that was opened.
    /// </summary>
    public NetNamespaceNotFoundException? MissingError { get; }

    /// <summary>
    /// A stand-in for a namespace that does not exist, for a caller that must hold a NetNamespace before it can report
    /// the failure (a PowerShell parameter is bound before the cmdlet runs): it has the name and path but no handle, is
    /// disposed from the start, and every use throws the <see cref="NetNamespaceNotFoundException"/> again.
    /// </summary>
    public static NetNamespace Missing(NetNamespaceNotFoundException error) => new(error);

    private NetNamespace(NetNamespaceNotFoundException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        _handle = new SafeFileHandle(-1, ownsHandle: false);
        _disposed = true;
        MissingError = error;
        var n = error.NamespaceName;
        Name = n.StartsWith('/') ? null : n;
        Path = n.StartsWith('/') ? n : System.IO.Path.Combine(RunDirectory, n);
    }

    /// <summary>ObjectDisposedException, or for a <see cref="Missing"/> stand-in its NetNamespaceNotFoundException.</summary>
    private void ThrowIfUnusable()
    {
        if (!_disposed) return;
        if (MissingError is { } m) throw new NetNamespaceNotFoundException(m.NamespaceName, m.Message);
        throw new ObjectDisposedException(ToString());
    }

    /// <summary>The namespace file handle (for setns, or IFLA_NET_NS_FD when moving a link here).</summary>
    public SafeFileHandle Handle
    {
        get
        {
            ThrowIfUnusable();
            return _handle;
        }
    }

    /// <summary>The rtnetlink connection of this namespace, opened on first use and reused.</summary>
    public NetlinkConnection RouteConnection
    {
        get
        {
            lock (_lock)
            {
                ThrowIfUnusable();
                return _route ??= NewRouteConnection(OpenSocket(LibC.NETLINK_ROUTE));
            }
        }
    }

    /// <summary>The nfnetlink connection of this namespace, opened on first use and reused.</summary>
    public NetlinkConnection NetfilterConnection
    {
        get
        {
            lock (_lock)
            {
                ThrowIfUnusable();
                return _netfilter ??= new NetlinkConnection(OpenSocket(LibC.NETLINK_NETFILTER), global::ContainerNetworking.Netfilter.NetfilterNames.Describe);
            }
        }
    }

    /// <summary>
    /// The sockets of this namespace (sock_diag, as <c>ss</c> reads them): which local ports are bound. Its connection
    /// is opened on first use and reused.
    /// </summary>
    public global::ContainerNetworking.SockDiag.SocketDiagClient SockDiag
    {
        get
        {
            lock (_lock)
            {
                ThrowIfUnusable();
                _sockDiag ??= new NetlinkConnection(OpenSocket(global::ContainerNetworking.SockDiag.SocketDiagClient.NETLINK_SOCK_DIAG),
                    global::ContainerNetworking.SockDiag.SocketDiagClient.Describe);
                return new global::ContainerNetworking.SockDiag.SocketDiagClient(_sockDiag);
            }
        }
    }

    /// <summary>Links, addresses, routes, neighbours and the bridge FDB of this namespace (rtnetlink).</summary>
    public global::ContainerNetworking.Route.RouteClient Rtnl
    {
        get
        {
            var c = RouteConnection;
            lock (_lock) return _rtnl ??= new global::ContainerNetworking.Route.RouteClient(c, Label) { OpenConnectionIn = OpenRouteConnectionIn };
        }
    }

    /// <summary>The nf_tables ruleset of this namespace (nfnetlink).</summary>
    public global::ContainerNetworking.Netfilter.NftClient Nft
    {
        get
        {
            var c = NetfilterConnection;
            lock (_lock) return _nft ??= new global::ContainerNetworking.Netfilter.NftClient(c);
        }
    }

    /// <summary>What the firewall asks of this namespace besides nf_tables: loopback routing (route_localnet), route lookups.</summary>
    public global::ContainerNetworking.Netfilter.IHostSettings HostSettings
    {
        get
        {
            lock (_lock) return _hostSettings ??= new NamespaceHostSettings(this);
        }
    }

    private static NetlinkConnection NewRouteConnection(NetlinkSocket s) => new(s, global::ContainerNetworking.Route.RouteNames.Describe);

    /// <summary>A new rtnetlink connection in the namespace of <paramref name="handle"/> (its socket opened on a thread that entered it).</summary>
    private static NetlinkConnection OpenRouteConnectionIn(SafeFileHandle handle) =>
        NewRouteConnection(NamespaceThread.Run(handle, () => NetlinkSocket.Open(LibC.NETLINK_ROUTE)));

    /// <summary>Opens a netlink socket that belongs to this namespace (on a dedicated thread unless it is the current one).</summary>
    public NetlinkSocket OpenSocket(int protocol) =>
        IsCurrent ? NetlinkSocket.Open(protocol) : NamespaceThread.Run(Handle, () => NetlinkSocket.Open(protocol));

    /// <summary>Runs <paramref name="work"/> inside this namespace on a dedicated thread that then ends.</summary>
    public T Run<T>(Func<T> work) => IsCurrent ? work() : NamespaceThread.Run(Handle, work);

    // ---- opening -------------------------------------------------------------------------------------------

    /// <summary>The namespace this process runs in (<c>/proc/self/ns/net</c>).</summary>
    public static NetNamespace OpenCurrent()
    {
        var h = OpenFile("/proc/self/ns/net");
        return new NetNamespace(h, null, "/proc/self/ns/net", isCurrent: true);
    }

    /// <summary>
    /// Opens a namespace by name (<c>/run/netns/NAME</c>) or by absolute path (a bind mount or <c>/proc/PID/ns/net</c>).
    /// Like <c>ip netns exec NAME …</c> finding NAME.
    /// </summary>
    public static NetNamespace Open(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrPath);
        string path;
        string? name = null;
        if (nameOrPath.StartsWith('/')) path = nameOrPath;
        else
        {
            ValidateName(nameOrPath);
            name = nameOrPath;
            path = System.IO.Path.Combine(RunDirectory, nameOrPath);
        }
        if (!File.Exists(path))
            throw new NetNamespaceNotFoundException(nameOrPath, name is null
                ? $"Network namespace path '{path}' does not exist."
                : $"Network namespace '{name}' does not exist (no {path}). List them with Get-NetNamespace or 'ip netns list'; create it with New-NetNamespace.");
        var h = OpenFile(path);
        try
        {
            var isCurrent = ReadInode(h, path) == CurrentId();
            if (name is null && path.StartsWith(RunDirectory + "/", StringComparison.Ordinal)) name = path[(RunDirectory.Length + 1)..];
            return new NetNamespace(h, name, path, isCurrent);
        }
        catch
        {
            h.Dispose();
            throw;
        }
    }

    /// <summary>Opens the namespace of a process, like <c>ip netns exec</c> on <c>/proc/PID/ns/net</c>.</summary>
    public static NetNamespace OpenProcess(int pid)
    {
        var path = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/ns/net";
        if (!File.Exists(path)) throw new NetNamespaceNotFoundException(pid.ToString(CultureInfo.InvariantCulture), $"Process {pid} does not exist, so it has no network namespace.");
        return Open(path);
    }

    /// <summary>True when <c>/run/netns/NAME</c> exists.</summary>
    public static bool Exists(string name)
    {
        ValidateName(name);
        return File.Exists(System.IO.Path.Combine(RunDirectory, name));
    }

    /// <summary>The names under /run/netns, sorted: what <c>ip netns list</c> shows.</summary>
    public static IReadOnlyList<string> ListNames()
    {
        if (!Directory.Exists(RunDirectory)) return [];
        var names = Directory.EnumerateFiles(RunDirectory).Select(System.IO.Path.GetFileName).OfType<string>().ToList();
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    // ---- creating and deleting -----------------------------------------------------------------------------

    /// <summary>
    /// Deletes a named namespace as <c>ip netns delete NAME</c> does: unmounts and removes /run/netns/NAME. The
    /// namespace itself ends when nothing else (a process, an open handle) still holds it. A plain file of that name (a
    /// delete interrupted between the umount and the unlink leaves one, see <see cref="NotANetNamespaceException"/>) is
    /// removed too.
    /// </summary>
    public static void Delete(string name)
    {
        ValidateName(name);
        var path = System.IO.Path.Combine(RunDirectory, name);
        if (!File.Exists(path))
            throw new NetNamespaceNotFoundException(name, $"Network namespace '{name}' does not exist (no {path}); nothing to remove.");
        if (LibC.umount2(path, LibC.MNT_DETACH) < 0)
        {
            var e = Errno.Last;
            if (e != LibC.EINVAL) throw new LinuxException(e, $"umount {path}");
        }
        FaultInjection.Point("UnlinkNamespace");
        if (LibC.unlink(path) < 0) throw new LinuxException(Errno.Last, $"unlink {path}");
    }

    /// <summary>Checks a namespace name as iproute2 would accept it for a file under /run/netns.</summary>
    public static void ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name))
            throw new ArgumentException("A network namespace name cannot be empty. Give a plain name such as 'red' (Get-NetNamespace lists them).");
        if (name is "." or ".." || name.Contains('/') || name.Contains('\0'))
            throw new ArgumentException($"'{name}' is not a valid network namespace name: it may not be '.', '..' or contain '/'. Use a plain name such as 'red'.");
        if (Encoding.UTF8.GetByteCount(name) > 255)
            throw new ArgumentException($"Network namespace name '{name[..16]}…' is longer than 255 bytes. Use a shorter name.");
    }

    private static void EnsureRunDirectory()
    {
        Directory.CreateDirectory(RunDirectory);
        // As iproute2's netns_add: make the directory a shared mount point, so that the namespaces mounted under it
        // propagate to other mount namespaces. If it is not a mount point yet (EINVAL), bind it onto itself first.
        // Recursively (MS_REC, as iproute2) the first time in this process; after that the directory alone, which the
        // kernel does in constant time, where MS_REC walks every namespace mounted under it (0.6 ms with 1000 of them).
        var flags = LibC.MS_SHARED | (Volatile.Read(ref _runDirectoryShared) ? 0 : LibC.MS_REC);
        if (LibC.mount("", RunDirectory, "none", flags, 0) == 0)
        {
            Volatile.Write(ref _runDirectoryShared, true);
            return;
        }
        var e = Errno.Last;
        if (e != LibC.EINVAL) throw new LinuxException(e, $"mount --make-rshared {RunDirectory}");
        Errno.ThrowIfError(LibC.mount(RunDirectory, RunDirectory, "none", LibC.MS_BIND | LibC.MS_REC, 0), $"mount --bind {RunDirectory} {RunDirectory}");
        Errno.ThrowIfError(LibC.mount("", RunDirectory, "none", LibC.MS_SHARED | LibC.MS_REC, 0), $"mount --make-rshared {RunDirectory}");
        Volatile.Write(ref _runDirectoryShared, true);
    }

    /// <summary>Whether this process made /run/netns a shared mount, recursively, once already (see <see cref="EnsureRunDirectory"/>).</summary>
    private static bool _runDirectoryShared;

    // ---- sysctl and processes ------------------------------------------------------------------------------

    /// <summary>Reads a sysctl of this namespace (e.g. "net.ipv4.ip_forward") from /proc/sys, without spawning sysctl.</summary>
    public string ReadSysctl(string key)
    {
        var path = SysctlPath(key);
        return Run(() => File.ReadAllText(path).Trim());
    }

    /// <summary>Writes a sysctl of this namespace (e.g. "net.ipv4.ip_forward" = "1").</summary>
    public void WriteSysctl(string key, string value)
    {
        var path = SysctlPath(key);
        Run(() =>
        {
            File.WriteAllText(path, value);
            return 0;
        });
    }

    /// <summary>
    /// Writes a per-interface sysctl (<c>net.ipv6.conf.IFACE.accept_dad</c>): the path is built from the parts, so an
    /// interface name with a '.' (which sysctl's dotted form would split) is written where it belongs.
    /// </summary>
    public void WriteInterfaceSysctl(AddressFamily family, string interfaceName, string setting, string value)
    {
        InterfaceName.Validate(interfaceName, "interface name");
        if (string.IsNullOrEmpty(setting) || setting.Contains('/') || setting.Contains("..", StringComparison.Ordinal))
            throw new ArgumentException($"'{setting}' is not an interface setting, e.g. accept_dad.", nameof(setting));
        var path = $"/proc/sys/net/{(family == AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4")}/conf/{interfaceName}/{setting}";
        Run(() =>
        {
            File.WriteAllText(path, value);
            return 0;
        });
    }

    private static string SysctlPath(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Contains("..", StringComparison.Ordinal) || key.Contains('/'))
            throw new ArgumentException($"'{key}' is not a sysctl key. Use the dotted form, e.g. net.ipv4.ip_forward.", nameof(key));
        return "/proc/sys/" + key.Replace('.', '/');
    }

    /// <summary>
    /// Starts a program inside this namespace, like <c>ip netns exec NAME program args…</c>: the process is forked
    /// from a thread that is in the namespace, so it starts there. For a named namespace with a directory /etc/netns/NAME,
    /// the process gets a mount namespace of its own with those files bind-mounted over /etc's, as ip netns exec does
    /// (a container's hosts and resolv.conf). (Unlike ip netns exec it does not remount /sys.)
    /// </summary>
    public Process StartProcess(ProcessStartInfo startInfo)
    {
        Process Start() => Process.Start(startInfo) ?? throw new InvalidOperationException($"'{startInfo.FileName}' did not start.");
        // As ip netns exec: a named namespace's /etc/netns/NAME/* over /etc/* (hosts, resolv.conf), in a mount namespace of the process's own.
        if (Name is { } name && Directory.Exists(System.IO.Path.Combine(EtcDirectory, name)))
            return NamespaceThread.RunWithEtc(Handle, System.IO.Path.Combine(EtcDirectory, name), Start);
        return Run(Start);
    }

    /// <summary>Where <c>ip netns exec</c> looks for a named namespace's own /etc files: /etc/netns/NAME/.</summary>
    public const string EtcDirectory = "/etc/netns";

    /// <summary>
    /// The processes whose network namespace is the one with inode <paramref name="id"/> (as <c>ip netns pids NAME</c>
    /// finds them in /proc/PID/ns/net). A namespace with such processes outlives <see cref="Delete"/>.
    /// </summary>
    public static IReadOnlyList<int> ProcessesIn(ulong id)
    {
        var pids = new List<int>();
        foreach (var pid in ProcessIds())
            if (NamespaceOf(pid) == id) pids.Add(pid);
        return pids;
    }

    private static readonly object ScanLock = new();
    private static Dictionary<int, ulong> _namespaceOf = [];
    private static long _fullScanAt;

    /// <summary>How long the namespaces of known processes are taken from the last scan (new processes are always looked at).</summary>
    private static readonly TimeSpan RescanEvery = TimeSpan.FromSeconds(2);

    /// <summary>
    /// True when some process runs in the namespace with inode <paramref name="id"/>. Each process's namespace costs a
    /// path walk in the kernel (some 7 µs), so it is remembered: a call looks only at the processes it has not seen
    /// before (a pipeline of Disconnects reads each process once, not once per container), and everything again every
    /// <see cref="RescanEvery"/> (a process that moves to another namespace itself, by setns, is seen then). A match is
    /// always checked afresh.
    /// </summary>
    public static bool HasProcesses(ulong id)
    {
        lock (ScanLock)
        {
            var full = Stopwatch.GetElapsedTime(_fullScanAt) >= RescanEvery;
            var seen = new Dictionary<int, ulong>(_namespaceOf.Count + 16);
            var found = false;
            foreach (var pid in ProcessIds())
            {
                if (full || !_namespaceOf.TryGetValue(pid, out var ns) || ns == id) ns = NamespaceOf(pid);
                if (ns == 0) continue; // ended meanwhile
                seen[pid] = ns;
                found |= ns == id;
            }
            _namespaceOf = seen;
            if (full) _fullScanAt = Stopwatch.GetTimestamp();
            return found;
        }
    }

    /// <summary>The process ids under /proc (thread group leaders).</summary>
    private static IEnumerable<int> ProcessIds()
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc"))
        {
            var name = System.IO.Path.GetFileName(entry.AsSpan());
            if (name.Length is > 0 and <= 10 && char.IsAsciiDigit(name[0]) &&
                int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                yield return pid;
        }
    }

    /// <summary>
    /// The inode of the namespace bind-mounted at /run/netns/<paramref name="name"/> (one statx, nothing opened), or 0
    /// when there is none (a plain file, one being created or deleted): to find a namespace's name among many without
    /// opening each (compare with <see cref="CurrentId"/> or <see cref="Id"/>, then <see cref="Open"/> the match).
    /// </summary>
    public static unsafe ulong NamedId(string name)
    {
        ValidateName(name);
        var (major, minor) = NsfsDevice();
        var path = System.IO.Path.Combine(RunDirectory, name);
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(path.Length) + 1];
        var n = Encoding.UTF8.GetBytes(path, bytes);
        bytes[n] = 0;
        LibC.statx_t st;
        fixed (byte* p = bytes)
            if (LibC.statx(LibC.AT_FDCWD, p, 0, LibC.STATX_INO, &st) != 0) return 0;
        return st.stx_dev_major == major && st.stx_dev_minor == minor ? st.stx_ino : 0;
    }

    /// <summary>The inode of the network namespace of process <paramref name="pid"/> (one statx of /proc/PID/ns/net), or 0.</summary>
    private static unsafe ulong NamespaceOf(int pid)
    {
        var (major, minor) = NsfsDevice();
        Span<byte> path = stackalloc byte[32];
        "/proc/"u8.CopyTo(path);
        pid.TryFormat(path[6..], out var n, default, CultureInfo.InvariantCulture);
        "/ns/net\0"u8.CopyTo(path[(6 + n)..]);
        LibC.statx_t st;
        fixed (byte* p = path)
            if (LibC.statx(LibC.AT_FDCWD, p, 0, LibC.STATX_INO, &st) != 0) return 0; // ended, or not ours to see
        return st.stx_dev_major == major && st.stx_dev_minor == minor ? st.stx_ino : 0;
    }

    private static (uint, uint)? _nsfsDevice;

    /// <summary>The device of the namespace file system (nsfs): an inode number names a namespace only on it.</summary>
    private static unsafe (uint Major, uint Minor) NsfsDevice()
    {
        if (_nsfsDevice is { } d) return d;
        LibC.statx_t st;
        fixed (byte* p = "/proc/self/ns/net\0"u8)
            Errno.ThrowIfError(LibC.statx(LibC.AT_FDCWD, p, 0, LibC.STATX_INO, &st), "statx /proc/self/ns/net");
        return (_nsfsDevice = (st.stx_dev_major, st.stx_dev_minor)).Value;
    }

    // ---- plumbing ------------------------------------------------------------------------------------------

    private static ulong? _currentId;

    /// <summary>The inode of the namespace the process runs in.</summary>
    public static ulong CurrentId()
    {
        if (_currentId is { } id) return id;
        using var h = OpenFile("/proc/self/ns/net");
        return (_currentId = ReadInode(h, "/proc/self/ns/net")).Value;
    }

    private static SafeFileHandle OpenFile(string path)
    {
        var fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0) throw new LinuxException(Errno.Last, $"open {path}");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    private static unsafe ulong ReadInode(SafeFileHandle h, string path)
    {
        var fd = (int)h.DangerousGetHandle();
        var type = LibC.ioctl(fd, LibC.NS_GET_NSTYPE);
        if (type != LibC.CLONE_NEWNET)
            throw new NotANetNamespaceException(path, type < 0
                ? $"'{path}' is not a network namespace (NS_GET_NSTYPE: {Errno.Name(Errno.Last)}): a plain file{(path.StartsWith(RunDirectory + "/", StringComparison.Ordinal) ? $", such as one an interrupted 'ip netns delete' leaves between its umount and its unlink. Remove it with Remove-NetNamespace {path[(RunDirectory.Length + 1)..]} (or rm {path}), then" : ".")} name a file under /run/netns or /proc/PID/ns/net."
                : $"'{path}' is a namespace, but not a network namespace. Name a file under /run/netns or /proc/PID/ns/net.");
        LibC.statx_t st;
        Errno.ThrowIfError(LibC.statx(fd, "", LibC.AT_EMPTY_PATH, LibC.STATX_INO, &st), "statx(namespace)");
        return st.stx_ino;
    }

    public override string ToString() => Name ?? Path;

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _route?.Dispose();
            _netfilter?.Dispose();
            _sockDiag?.Dispose();
            _handle.Dispose();
        }
    }
}
