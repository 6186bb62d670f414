using System.Diagnostics;

namespace ContainerNetworking.Namespaces;

/// <summary>
/// Open namespaces kept for reuse, so that each is opened (and gets its netlink sockets) once, however many calls act
/// in it: named namespaces keyed by name (<c>red</c> and <c>/run/netns/red</c> are one entry), others by path.
/// <para>
/// An entry never outlives what it stands for: every <see cref="Get"/> checks that the path still names the same
/// namespace (inode and device, one statx), so a name deleted and created again (<c>ip netns del x; ip netns add x</c>)
/// gives the new namespace; and at most once a second every entry is checked, so that one whose name was deleted
/// behind the cache's back is closed even if nobody asks for it again (an open handle or socket keeps a deleted
/// namespace alive, and its veths with it).
/// </para>
/// <para>
/// The cache is bounded: beyond <see cref="Capacity"/> entries the least recently used are closed (handle and
/// sockets), except those used within the last <see cref="Grace"/> (a pipeline may still be working with them; they
/// go at a later call). A closed entry is opened again on its next use.
/// </para>
/// </summary>
public sealed class NamespaceCache : IDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _byKey = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recent = new(); // most recently used first
    private NetNamespace? _current;
    private long _checkedAt;

    private sealed class Entry(string key, NetNamespace ns)
    {
        public string Key { get; } = key;
        public NetNamespace Namespace { get; } = ns;
        public long UsedAt { get; set; } = Stopwatch.GetTimestamp();
    }

    /// <param name="capacity">How many namespaces stay open (at least 1).</param>
    /// <param name="grace">How long after its last use an entry is safe from eviction (default 2 s).</param>
    public NamespaceCache(int capacity = 64, TimeSpan? grace = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        Grace = grace ?? TimeSpan.FromSeconds(2);
    }

    /// <summary>How many namespaces are kept open at most (beyond it only those used within <see cref="Grace"/>).</summary>
    public int Capacity { get; }

    /// <summary>How long after its last use an entry is not closed to make room.</summary>
    public TimeSpan Grace { get; }

    /// <summary>How often every entry is checked against its path.</summary>
    public static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);

    /// <summary>How many namespaces are open in the cache.</summary>
    public int Count
    {
        get { lock (_lock) return _byKey.Count; }
    }

    /// <summary>The namespace the process itself runs in (kept apart: never evicted).</summary>
    public NetNamespace Current
    {
        get
        {
            lock (_lock)
            {
                if (_current is null || _current.IsDisposed) _current = NetNamespace.OpenCurrent();
                return _current;
            }
        }
    }

    /// <summary>
    /// The open namespace for a name (under /run/netns) or a path, opened on first use, or again when its entry no longer
    /// is what the path names (deleted, created anew) or was closed. NetNamespaceNotFoundException when there is none.
    /// </summary>
    public NetNamespace Get(string nameOrPath)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        if (nameOrPath.Length == 0)
            throw new ArgumentException("The network namespace name is empty. Give a name such as 'red' (see Get-NetNamespace), or leave -NetNamespace out to use the current namespace.");
        var key = KeyOf(nameOrPath);
        lock (_lock)
        {
            CheckAllNowAndThen();
            if (_byKey.TryGetValue(key, out var node))
            {
                if (node.Value.Namespace.IsStillAt())
                {
                    Touch(node);
                    return node.Value.Namespace;
                }
                Remove(node);
            }
            var ns = NetNamespace.Open(key);
            Insert(key, ns);
            return ns;
        }
    }

    /// <summary>Registers a namespace just created (its route socket is already open), replacing (and closing) another entry of its name.</summary>
    public NetNamespace Add(NetNamespace ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var key = KeyOf(ns.Name ?? ns.Path);
        lock (_lock)
        {
            CheckAllNowAndThen();
            if (_byKey.TryGetValue(key, out var node))
            {
                if (ReferenceEquals(node.Value.Namespace, ns))
                {
                    Touch(node);
                    return ns;
                }
                Remove(node);
            }
            Insert(key, ns);
        }
        return ns;
    }

    /// <summary>Forgets a namespace and closes its handle and sockets (after it was deleted).</summary>
    public void Drop(string nameOrPath)
    {
        lock (_lock)
            if (_byKey.TryGetValue(KeyOf(nameOrPath), out var node)) Remove(node);
    }

    /// <summary>True when the namespace is open in the cache.</summary>
    public bool Contains(string nameOrPath)
    {
        lock (_lock) return _byKey.ContainsKey(KeyOf(nameOrPath));
    }

    private void Insert(string key, NetNamespace ns)
    {
        _byKey[key] = _recent.AddFirst(new Entry(key, ns));
        Trim();
    }

    /// <summary>Makes room: closes the least recently used entries beyond <see cref="Capacity"/>, none used within <see cref="Grace"/>.</summary>
    private void Trim()
    {
        while (_byKey.Count > Capacity && _recent.Last is { } oldest && Stopwatch.GetElapsedTime(oldest.Value.UsedAt) >= Grace)
            Remove(oldest);
    }

    private void Touch(LinkedListNode<Entry> node)
    {
        node.Value.UsedAt = Stopwatch.GetTimestamp();
        if (node != _recent.First)
        {
            _recent.Remove(node);
            _recent.AddFirst(node);
        }
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _recent.Remove(node);
        _byKey.Remove(node.Value.Key);
        node.Value.Namespace.Dispose();
    }

    /// <summary>At most once per <see cref="CheckEvery"/>: closes the entries whose path names another namespace or none.</summary>
    private void CheckAllNowAndThen()
    {
        if (Stopwatch.GetElapsedTime(_checkedAt) < CheckEvery) return;
        _checkedAt = Stopwatch.GetTimestamp();
        for (var node = _recent.First; node is not null;)
        {
            var next = node.Next;
            if (!node.Value.Namespace.IsStillAt()) Remove(node);
            node = next;
        }
        Trim(); // and what was kept over capacity for its grace period
    }

    private static string KeyOf(string nameOrPath)
    {
        const string prefix = NetNamespace.RunDirectory + "/";
        if (nameOrPath.StartsWith(prefix, StringComparison.Ordinal) && nameOrPath.IndexOf('/', prefix.Length) < 0)
            return nameOrPath[prefix.Length..];
        return nameOrPath;
    }

    /// <summary>Closes every entry.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            while (_recent.First is { } n) Remove(n);
            _current?.Dispose();
            _current = null;
        }
    }
}
