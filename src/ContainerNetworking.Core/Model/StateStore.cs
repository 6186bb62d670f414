using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ContainerNetworking.Interop;

namespace ContainerNetworking.Model;

/// <summary>
/// The on-disk state of the networks of one host namespace, laid out as CNI host-local keeps its leases:
/// <code>
/// ROOT/.lock                                 flock'ed (exclusive) around every read-modify-write
/// ROOT/networks/NAME/network.json            the network record
/// ROOT/networks/NAME/leases/ADDRESS          one file per leased address; content: the endpoint id
/// ROOT/networks/NAME/last_reserved_ip.4|.6   where the next dynamic allocation starts looking
/// ROOT/networks/NAME/endpoints/ID.json       the endpoint records
/// ROOT/networks/NAME/conntrack-pending/KEY   an address or UDP host port (udp-PORT) whose conntrack entries a
///                                            removed container may have left: flushed before it is used again
/// ROOT/.spare/                               inodes of removed files and links, reused by the next ones made
///                                            (see <see cref="SpareDirectory"/>)
/// </code>
/// Every write is atomic for a process killed mid-write (kill -9: the page cache survives it), which leaves either the
/// old or the new content: a temporary file (NAME.tmp-PID-TID) written and renamed over the file, so that a reader
/// without the lock never sees half a file either; except that an existing endpoint record (made Ready, marked
/// Removing) is overwritten in place with one write of at most a page, which a kill cannot split, and which makes and
/// frees no inode (on this project's ext4 the costliest part of a write); a reader without the lock that catches it
/// half-done reads it again. A temporary file that a killed writer left behind is swept by the next holder of the lock
/// (the killed holder's pid is still in the lock file, see <see cref="FileLock"/>) and by
/// <see cref="SweepTemporaryFiles"/> (Repair), once its pid is gone.
/// <para>
/// How durable a write is matches what the record describes (<see cref="DurabilityOf"/> is the one place that decides).
/// A network's record describes something that outlives a power cut (the user's network is there after a reboot, as
/// Docker's are; Repair makes its bridge and rules again): it is written to survive one, the temporary file fsync'ed
/// before the rename (else the journal may commit the rename before the data, leaving the name on an empty file) and
/// the directory after (once per directory when the lock is let go). An endpoint record (Creating, Ready or Removing),
/// a lease, the network's hosts file and a container's /etc/netns files describe a container's attachment, whose kernel
/// side cannot outlive a power cut (its namespace is a bind mount on the tmpfs /run/netns or belongs to its processes,
/// its veth dies with the host): a power cut can make them stale, never wrong in a new way, and Repair already removes
/// every endpoint whose namespace or veth is gone, with its leases. They are renamed into place without any fsync, so a
/// Connect or Disconnect waits for no journal commit; what a power cut can leave of them, besides an old version, is a
/// file renamed into place whose data never reached the disk (empty or cut short): an endpoint record so is StateCorrupt
/// for every command that reads it, naming the file and Repair, which sets it aside with what it described; an empty
/// lease keeps its address taken until Repair frees it (or writes it again for the live endpoint whose record holds
/// that address).
/// </para>
/// <para>
/// While a thread holds the lock, endpoint records are served from memory: the lock file holds a change counter
/// that every holder increments before its first change (so a holder killed mid-operation has bumped it too), and a
/// holder whose counter matches the file's knows nobody else wrote since it last looked and need not read every
/// record again (Connect and Disconnect then cost the same with 10 or 1000 endpoints). A record changed by hand (without
/// the lock, so without the counter) is noticed too: each network's cached records are keyed on the modification time
/// of its endpoints directory, which any file created, renamed or deleted in it moves. Reads without the lock always
/// go to the files.
/// </para>
/// <para>
/// Once the last network and endpoint are gone, the holder that removed them removes ROOT too (lock file included),
/// before it lets go of the lock; the next operation creates it again.
/// </para>
/// </summary>
public sealed partial class StateStore
{
    /// <summary>The environment variable that overrides the base directory (default /var/lib/containernetworking).</summary>
    public const string StateDirVariable = "CONTAINERNETWORKING_STATE_DIR";

    /// <summary>The environment variable that sets how long an operation waits for the state lock, in seconds (default 60).</summary>
    public const string LockTimeoutVariable = "CONTAINERNETWORKING_LOCK_TIMEOUT";

    /// <summary>How long an operation waits for the state lock when <see cref="LockTimeoutVariable"/> does not say.</summary>
    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long <see cref="Lock()"/> waits for another process to let go of the lock before it fails with StateLocked:
    /// set here, else $CONTAINERNETWORKING_LOCK_TIMEOUT (seconds), else <see cref="DefaultLockTimeout"/>.
    /// </summary>
    public TimeSpan? LockTimeout { get; set; }

    private TimeSpan EffectiveLockTimeout()
    {
        if (LockTimeout is { } t) return t;
        var v = Environment.GetEnvironmentVariable(LockTimeoutVariable);
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds) : DefaultLockTimeout;
    }
    public const string DefaultBase = "/var/lib/containernetworking";

    public StateStore(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.GetFullPath(root);
    }

    /// <summary>The directory of this host namespace's state.</summary>
    public string Root { get; }

    /// <summary>
    /// BASE/KEY, where BASE is $CONTAINERNETWORKING_STATE_DIR or /var/lib/containernetworking and KEY the host
    /// namespace's name (for a named namespace) or "netns-INODE" (the process's own or one opened by path).
    /// </summary>
    public static string DefaultRoot(string? namespaceName, ulong namespaceId)
    {
        var b = Environment.GetEnvironmentVariable(StateDirVariable);
        if (string.IsNullOrEmpty(b)) b = DefaultBase;
        var key = namespaceName ?? "netns-" + namespaceId.ToString(CultureInfo.InvariantCulture);
        return Path.Combine(b, key);
    }

    private string NetworksDir => Path.Combine(Root, "networks");
    private string NetworkDir(string network) => Path.Combine(NetworksDir, network);
    private string LeasesDir(string network) => Path.Combine(NetworkDir(network), "leases");
    private string EndpointsDir(string network) => Path.Combine(NetworkDir(network), "endpoints");

    /// <summary>
    /// For reading only (plans, -WhatIf): the lock when the store exists; when it does not, there is nothing to read
    /// and nothing is created, so a plan leaves no state directory or lock file behind.
    /// </summary>
    public IDisposable LockForReading()
    {
        CheckRoot();
        return Directory.Exists(Root) ? Lock() : NotLocked.Instance;
    }

    /// <summary>
    /// "StateDirectoryNotADirectory" when the state directory, or a directory above it, is a file: nothing could be
    /// read or written there (the file is left alone).
    /// </summary>
    private void CheckRoot()
    {
        for (var d = Root; !string.IsNullOrEmpty(d); d = Path.GetDirectoryName(d))
        {
            if (!File.Exists(d)) continue;
            throw new ContainerNetworkingException("StateDirectoryNotADirectory", ErrorKind.InvalidArgument,
                $"The state directory {Root} cannot be used: {d} is a file, not a directory. Give -StateDirectory (or ${StateDirVariable}) " +
                "a directory or a path that does not exist yet, or move the file away.");
        }
    }

    private sealed class NotLocked : IDisposable
    {
        public static readonly NotLocked Instance = new();
        public void Dispose() { }
    }

    /// <summary>
    /// Takes the store's exclusive lock until disposed, across processes and threads. Waits at most
    /// <see cref="LockTimeout"/> for another holder (then "StateLocked", naming the process that holds it) and ends at
    /// once when the operation is cancelled (<see cref="CancellationScope"/>: OperationCanceledException).
    /// </summary>
    public IDisposable Lock() => Lock(CancellationScope.Current);

    /// <inheritdoc cref="Lock()"/>
    public IDisposable Lock(CancellationToken cancel)
    {
        CheckRoot();
        EnsureDirectory(Root);
        var path = Path.Combine(Root, ".lock");
        var timeout = EffectiveLockTimeout();
        FileLock fileLock;
        try { fileLock = FileLock.Acquire(path, timeout, cancel); }
        catch (FileLockTimeoutException e)
        {
            var holder = e.HolderPid is { } pid ? $"held by pid {pid}{(e.HolderCommand is { } cmd ? " (" + cmd + ")" : "")}" : "held by another process";
            throw new ContainerNetworkingException("StateLocked", ErrorKind.ResourceBusy,
                $"The container network state in {Root} is locked, {holder}; waited {timeout.TotalSeconds:0.#} s. " +
                $"Wait until that command finishes and try again, or stop it{(e.HolderPid is { } p ? $" (kill {p})" : "")} if it hangs; " +
                $"${LockTimeoutVariable}=SECONDS waits longer.", e);
        }
        if (fileLock.AbandonedBy is var killed and > 0 && killed != Environment.ProcessId)
            SweepTemporaryFiles(killed);
        try
        {
            // A new lock file (the directory was just created, or removed by the last holder and created again) starts
            // its counter at a random value, so that a count this process saw on an earlier file is not taken for "no
            // change since".
            var counter = CounterFile.Read(path);
            if (counter <= 0) CounterFile.Write(path, counter = Random.Shared.NextInt64(1, long.MaxValue >> 1));
            lock (_cacheSync)
            {
                if (counter != _seenCounter)
                {
                    ForgetCached();
                    _seenCounter = counter;
                }
                _dirty = false;
                _removed = false;
                _lockPath = path;
                _holder = Environment.CurrentManagedThreadId;
            }
        }
        catch
        {
            fileLock.Dispose();
            throw;
        }
        return new Held(this, fileLock);
    }

    private sealed class Held(StateStore store, IDisposable fileLock) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            try { store.Release(); }
            finally { fileLock.Dispose(); }
        }
    }

    private readonly object _cacheSync = new();
    private readonly Dictionary<string, CachedEndpoints> _endpointCache = new(StringComparer.Ordinal);

    /// <summary>
    /// A network's endpoint records as read (or written) by this process, and the directory's time they match; with them
    /// sorted as <see cref="ListEndpoints"/> gives them (a list never changed once handed out: a change makes a new one).
    /// </summary>
    private sealed class CachedEndpoints(DateTime stamp, Dictionary<string, ContainerEndpoint> items, List<ContainerEndpoint>? sorted)
    {
        public DateTime Stamp { get; set; } = stamp;
        public Dictionary<string, ContainerEndpoint> Items { get; } = items;
        public List<ContainerEndpoint>? Sorted { get; set; } = sorted;
    }

    /// <summary>
    /// How many times this store forgot what it had cached because someone else may have changed the files (another
    /// holder of the lock, a change without it): what a caller keeps about the files beside the store's caches (the
    /// hosts files as last written, <see cref="NameResolution"/>) is good only while this stays the same.
    /// </summary>
    internal long CacheEpoch
    {
        get
        {
            lock (_cacheSync) return _cacheEpoch;
        }
    }

    private long _cacheEpoch;

    /// <summary>Forgets every cached record and the listed spares (call under <see cref="_cacheSync"/>).</summary>
    private void ForgetCached()
    {
        _endpointCache.Clear();
        _networkCache.Clear();
        _networkNames = null;
        _cacheEpoch++;
        ForgetSpares();
    }

    /// <summary>Whether this thread holds the lock (what the caches and what callers keep beside them need).</summary>
    internal bool HoldsLock => HoldingLock();

    /// <summary>The modification time of a directory (nanoseconds as the file system keeps them); MinValue when it is missing.</summary>
    private static DateTime DirectoryStamp(string dir)
    {
        try { return Directory.GetLastWriteTimeUtc(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return DateTime.MinValue; }
    }
    private long _seenCounter = -1;
    private bool _dirty;
    // Whether this hold removed a file, link or network (only then can the store have become empty: see RemoveIfEmpty).
    private bool _removed;

    /// <summary>Notes that this hold removed something (<see cref="RemoveIfEmpty"/> looks when the lock goes).</summary>
    private void Removed()
    {
        lock (_cacheSync) _removed = true;
    }
    private int _holder;
    private string? _lockPath;

    private bool Holding => _holder == Environment.CurrentManagedThreadId;

    private bool HoldingLock()
    {
        lock (_cacheSync) return Holding;
    }

    private void Release()
    {
        DiscardStaged();
        bool mayBeEmpty;
        List<string> unsynced;
        lock (_cacheSync)
        {
            mayBeEmpty = _dirty && _removed;
            _holder = 0;
            _dirty = false;
            _removed = false;
            unsynced = [.. _unsyncedDirectories];
            _unsyncedDirectories.Clear();
        }
        // The renames and deletions of this hold reach the disk before the lock goes (and the operation reports success):
        // one fsync per directory, however many files changed in it.
        foreach (var dir in unsynced)
        {
            try { DurableFile.SyncDirectory(dir); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* removed meanwhile; or a failing disk, which the next write reports */ }
        }
        if (mayBeEmpty) RemoveIfEmpty();
    }

    /// <summary>Directories whose entries this hold changed (renames, deletions), fsync'ed once each when the lock is let go.</summary>
    private readonly HashSet<string> _unsyncedDirectories = new(StringComparer.Ordinal);

    /// <summary>A file of <paramref name="dir"/> was renamed into place or deleted: its directory is fsync'ed now, or when the holder lets go.</summary>
    private void DirectoryChanged(string dir)
    {
        lock (_cacheSync)
        {
            if (Holding)
            {
                _unsyncedDirectories.Add(dir);
                return;
            }
        }
        DurableFile.SyncDirectory(dir);
    }

    /// <summary>
    /// Called while the lock is still held, after a hold that removed something: when the last network and endpoint are
    /// gone (nothing left but empty records of the predefined networks), removes the state directory: networks/, the lock
    /// file (a process that waits for it then locks a new one, see <see cref="FileLock"/>), and the directory itself when
    /// nothing else is in it. A process creating a network meanwhile waits for the lock and finds the directory gone or
    /// re-creates it. Best effort: what cannot be removed stays, and is still a valid store.
    /// </summary>
    private void RemoveIfEmpty()
    {
        try
        {
            var networks = Directory.Exists(NetworksDir) ? Directory.GetDirectories(NetworksDir) : [];
            foreach (var d in networks)
            {
                var name = Path.GetFileName(d);
                if (ReadNetwork(name) is not { IsPredefined: true }) return;
                if (HasEntries(EndpointsDir(name)) || HasEntries(LeasesDir(name))) return;
            }
            foreach (var d in networks) Directory.Delete(d, recursive: true);
            if (Directory.Exists(NetworksDir)) Directory.Delete(NetworksDir);
            lock (_cacheSync)
            {
                ForgetCached();
                _seenCounter = -1;
            }
            if (Directory.Exists(SpareDirectory)) Directory.Delete(SpareDirectory, recursive: true);
            if (_lockPath is { } lockPath) File.Delete(lockPath);
            Directory.Delete(Root); // fails, and leaves it, when anything else is in it
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ContainerNetworkingException) { }
    }

    private static bool HasEntries(string dir) => Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any();

    /// <summary>
    /// Called before every change. The holder's first change of this hold increments the counter in the lock file
    /// (before the change, so that a holder killed half-way has told the others too); anyone else's change (without
    /// the lock) only makes our own cache start over.
    /// </summary>
    private void Changing()
    {
        lock (_cacheSync)
        {
            if (!Holding)
            {
                ForgetCached();
                _seenCounter = -1;
                return;
            }
            if (_dirty) return;
            var next = _seenCounter < 0 ? 1 : _seenCounter + 1;
            try { CounterFile.Write(_lockPath!, next); }
            catch
            {
                ForgetCached();
                _seenCounter = -1;
                throw;
            }
            _seenCounter = next;
            _dirty = true;
        }
    }
}
