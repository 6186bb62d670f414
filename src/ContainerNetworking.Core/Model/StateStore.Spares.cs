using System.Globalization;
using ContainerNetworking.Interop;

namespace ContainerNetworking.Model;

// Spare inodes: the files and links a connect makes and a disconnect removes are recycled, not freed and made again.
public sealed partial class StateStore
{
    /// <summary>
    /// ROOT/.spare: files and symbolic links the store no longer needs (an endpoint record, a lease, a note of stale
    /// flows, a container's /etc/netns link), renamed here instead of deleted; the next file of that kind the store
    /// makes is one of them, filled (<see cref="DurableFile.TryRewrite"/>) and renamed into place, as a temporary file
    /// would have been. Each connect made about four inodes and each disconnect freed as many, and on ext4 without a
    /// journal (this project's machine) an inode allocation scans past every inode freed in the last seconds (minutes
    /// while the inode table's block is dirty: <c>recently_deleted</c>), so under churn a file creation cost 0.2-0.6 ms
    /// where a rename costs 20 µs; freeing a block costs a discard too. A spare's content is meaningless, its name says
    /// only what it is (<c>f-RANDOM</c>, or <c>l-HASH-RANDOM</c> for a link, HASH naming its target), and nothing reads
    /// this directory but the holder of the lock, which lists it once and then keeps the list in memory (listed again
    /// after another process's change, as the endpoint cache is). A spare lost in a crash is only a file too many here;
    /// the directory goes with ROOT when the last network does. Only a holder of the lock uses spares; without it, and
    /// for a file with other hard links, a file of another file system or beyond <see cref="MaxSpares"/>, files are made
    /// and deleted as before.
    /// </summary>
    internal string SpareDirectory => Path.Combine(Root, SpareDirName);

    internal const string SpareDirName = ".spare";

    /// <summary>How many spares are kept at most: about two per container of the largest number connected at once, one more per named container's link.</summary>
    private const int MaxSpares = 8192;

    private const string FilePrefix = "f-";
    private const string LinkPrefix = "l-";

    // The spares, as listed (null: not listed since the last change by someone else); under _cacheSync.
    private Stack<string>? _spareFiles;
    private Dictionary<string, Stack<string>>? _spareLinks;
    private int _spareCount;

    /// <summary>Forgets the listed spares (another process may have used or removed them); under _cacheSync.</summary>
    private void ForgetSpares()
    {
        _spareFiles = null;
        _spareLinks = null;
        _spareCount = 0;
    }

    /// <summary>Lists ROOT/.spare if not listed yet (names only: no stat, no readlink); under _cacheSync, holding the lock.</summary>
    private void ListSpares()
    {
        if (_spareFiles is not null) return;
        _spareFiles = new Stack<string>();
        _spareLinks = new Dictionary<string, Stack<string>>(StringComparer.Ordinal);
        _spareCount = 0;
        if (!Directory.Exists(SpareDirectory)) return;
        foreach (var path in Directory.EnumerateFileSystemEntries(SpareDirectory))
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith(FilePrefix, StringComparison.Ordinal)) AddSpare(path, null);
            else if (name.StartsWith(LinkPrefix, StringComparison.Ordinal) && name.IndexOf('-', LinkPrefix.Length) is var dash and > 0)
                AddSpare(path, name[LinkPrefix.Length..dash]);
        }
    }

    /// <summary>Adds a spare to the listed ones: a file, or (with <paramref name="linkKey"/>) a link; under _cacheSync, once listed.</summary>
    private void AddSpare(string path, string? linkKey)
    {
        if (linkKey is null) _spareFiles!.Push(path);
        else
        {
            if (!_spareLinks!.TryGetValue(linkKey, out var s)) _spareLinks[linkKey] = s = new Stack<string>();
            s.Push(path);
        }
        _spareCount++;
    }

    /// <summary>
    /// A spare file filled with <paramref name="bytes"/>, to be renamed into place; null when this thread does not hold
    /// the lock or there is none (the caller makes a new file then).
    /// </summary>
    private string? FilledSpare(byte[] bytes)
    {
        while (true)
        {
            string spare;
            lock (_cacheSync)
            {
                if (!Holding) return null;
                ListSpares();
                if (!_spareFiles!.TryPop(out spare!)) return null;
                _spareCount--;
            }
            if (DurableFile.TryRewrite(spare, bytes)) return spare;
            // Gone meanwhile (removed by hand): the next one.
        }
    }

    /// <summary>Gives back a spare taken by <see cref="FilledSpare"/> and not used (a staged file dropped); deletes any other file.</summary>
    private void ReturnOrDelete(string path)
    {
        if (Path.GetDirectoryName(path) == SpareDirectory)
        {
            lock (_cacheSync)
            {
                if (Holding && _spareFiles is not null)
                {
                    AddSpare(path, null);
                    return;
                }
            }
        }
        TryDelete(path);
    }

    /// <summary>
    /// Takes <paramref name="path"/> away: renamed into ROOT/.spare when it is a file with no other hard link or a
    /// symbolic link, this thread holds the lock and the spares are not full; else deleted. False when it was not there.
    /// Durable as <see cref="DurabilityOf"/> says for <paramref name="path"/> (a spare itself needs nothing).
    /// </summary>
    private bool Retire(string path)
    {
        var kind = DurableFile.KindOf(path);
        // A link's spare is named for where it leads, so that it serves a link to the same place again.
        var key = kind == DurableFile.EntryKind.SymbolicLink ? LinkKey(new FileInfo(path).LinkTarget ?? "") : null;
        string? spare = null;
        if (kind != DurableFile.EntryKind.Other)
        {
            lock (_cacheSync)
            {
                if (Holding)
                {
                    ListSpares();
                    if (_spareCount < MaxSpares)
                        spare = Path.Combine(SpareDirectory, (key is null ? FilePrefix : LinkPrefix + key + "-") + UniqueSuffix());
                }
            }
        }
        if (spare is not null)
        {
            EnsureSpareDirectory();
            if (DurableFile.TryMove(path, spare))
            {
                lock (_cacheSync)
                    if (_spareFiles is not null) AddSpare(spare, key);
                EntryChanged(path);
                Removed();
                return true;
            }
            // Missing, or on another file system than ROOT (EXDEV): deleted as before.
        }
        if (!File.Exists(path) && new FileInfo(path).LinkTarget is null) return false;
        File.Delete(path);
        EntryChanged(path);
        Removed();
        return true;
    }

    /// <summary>
    /// Puts a spare symbolic link to <paramref name="target"/> at <paramref name="path"/> (where nothing is); false when
    /// there is none (or this thread does not hold the lock), and nothing changed.
    /// </summary>
    private bool PlaceSpareLink(string path, string target)
    {
        var key = LinkKey(target);
        while (true)
        {
            string spare;
            lock (_cacheSync)
            {
                if (!Holding) return false;
                ListSpares();
                if (!_spareLinks!.TryGetValue(key, out var s) || !s.TryPop(out spare!)) return false;
                _spareCount--;
            }
            // The key is a hash: the link itself says where it leads.
            if (new FileInfo(spare).LinkTarget != target)
            {
                TryDelete(spare);
                continue;
            }
            if (DurableFile.TryMove(spare, path)) return true;
            if (new FileInfo(spare).LinkTarget is not null) // still there: another file system (EXDEV), where it cannot serve
            {
                TryDelete(spare);
                return false;
            }
        }
    }

    private void EnsureSpareDirectory()
    {
        if (!Directory.Exists(SpareDirectory)) Directory.CreateDirectory(SpareDirectory);
    }

    /// <summary>A spare link's name part for its target: 16 hex digits of a 64-bit FNV-1a hash of the target's text.</summary>
    private static string LinkKey(string target)
    {
        var h = 14695981039346656037UL;
        foreach (var c in target)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        return h.ToString("x16", CultureInfo.InvariantCulture);
    }

    private static string UniqueSuffix() => Random.Shared.NextInt64().ToString("x16", CultureInfo.InvariantCulture);
}
