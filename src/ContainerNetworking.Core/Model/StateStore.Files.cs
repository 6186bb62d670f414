using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ContainerNetworking.Interop;

namespace ContainerNetworking.Model;

// The files under the records: atomic writes (durable as what they describe needs), damaged records set aside,
// temporary files of killed writers swept.
public sealed partial class StateStore
{
    // ---- durability ----------------------------------------------------------------------------------------

    /// <summary>
    /// What a state file must survive, decided by <see cref="DurabilityOf"/> alone; every write, rename and deletion
    /// asks it. See the class comment (StateStore.cs) for the reasoning.
    /// </summary>
    internal enum Durability
    {
        /// <summary>
        /// A power cut: the temporary file fsync'ed before it is renamed over the file, the directory fsync'ed after (once
        /// per directory when the lock is let go). What describes something that outlives the machine's power: a network.
        /// </summary>
        PowerCut,

        /// <summary>
        /// A killed process (the page cache survives it): the temporary file renamed over the file, nothing fsync'ed.
        /// What describes a container's attachment, whose kernel side a power cut ends anyway.
        /// </summary>
        ProcessCrash,
    }

    /// <summary>
    /// The one place that decides how durably <paramref name="path"/> is written, renamed into place or deleted (a file,
    /// or a directory made or removed). <see cref="Durability.ProcessCrash"/> for what describes one container's
    /// attachment: an endpoint record (its Creating, Ready and Removing states alike: ROOT/networks/NAME/endpoints/*), a
    /// lease (ROOT/networks/NAME/leases/*), a note of stale conntrack entries (ROOT/networks/NAME/conntrack-pending/: a power
    /// cut takes the conntrack table with it), the network's hosts file that lists its containers
    /// (ROOT/networks/NAME/etc/hosts, rewritten by every connect and disconnect) and a container's /etc/netns/CONTAINER (a
    /// link, or a directory) and its files. Everything else,
    /// a network's record (network.json: its allowances, a predefined or cluster network's too), its directories and its
    /// copy of resolv.conf, and the directories around them: <see cref="Durability.PowerCut"/>.
    /// </summary>
    internal Durability DurabilityOf(string path)
    {
        if (path.StartsWith(Namespaces.NetNamespace.EtcDirectory + "/", StringComparison.Ordinal)) return Durability.ProcessCrash;
        var networks = NetworksDir + "/";
        if (!path.StartsWith(networks, StringComparison.Ordinal)) return Durability.PowerCut;
        var parts = path[networks.Length..].Split('/');
        return parts switch
        {
            [_, "endpoints" or "leases" or PendingDirName, _] => Durability.ProcessCrash,
            [_, PendingDirName] => Durability.ProcessCrash,
            [_, "etc", "hosts"] => Durability.ProcessCrash,
            _ => Durability.PowerCut,
        };
    }

    /// <summary>
    /// <paramref name="path"/> was renamed into place, created or deleted: its directory is fsync'ed (now, or when the
    /// holder lets go) if <see cref="DurabilityOf"/> says the change must survive a power cut.
    /// </summary>
    private void EntryChanged(string path)
    {
        if (DurabilityOf(path) == Durability.PowerCut) DirectoryChanged(Path.GetDirectoryName(path)!);
    }
    // ---- files ---------------------------------------------------------------------------------------------

    private T? Read<T>(string path, RecordJson.Parser<T> parse) where T : class
    {
        var (value, damage) = TryRead(path, parse);
        // Without the lock, a record being overwritten in place (WriteRecord) can be read half old, half new for a few
        // microseconds: read again before calling it damaged.
        for (var attempt = 0; damage is not null && attempt < 3 && !HoldingLock(); attempt++)
        {
            Thread.Sleep(1);
            (value, damage) = TryRead(path, parse);
        }
        if (damage is null) return value;
        if (IgnoringCorrupt) return null;
        throw new ContainerNetworkingException("StateCorrupt", ErrorKind.InvalidOperation,
            $"The state file {path} cannot be read: {damage}. It was cut short or damaged (a power cut or a full disk while it was written, " +
            $"or an edit by hand). Run {RepairCommand ?? "Repair-ContainerNetwork -StateDirectory " + Root}: it sets the damaged record aside " +
            $"(in {CorruptDirectory}) and removes what it described; then create the network or connect the container again.");
    }

    /// <summary>The record in <paramref name="path"/>, or null when there is none; or why it cannot be read.</summary>
    private static (T? Value, string? Damage) TryRead<T>(string path, RecordJson.Parser<T> parse) where T : class
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { return (null, null); }
        catch (DirectoryNotFoundException) { return (null, null); }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException && Directory.Exists(path)) { return (null, "it is a directory, not a file"); }
        if (bytes.Length == 0) return (null, "it is empty");
        try
        {
            return parse(bytes) is { } v ? (v, null) : (null, "it holds no record (null)");
        }
        catch (JsonException e) { return (null, $"it is not a valid record (at {e.Path ?? "$"}, line {e.LineNumber + 1 ?? 1}: {e.Message})"); }
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
            if (TryRead(netFile, RecordJson.ReadNetwork).Damage is { } why) list.Add(new CorruptRecord(netFile, name, null, why));
            var eps = EndpointsDir(name);
            if (!Directory.Exists(eps)) continue;
            foreach (var f in Directory.EnumerateFiles(eps, "*.json").Order(StringComparer.Ordinal))
                if (TryRead(f, RecordJson.ReadEndpoint).Damage is { } w)
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
        Removed();
        return to;
    }

    /// <summary>
    /// Writes a record that need survive only a killed process (<see cref="Durability.ProcessCrash"/>: an endpoint's)
    /// in place when it exists and fits in a page (<see cref="DurableFile.TryOverwriteSmall"/>: all or nothing for a
    /// killed writer, and no inode made or freed, where a temporary file renamed over it makes one and frees one); else
    /// as <see cref="WriteBytes"/> does. A reader without the lock that catches the write half-done reads again
    /// (<see cref="Read"/>).
    /// </summary>
    private void WriteRecord(string path, byte[] bytes)
    {
        if (DurabilityOf(path) == Durability.ProcessCrash)
        {
            FaultInjection.Point("OverwriteStateFile");
            if (DurableFile.TryOverwriteSmall(path, bytes)) return;
        }
        WriteBytes(path, bytes);
    }

    private void WriteText(string path, string text) => WriteBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Replaces <paramref name="path"/> atomically: a temporary file written and renamed over it, so that a reader and
    /// a killed writer see the old content or the new, never a part. When <see cref="DurabilityOf"/> says it must
    /// survive a power cut, the temporary file is fsync'ed before the rename (so the name never points at an empty or
    /// short file, whatever happens to the machine) and its directory after.
    /// </summary>
    private void WriteBytes(string path, byte[] bytes)
    {
        var durability = DurabilityOf(path);
        // A file that need survive only a killed process is written into a spare, which has its inode already (see
        // SpareDirectory), renamed into place as the temporary file would be.
        var tmp = durability == Durability.ProcessCrash ? FilledSpare(bytes) : null;
        if (tmp is null)
        {
            tmp = TemporaryName(path);
            if (durability == Durability.PowerCut) DurableFile.Write(tmp, bytes);
            else DurableFile.WriteUnsynced(tmp, bytes);
        }
        FaultInjection.Point("RenameStateFile");
        File.Move(tmp, path, overwrite: true);
        EntryChanged(path);
    }

    private static string TemporaryName(string path) =>
        path + TemporaryMarker + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Environment.CurrentManagedThreadId.ToString(CultureInfo.InvariantCulture);

    // ---- group commit ----------------------------------------------------------------------------------------

    /// <summary>Files staged by this hold (final path → its temporary file), in the order they were staged.</summary>
    private readonly List<(string Path, string Temporary)> _staged = [];

    /// <summary>
    /// Group commit, as a database does it: the file is written to its temporary name now but neither fsync'ed nor
    /// renamed; <see cref="CommitStaged"/> makes every staged file that must survive a power cut durable at the cost of
    /// about one fsync (<see cref="DurableFile.SyncAll"/>) and renames them all into place in the order they were staged,
    /// the directories of the durable ones fsync'ed once when the lock is let go (a Connect stages only files of
    /// <see cref="Durability.ProcessCrash"/>: its commit is the renames alone). Until then the holder sees a staged file as written (<see cref="IsLeased"/>,
    /// <see cref="Leases"/>); other processes (waiting for the lock) and a crash see the old state: a killed holder
    /// leaves only temporary files, which the next holder sweeps. Without the lock it is an ordinary durable write.
    /// </summary>
    private void Stage(string path, byte[] bytes)
    {
        lock (_cacheSync)
        {
            if (!Holding)
            {
                WriteBytes(path, bytes);
                return;
            }
        }
        var tmp = FilledSpare(bytes);
        if (tmp is null) DurableFile.WriteUnsynced(tmp = TemporaryName(path), bytes);
        List<(string Path, string Temporary)> replaced;
        lock (_cacheSync)
        {
            replaced = _staged.FindAll(x => x.Path == path);
            _staged.RemoveAll(x => x.Path == path);
            _staged.Add((path, tmp));
        }
        foreach (var x in replaced) ReturnOrDelete(x.Temporary);
    }

    /// <summary>Whether this hold staged <paramref name="path"/> and has not committed it yet.</summary>
    private bool IsStaged(string path)
    {
        lock (_cacheSync) return Holding && _staged.Exists(x => x.Path == path);
    }

    /// <summary>The staged files of <paramref name="dir"/>: final path → temporary file.</summary>
    private List<(string Path, string Temporary)> StagedIn(string dir)
    {
        lock (_cacheSync) return Holding ? _staged.Where(x => Path.GetDirectoryName(x.Path) == dir).ToList() : [];
    }

    /// <summary>Drops a staged file (its temporary file deleted); true when there was one.</summary>
    private bool Unstage(string path)
    {
        string? tmp = null;
        lock (_cacheSync)
        {
            var i = _staged.FindIndex(x => x.Path == path);
            if (i < 0) return false;
            tmp = _staged[i].Temporary;
            _staged.RemoveAt(i);
        }
        ReturnOrDelete(tmp);
        return true;
    }

    /// <summary>Makes every file staged by this hold that must be durable so (about one fsync for all) and renames them all into place, in order.</summary>
    public void CommitStaged()
    {
        List<(string Path, string Temporary)> staged;
        lock (_cacheSync)
        {
            staged = [.. _staged];
            _staged.Clear();
        }
        if (staged.Count == 0) return;
        try
        {
            var durable = staged.Where(x => DurabilityOf(x.Path) == Durability.PowerCut).Select(x => x.Temporary).ToList();
            if (durable.Count > 0) DurableFile.SyncAll(durable);
        }
        catch
        {
            foreach (var x in staged) ReturnOrDelete(x.Temporary);
            throw;
        }
        foreach (var (path, tmp) in staged)
        {
            FaultInjection.Point("RenameStateFile");
            File.Move(tmp, path, overwrite: true);
            EntryChanged(path);
        }
    }

    /// <summary>A hold ends with files staged but not committed (its operation failed): they are not written.</summary>
    private void DiscardStaged()
    {
        List<(string Path, string Temporary)> staged;
        lock (_cacheSync)
        {
            staged = [.. _staged];
            _staged.Clear();
        }
        foreach (var x in staged) ReturnOrDelete(x.Temporary);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
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
    /// Network directories without a record and without any file (only empty endpoints/, leases/ and etc/): what a network's
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

    // ---- files beside the records (hosts files: ROOT/networks/NAME/etc/, /etc/netns/CONTAINER) ----------------

    /// <summary>The directory of a network's name files, which a container's /etc/netns/NAME links to (see <see cref="NameResolution"/>): ROOT/networks/NAME/etc.</summary>
    internal string NetworkEtcDirectory(string network) => Path.Combine(NetworkDir(network), "etc");

    /// <summary>The hosts file of a network's containers: ROOT/networks/NAME/etc/hosts.</summary>
    internal string NetworkHostsPath(string network) => Path.Combine(NetworkEtcDirectory(network), "hosts");

    /// <summary>The copy of the host's resolv.conf for a network's containers: ROOT/networks/NAME/etc/resolv.conf.</summary>
    internal string NetworkResolvConfPath(string network) => Path.Combine(NetworkEtcDirectory(network), "resolv.conf");

    /// <summary>
    /// Writes a file that is not a record (a hosts file) as a record is written: NAME.tmp-PID-TID renamed into place,
    /// fsync'ed as <see cref="DurabilityOf"/> says; its directory (and parents) made first.
    /// </summary>
    internal void WriteFileAtomically(string path, string text)
    {
        EnsureDirectory(Path.GetDirectoryName(path)!);
        WriteBytes(path, System.Text.Encoding.UTF8.GetBytes(text));
    }

    /// <summary>
    /// Writes a file that is not a record (a network's hosts file) in place, from <paramref name="offset"/> on
    /// (<see cref="DurableFile.WriteInPlace(string, ReadOnlySpan{byte}, long, bool, out DurableFile.FileStamp)"/>): it
    /// keeps its inode, so the hard links of the containers' /etc/netns files and the bind mounts of running processes
    /// see the new content; its directory (and parents) made first. Returns the file's stamp once written.
    /// </summary>
    internal DurableFile.FileStamp WriteFileInPlace(string path, ReadOnlySpan<byte> bytes, long offset, bool cut)
    {
        EnsureDirectory(Path.GetDirectoryName(path)!);
        if (DurableFile.WriteInPlace(path, bytes, offset, cut, out var stamp)) EntryChanged(path);
        return stamp;
    }

    /// <summary>
    /// Makes <paramref name="path"/> a hard link to <paramref name="target"/> (no inode of its own), atomically (a
    /// temporary link renamed over it), durable as <see cref="DurabilityOf"/> says; a symbolic link
    /// (<see cref="LinkAtomically"/>) where the file systems allow no hard link (/etc and the state directory on two).
    /// </summary>
    internal void HardLinkAtomically(string path, string target)
    {
        if (!PlaceLink(path, name => DurableFile.TryHardLink(target, name))) LinkAtomically(path, target);
    }

    /// <summary>Makes <paramref name="path"/> a symbolic link to <paramref name="target"/>, atomically (a temporary link renamed over what is there), durable as <see cref="DurabilityOf"/> says.</summary>
    internal void LinkAtomically(string path, string target) => PlaceLink(path, name =>
    {
        File.CreateSymbolicLink(name, target);
        return true;
    }, target);

    /// <summary>
    /// Puts a link that <paramref name="make"/> makes at a name at <paramref name="path"/>: made at its name when nothing
    /// is there (a dangling link counts as something), else at a temporary name renamed over what is; its directory
    /// made first. False, and nothing changed, when <paramref name="make"/> made none.
    /// </summary>
    private bool PlaceLink(string path, Func<string, bool> make, string? symbolicTarget = null)
    {
        EnsureDirectory(Path.GetDirectoryName(path)!);
        if (!Path.Exists(path) && new FileInfo(path).LinkTarget is null)
        {
            // A symbolic link: a spare one to the same place if there is one (see SpareDirectory).
            if ((symbolicTarget is null || !PlaceSpareLink(path, symbolicTarget)) && !make(path)) return false;
        }
        else
        {
            var tmp = TemporaryName(path);
            File.Delete(tmp);
            if (!make(tmp)) return false;
            File.Move(tmp, path, overwrite: true);
            // rename(2) does nothing when both names are links to the same file; the temporary one then stays.
            TryDelete(tmp);
        }
        EntryChanged(path);
        return true;
    }

    /// <summary>Removes a file or symbolic link (a dangling one too) that is not a record, durable as <see cref="DurabilityOf"/> says; nothing when it is not there.</summary>
    internal void RemoveFile(string path) => Retire(path);

    /// <summary>Removes <paramref name="dir"/> when it is empty (its parent fsync'ed when the lock goes, if <see cref="DurabilityOf"/> says so); true when it did.</summary>
    internal bool RemoveEmptyDirectory(string dir)
    {
        if (!Directory.Exists(dir) || Directory.EnumerateFileSystemEntries(dir).Any()) return false;
        try { Directory.Delete(dir); }
        catch (IOException) { return false; } // something appeared meanwhile: it stays
        EntryChanged(dir);
        Removed();
        return true;
    }

    /// <summary>Deletes what Repair found left over (a temporary file, or a directory with what is in it), as a change of the store's.</summary>
    internal void RemoveLeftover(string path)
    {
        Changing();
        if (Directory.Exists(path) && new FileInfo(path).LinkTarget is null) Directory.Delete(path, recursive: true);
        else File.Delete(path);
        Removed();
    }

    /// <summary>The temporary files of writers that no longer run in <paramref name="dir"/> (not below it).</summary>
    internal static IReadOnlyList<string> DeadWritersFiles(string dir)
    {
        if (!Directory.Exists(dir)) return [];
        return Directory.EnumerateFiles(dir, "*" + TemporaryMarker + "*")
            .Where(f => TemporaryOwner(Path.GetFileName(f)) is { } pid && pid != Environment.ProcessId && !Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture)))
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Creates a directory (and its parents) if missing, and fsyncs each new one's parent so the creation survives a power cut (when <see cref="DurabilityOf"/> says it must).</summary>
    private void EnsureDirectory(string dir)
    {
        if (Directory.Exists(dir)) return;
        if (Path.GetDirectoryName(dir) is { Length: > 0 } parent) EnsureDirectory(parent);
        Directory.CreateDirectory(dir);
        if (Path.GetDirectoryName(dir) is { Length: > 0 }) EntryChanged(dir);
    }

    /// <summary>Removes a record, lease or note (its inode kept as a spare: see <see cref="Retire"/>); nothing when it is not there.</summary>
    private void DeleteFile(string path)
    {
        try { Retire(path); }
        catch (DirectoryNotFoundException) { }
    }
}
