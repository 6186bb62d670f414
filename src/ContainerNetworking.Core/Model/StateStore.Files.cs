using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ContainerNetworking.Interop;

namespace ContainerNetworking.Model;

// The files under the records: atomic writes, damaged records set aside, temporary files of killed writers swept.
public sealed partial class StateStore
{
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
        FaultInjection.Point("RenameStateFile");
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

    /// <summary>
    /// Directories of removed networks that a process killed during the removal left (ROOT/.deleted-NAME-GUID: renamed
    /// aside under the lock, then deleted). Only a holder of the lock makes one, and it deletes it before letting go, so
    /// call this under the lock.
    /// </summary>
    public IReadOnlyList<string> LeftoverDeletedDirectories()
    {
        if (!Directory.Exists(Root)) return [];
        try { return Directory.EnumerateDirectories(Root, DeletedMarker + "*").Order(StringComparer.Ordinal).ToList(); }
        catch (IOException) { return []; }
    }

    private const string DeletedMarker = ".deleted-";

    /// <summary>
    /// Network directories without a record and without any file (only empty endpoints/ and leases/): what a network's
    /// creation killed before its first record was renamed into place leaves. Call under the lock.
    /// </summary>
    public IReadOnlyList<string> EmptyNetworkDirectories()
    {
        if (!Directory.Exists(NetworksDir)) return [];
        try
        {
            return Directory.EnumerateDirectories(NetworksDir)
                .Where(d => !Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories).Any())
                .Order(StringComparer.Ordinal).ToList();
        }
        catch (IOException) { return []; }
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
