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
/// </code>
/// Every write is atomic and durable: a temporary file (NAME.tmp-PID-TID) written and fsync'ed, renamed over the
/// file, and the directory fsync'ed (once per directory when the lock is let go), so a reader without the lock never sees half a file, and a process killed
/// mid-write or a power cut leaves either the old or the new content (never an empty or short file). A temporary file
/// that a killed writer left behind is swept by the next holder of the lock (the killed holder's pid is still in the lock
/// file, see <see cref="FileLock"/>) and by <see cref="SweepTemporaryFiles"/> (Repair), once its pid is gone.
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
public sealed class StateStore
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
    public IDisposable LockForReading() => Directory.Exists(Root) ? Lock() : NotLocked.Instance;

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
                    _endpointCache.Clear();
                    _seenCounter = counter;
                }
                _dirty = false;
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

    /// <summary>A network's endpoint records as read (or written) by this process, and the directory's time they match.</summary>
    private sealed class CachedEndpoints(DateTime stamp, Dictionary<string, ContainerEndpoint> items)
    {
        public DateTime Stamp { get; set; } = stamp;
        public Dictionary<string, ContainerEndpoint> Items { get; } = items;
    }

    /// <summary>The modification time of a directory (nanoseconds as the file system keeps them); MinValue when it is missing.</summary>
    private static DateTime DirectoryStamp(string dir)
    {
        try { return Directory.GetLastWriteTimeUtc(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return DateTime.MinValue; }
    }
    private long _seenCounter = -1;
    private bool _dirty;
    private int _holder;
    private string? _lockPath;

    private bool Holding => _holder == Environment.CurrentManagedThreadId;

    private void Release()
    {
        bool changed;
        List<string> unsynced;
        lock (_cacheSync)
        {
            changed = _dirty;
            _holder = 0;
            _dirty = false;
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
        if (changed) RemoveIfEmpty();
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
    /// Called while the lock is still held, after a hold that changed something: when the last network and endpoint are
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
                _endpointCache.Clear();
                _seenCounter = -1;
            }
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
                _endpointCache.Clear();
                _seenCounter = -1;
                return;
            }
            if (_dirty) return;
            var next = _seenCounter < 0 ? 1 : _seenCounter + 1;
            try { CounterFile.Write(_lockPath!, next); }
            catch
            {
                _endpointCache.Clear();
                _seenCounter = -1;
                throw;
            }
            _seenCounter = next;
            _dirty = true;
        }
    }

    // ---- networks ------------------------------------------------------------------------------------------

    public IReadOnlyList<ContainerNetwork> ListNetworks()
    {
        if (!Directory.Exists(NetworksDir)) return [];
        var list = new List<ContainerNetwork>();
        foreach (var d in Directory.EnumerateDirectories(NetworksDir))
            if (ReadNetwork(Path.GetFileName(d)) is { } n) list.Add(n);
        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    public ContainerNetwork? ReadNetwork(string name) => Read(Path.Combine(NetworkDir(name), "network.json"), StateJson.Default.ContainerNetwork);

    public void WriteNetwork(ContainerNetwork network)
    {
        Changing();
        EnsureDirectory(LeasesDir(network.Name));
        EnsureDirectory(EndpointsDir(network.Name));
        Write(Path.Combine(NetworkDir(network.Name), "network.json"), network, StateJson.Default.ContainerNetwork);
    }

    /// <summary>Removes a network's directory with everything in it.</summary>
    public void DeleteNetwork(string name)
    {
        var d = NetworkDir(name);
        if (!Directory.Exists(d)) return;
        // Rename first, so that a crash half-way through the recursive delete leaves no half network behind.
        var trash = Path.Combine(Root, ".deleted-" + name + "-" + Guid.NewGuid().ToString("N"));
        Changing();
        Directory.Move(d, trash);
        DirectoryChanged(NetworksDir);
        DirectoryChanged(Root);
        lock (_cacheSync) _endpointCache.Remove(name);
        Directory.Delete(trash, recursive: true);
    }

    // ---- endpoints -----------------------------------------------------------------------------------------

    public IReadOnlyList<ContainerEndpoint> ListEndpoints(string network)
    {
        lock (_cacheSync)
        {
            if (Holding && _endpointCache.TryGetValue(network, out var cached) && cached.Stamp == DirectoryStamp(EndpointsDir(network)))
            {
                var l = cached.Items.Values.ToList();
                l.Sort((a, b) => a.Created.CompareTo(b.Created));
                return l;
            }
        }
        var d = EndpointsDir(network);
        var stamp = DirectoryStamp(d);
        var list = new List<ContainerEndpoint>();
        if (Directory.Exists(d))
            foreach (var f in Directory.EnumerateFiles(d, "*.json"))
                if (Read(f, StateJson.Default.ContainerEndpoint) is { } e) list.Add(e);
        list.Sort((a, b) => a.Created.CompareTo(b.Created));
        lock (_cacheSync)
            if (Holding) _endpointCache[network] = new CachedEndpoints(stamp, list.ToDictionary(e => e.Id, StringComparer.Ordinal));
        return list;
    }

    public IReadOnlyList<ContainerEndpoint> ListAllEndpoints() =>
        ListNetworks().SelectMany(n => ListEndpoints(n.Name)).ToList();

    public ContainerEndpoint? ReadEndpoint(string network, string id) => Read(Path.Combine(EndpointsDir(network), id + ".json"), StateJson.Default.ContainerEndpoint);

    public void WriteEndpoint(ContainerEndpoint endpoint)
    {
        Changing();
        EnsureDirectory(EndpointsDir(endpoint.Network));
        var before = DirectoryStamp(EndpointsDir(endpoint.Network));
        Write(Path.Combine(EndpointsDir(endpoint.Network), endpoint.Id + ".json"), endpoint, StateJson.Default.ContainerEndpoint);
        Cached(endpoint.Network, before, c => c[endpoint.Id] = endpoint);
    }

    public void DeleteEndpoint(string network, string id)
    {
        Changing();
        var before = DirectoryStamp(EndpointsDir(network));
        DeleteFile(Path.Combine(EndpointsDir(network), id + ".json"));
        Cached(network, before, c => c.Remove(id));
    }

    /// <summary>
    /// After this holder's own change of a network's endpoint records: applies it to the cached records and moves their
    /// stamp to the directory's time now. The stamp moves only when the cached records matched the directory before,
    /// so a change by hand made meanwhile is still noticed (by the next listing) rather than adopted.
    /// </summary>
    private void Cached(string network, DateTime before, Action<Dictionary<string, ContainerEndpoint>> change)
    {
        lock (_cacheSync)
        {
            if (!Holding || !_endpointCache.TryGetValue(network, out var c)) return;
            if (c.Stamp != before)
            {
                _endpointCache.Remove(network);
                return;
            }
            change(c.Items);
            c.Stamp = DirectoryStamp(EndpointsDir(network));
        }
    }

    // ---- leases --------------------------------------------------------------------------------------------

    /// <summary>Every leased address of a network and the endpoint id that holds it.</summary>
    public IReadOnlyDictionary<IPAddress, string> Leases(string network)
    {
        var d = LeasesDir(network);
        var map = new Dictionary<IPAddress, string>();
        if (!Directory.Exists(d)) return map;
        foreach (var f in Directory.EnumerateFiles(d))
        {
            if (!IPAddress.TryParse(Path.GetFileName(f), out var a)) continue; // temporary files
            try { map[a] = File.ReadAllText(f).Trim(); }
            catch (FileNotFoundException) { }
        }
        return map;
    }

    /// <summary>True when <paramref name="address"/> is leased in <paramref name="network"/> (one file lookup, not a listing).</summary>
    public bool IsLeased(string network, IPAddress address) => File.Exists(Path.Combine(LeasesDir(network), address.ToString()));

    /// <summary>Writes the lease file of <paramref name="address"/> (call under the lock, after checking it is free).</summary>
    public void WriteLease(string network, IPAddress address, string endpointId)
    {
        Changing();
        EnsureDirectory(LeasesDir(network));
        WriteText(Path.Combine(LeasesDir(network), address.ToString()), endpointId);
        // A hint (where the next allocation starts looking): written in place, without rename or fsync; read back as
        // nothing when it is torn or lost, which only makes the search start at the beginning.
        File.WriteAllText(Path.Combine(NetworkDir(network), LastReservedName(address.AddressFamily)), address.ToString());
    }

    /// <summary>Removes the lease of <paramref name="address"/> if <paramref name="endpointId"/> (or anyone, when null) holds it.</summary>
    public bool ReleaseLease(string network, IPAddress address, string? endpointId)
    {
        var f = Path.Combine(LeasesDir(network), address.ToString());
        if (!File.Exists(f)) return false;
        if (endpointId is not null && File.ReadAllText(f).Trim() != endpointId) return false;
        Changing();
        DeleteFile(f);
        return true;
    }

    public IPAddress? LastReserved(string network, AddressFamily family)
    {
        var f = Path.Combine(NetworkDir(network), LastReservedName(family));
        try { return IPAddress.TryParse(File.ReadAllText(f).Trim(), out var a) ? a : null; }
        catch (IOException) { return null; }
    }

    private static string LastReservedName(AddressFamily f) => f == AddressFamily.InterNetwork ? "last_reserved_ip.4" : "last_reserved_ip.6";

    // ---- files ---------------------------------------------------------------------------------------------

    private T? Read<T>(string path, JsonTypeInfo<T> type) where T : class
    {
        var (value, damage) = TryRead(path, type);
        if (damage is null) return value;
        if (IgnoringCorrupt) return null;
        throw new ContainerNetworkingException("StateCorrupt", ErrorKind.InvalidOperation,
            $"The state file {path} cannot be read: {damage}. It was cut short or damaged (a power cut or a full disk while it was written, " +
            $"or an edit by hand). Run {RepairCommand ?? "Repair-ContainerNetwork -StateDirectory " + Root}: it sets the damaged record aside " +
            $"(in {CorruptDirectory}) and removes what it described; then create the network or connect the container again.");
    }

    /// <summary>The record in <paramref name="path"/>, or null when there is none; or why it cannot be read.</summary>
    private static (T? Value, string? Damage) TryRead<T>(string path, JsonTypeInfo<T> type) where T : class
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { return (null, null); }
        catch (DirectoryNotFoundException) { return (null, null); }
        if (bytes.Length == 0) return (null, "it is empty");
        try
        {
            return JsonSerializer.Deserialize(bytes, type) is { } v ? (v, null) : (null, "it holds no record (null)");
        }
        catch (JsonException e) { return (null, $"it is not a valid record ({e.Message})"); }
        catch (ContainerNetworkingException e) when (e.ErrorId == "StateCorrupt") { return (null, e.Message); }
    }

    /// <summary>
    /// How the message of a damaged record tells to run Repair, naming the host namespace and state directory (set by
    /// the context, which knows the namespace); null: "Repair-ContainerNetwork -StateDirectory ROOT".
    /// </summary>
    internal string? RepairCommand { get; set; }

    /// <summary>Where <see cref="SetAside"/> keeps damaged records: ROOT/corrupt.</summary>
    public string CorruptDirectory => Path.Combine(Root, "corrupt");

    private int _ignoringCorrupt;

    private bool IgnoringCorrupt
    {
        get
        {
            lock (_cacheSync) return _ignoringCorrupt != 0 && _ignoringCorrupt == Environment.CurrentManagedThreadId;
        }
    }

    /// <summary>
    /// Until disposed, this thread reads a damaged record as no record (as it will be once <see cref="SetAside"/> moved
    /// it): Repair's look at everything else, which -WhatIf must be able to take before anything is moved.
    /// </summary>
    internal IDisposable IgnoringCorruptRecords()
    {
        lock (_cacheSync)
        {
            var previous = _ignoringCorrupt;
            _ignoringCorrupt = Environment.CurrentManagedThreadId;
            return new Ignoring(this, previous);
        }
    }

    private sealed class Ignoring(StateStore store, int previous) : IDisposable
    {
        public void Dispose()
        {
            lock (store._cacheSync) store._ignoringCorrupt = previous;
        }
    }

    /// <summary>Every record file that cannot be read (empty, cut short, not a record), with why.</summary>
    public IReadOnlyList<CorruptRecord> FindCorruptRecords()
    {
        var list = new List<CorruptRecord>();
        if (!Directory.Exists(NetworksDir)) return list;
        foreach (var d in Directory.EnumerateDirectories(NetworksDir).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(d);
            var netFile = Path.Combine(d, "network.json");
            if (TryRead(netFile, StateJson.Default.ContainerNetwork).Damage is { } why) list.Add(new CorruptRecord(netFile, name, null, why));
            var eps = EndpointsDir(name);
            if (!Directory.Exists(eps)) continue;
            foreach (var f in Directory.EnumerateFiles(eps, "*.json").Order(StringComparer.Ordinal))
                if (TryRead(f, StateJson.Default.ContainerEndpoint).Damage is { } w)
                    list.Add(new CorruptRecord(f, name, Path.GetFileNameWithoutExtension(f), w));
        }
        return list;
    }

    /// <summary>
    /// Moves a damaged record out of the way, into <see cref="CorruptDirectory"/> (kept for a look, never read again):
    /// an endpoint's file, or a network's whole directory (its leases and endpoints mean nothing without it). Returns
    /// where it went.
    /// </summary>
    public string SetAside(CorruptRecord record)
    {
        Changing();
        EnsureDirectory(CorruptDirectory);
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string from, to;
        if (record.EndpointId is { } id)
        {
            from = record.Path;
            to = Path.Combine(CorruptDirectory, $"{record.Network}.endpoint.{id}.{stamp}.json");
            File.Move(from, to);
            lock (_cacheSync) _endpointCache.Remove(record.Network);
        }
        else
        {
            from = NetworkDir(record.Network);
            to = Path.Combine(CorruptDirectory, $"{record.Network}.network.{stamp}");
            Directory.Move(from, to);
            lock (_cacheSync) _endpointCache.Remove(record.Network);
        }
        DirectoryChanged(Path.GetDirectoryName(from)!);
        DirectoryChanged(CorruptDirectory);
        return to;
    }

    private void Write<T>(string path, T value, JsonTypeInfo<T> type) => WriteBytes(path, JsonSerializer.SerializeToUtf8Bytes(value, type));

    private void WriteText(string path, string text) => WriteBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Replaces <paramref name="path"/> atomically and durably: a temporary file written and fsync'ed (so the name never
    /// points at an empty or short file, whatever happens to the machine), renamed over it, its directory fsync'ed.
    /// </summary>
    private void WriteBytes(string path, byte[] bytes)
    {
        var tmp = path + TemporaryMarker + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Environment.CurrentManagedThreadId.ToString(CultureInfo.InvariantCulture);
        DurableFile.Write(tmp, bytes);
        File.Move(tmp, path, overwrite: true);
        DirectoryChanged(Path.GetDirectoryName(path)!);
    }

    private const string TemporaryMarker = ".tmp-";

    /// <summary>
    /// The temporary files (NAME.tmp-PID-TID) that writers killed mid-write left under the state directory: those of
    /// <paramref name="pid"/> only, or (null) of every process that no longer runs. A file of a live process is never
    /// one of them (it may be writing it).
    /// </summary>
    public IReadOnlyList<string> LeftoverTemporaryFiles(int? pid = null)
    {
        var found = new List<string>();
        if (!Directory.Exists(Root)) return found;
        IEnumerable<string> files;
        try { files = Directory.EnumerateFiles(Root, "*" + TemporaryMarker + "*", SearchOption.AllDirectories).ToList(); }
        catch (IOException) { return found; }
        foreach (var f in files)
        {
            if (f.StartsWith(CorruptDirectory + "/", StringComparison.Ordinal)) continue;
            if (TemporaryOwner(Path.GetFileName(f)) is not { } owner) continue;
            if (pid is { } only && owner != only) continue;
            if (owner == Environment.ProcessId || Directory.Exists("/proc/" + owner.ToString(CultureInfo.InvariantCulture))) continue;
            found.Add(f);
        }
        return found;
    }

    /// <summary>Removes <see cref="LeftoverTemporaryFiles"/>; returns the files removed.</summary>
    public IReadOnlyList<string> SweepTemporaryFiles(int? pid = null)
    {
        var removed = new List<string>();
        foreach (var f in LeftoverTemporaryFiles(pid))
        {
            try
            {
                File.Delete(f);
                removed.Add(f);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    /// <summary>The pid in a temporary file's name (NAME.tmp-PID-TID), or null for another name.</summary>
    public static int? TemporaryFileWriter(string path) => TemporaryOwner(Path.GetFileName(path));

    /// <summary>The writer's pid of a temporary file name (NAME.tmp-PID-TID), or null for another name.</summary>
    private static int? TemporaryOwner(string name)
    {
        var i = name.LastIndexOf(TemporaryMarker, StringComparison.Ordinal);
        if (i < 0) return null;
        var rest = name.AsSpan(i + TemporaryMarker.Length);
        var dash = rest.IndexOf('-');
        if (dash <= 0 || !int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) return null;
        return int.TryParse(rest[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out _) ? pid : null;
    }

    /// <summary>Creates a directory (and its parents) if missing, and fsyncs each new one's parent so the creation survives a power cut.</summary>
    private void EnsureDirectory(string dir)
    {
        if (Directory.Exists(dir)) return;
        if (Path.GetDirectoryName(dir) is { Length: > 0 } parent) EnsureDirectory(parent);
        Directory.CreateDirectory(dir);
        if (Path.GetDirectoryName(dir) is { Length: > 0 } p) DirectoryChanged(p);
    }

    private void DeleteFile(string path)
    {
        try
        {
            if (!File.Exists(path)) return;
            File.Delete(path);
            DirectoryChanged(Path.GetDirectoryName(path)!);
        }
        catch (DirectoryNotFoundException) { }
    }
}
