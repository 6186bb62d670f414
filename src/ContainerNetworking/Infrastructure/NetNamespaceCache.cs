using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Commands;

/// <summary>
/// The process-wide set of open namespaces (a <see cref="NamespaceCache"/>): one <see cref="NetNamespace"/> (and so one
/// netlink socket per protocol) per namespace, reused by every cmdlet call in every runspace of the process ("one
/// socket per namespace"), checked against its path on every use (a name deleted and created again gives the new
/// namespace), at most 64 kept open (the least recently used closed), and closed once its name is gone.
/// Remove-NetNamespace drops its entry, which closes the handle and its sockets.
/// </summary>
public static class NetNamespaceCache
{
    private static readonly NamespaceCache Shared = new();

    /// <summary>The namespace PowerShell itself runs in: what a cmdlet acts on without -NetNamespace.</summary>
    public static NetNamespace Current => Shared.Current;

    /// <summary>The open namespace for a name (under /run/netns) or a path (see <see cref="NamespaceCache.Get"/>).</summary>
    public static NetNamespace Get(string nameOrPath) => Shared.Get(nameOrPath);

    /// <summary>Registers a namespace just created (its route socket is already open), replacing a stale entry.</summary>
    public static NetNamespace Add(NetNamespace ns) => Shared.Add(ns);

    /// <summary>Forgets a namespace and disposes its handle and sockets (after Remove-NetNamespace deleted it).</summary>
    public static void Drop(string nameOrPath) => Shared.Drop(nameOrPath);

    /// <summary>True when the namespace is open in the cache (for tests and diagnostics).</summary>
    public static bool IsCached(string nameOrPath) => Shared.Contains(nameOrPath);

    /// <summary>How a namespace is named in messages and ShouldProcess targets: "netns red" or "the current namespace".</summary>
    public static string Label(NetNamespace? ns) =>
        ns is null || (ns.IsCurrent && ns.Name is null) ? "the current namespace" : "netns " + ns;
}
