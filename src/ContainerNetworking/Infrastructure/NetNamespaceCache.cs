using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Commands;

/// <summary>
/// The process-wide set of open namespaces: one <see cref="NetNamespace"/> (and so one netlink socket per protocol)
/// per namespace, reused by every cmdlet call in every runspace of the process ("one socket per namespace").
/// Named namespaces are keyed by name (<c>red</c> and <c>/run/netns/red</c> are one entry), others by path.
/// Remove-NetNamespace drops its entry, which disposes the handle and its sockets.
/// </summary>
public static class NetNamespaceCache
{
    private static readonly object Lock = new();
    private static readonly Dictionary<string, NetNamespace> ByKey = new(StringComparer.Ordinal);
    private static NetNamespace? _current;

    /// <summary>The namespace PowerShell itself runs in: what a cmdlet acts on without -NetNamespace.</summary>
    public static NetNamespace Current
    {
        get
        {
            lock (Lock)
            {
                if (_current is null || _current.IsDisposed) _current = NetNamespace.OpenCurrent();
                return _current;
            }
        }
    }

    /// <summary>
    /// The open namespace for a name (under /run/netns) or a path, opened on first use. An entry whose name has since
    /// been deleted (e.g. by <c>ip netns delete</c>) is dropped and the name opened again, so that a stale handle
    /// never hides a missing or re-created namespace.
    /// </summary>
    public static NetNamespace Get(string nameOrPath)
    {
        ArgumentNullException.ThrowIfNull(nameOrPath);
        if (nameOrPath.Length == 0)
            throw new ArgumentException("The network namespace name is empty. Give a name such as 'red' (see Get-NetNamespace), or leave -NetNamespace out to use the current namespace.");
        var key = KeyOf(nameOrPath);
        var path = key.StartsWith('/') ? key : NetNamespace.RunDirectory + "/" + key;
        lock (Lock)
        {
            if (ByKey.TryGetValue(key, out var cached))
            {
                if (!cached.IsDisposed && File.Exists(path)) return cached;
                ByKey.Remove(key);
                cached.Dispose();
            }
            var ns = NetNamespace.Open(key);
            ByKey[key] = ns;
            return ns;
        }
    }

    /// <summary>Registers a namespace just created (its route socket is already open), replacing a stale entry.</summary>
    public static NetNamespace Add(NetNamespace ns)
    {
        var key = KeyOf(ns.Name ?? ns.Path);
        lock (Lock)
        {
            if (ByKey.TryGetValue(key, out var old) && !ReferenceEquals(old, ns)) old.Dispose();
            ByKey[key] = ns;
        }
        return ns;
    }

    /// <summary>Forgets a namespace and disposes its handle and sockets (after Remove-NetNamespace deleted it).</summary>
    public static void Drop(string nameOrPath)
    {
        var key = KeyOf(nameOrPath);
        lock (Lock)
        {
            if (ByKey.Remove(key, out var ns)) ns.Dispose();
        }
    }

    /// <summary>True when the namespace is open in the cache (for tests and diagnostics).</summary>
    public static bool IsCached(string nameOrPath)
    {
        lock (Lock) return ByKey.ContainsKey(KeyOf(nameOrPath));
    }

    private static string KeyOf(string nameOrPath)
    {
        const string prefix = NetNamespace.RunDirectory + "/";
        if (nameOrPath.StartsWith(prefix, StringComparison.Ordinal) && nameOrPath.IndexOf('/', prefix.Length) < 0)
            return nameOrPath[prefix.Length..];
        return nameOrPath;
    }

    /// <summary>How a namespace is named in messages and ShouldProcess targets: "netns red" or "the current namespace".</summary>
    public static string Label(NetNamespace? ns) =>
        ns is null || (ns.IsCurrent && ns.Name is null) ? "the current namespace" : "netns " + ns;
}
