using ContainerNetworking.Netlink;
using Microsoft.Win32.SafeHandles;
using static ContainerNetworking.Route.RtnlConstants;

namespace ContainerNetworking.Route;

/// <summary>
/// rtnetlink, typed: links, addresses, routes, neighbours and the bridge FDB of one namespace, over that namespace's
/// one reused netlink connection. Every operation documents its iproute2 equivalent. Input is validated before any
/// request is sent; kernel refusals surface as <see cref="NetlinkException"/> (errno, extended ACK, request name).
/// The request bodies are built by internal static Write* methods so that their bytes can be tested.
/// </summary>
public sealed partial class RouteClient
{
    private readonly NetlinkConnection _conn;

    /// <param name="connection">An rtnetlink connection bound to the namespace.</param>
    /// <param name="namespaceName">The namespace's name, carried by every record and named in errors; null for the process's own.</param>
    public RouteClient(NetlinkConnection connection, string? namespaceName = null)
    {
        _conn = connection;
        NamespaceName = namespaceName;
    }

    /// <summary>The name of the namespace this client works in; null for the process's own namespace.</summary>
    public string? NamespaceName { get; }

    /// <summary>The connection the client sends its requests over.</summary>
    public NetlinkConnection Connection => _conn;

    /// <summary>
    /// Opens an rtnetlink connection inside the namespace of a handle, for the rare request that must be made from
    /// there (bringing up a veth peer that <see cref="CreateVeth"/> put there, when no client of that namespace is
    /// given). Supplied by the layer that owns namespaces (NetNamespace.Rtnl sets it); Route never enters one itself.
    /// </summary>
    public Func<SafeFileHandle, NetlinkConnection>? OpenConnectionIn { get; init; }

    private string Where => NamespaceName is null ? "the current network namespace" : $"network namespace '{NamespaceName}'";
    private string IpCmd => NamespaceName is null ? "ip" : $"ip -n {NamespaceName}";
    private string NsArg => NamespaceName is null ? "" : $" -NetNamespace {NamespaceName}";

    internal ContainerNetworkingException LinkNotFound(string name, string role = "Link", Exception? inner = null) =>
        new("LinkNotFound", ErrorKind.NotFound,
            $"{role} '{name}' does not exist in {Where}. List the links with Get-NetLink{NsArg} or '{IpCmd} link show'.", inner);

    private ContainerNetworkingException LinkIndexNotFound(int index, Exception? inner = null) =>
        new("LinkNotFound", ErrorKind.NotFound,
            $"No link has index {index} in {Where}. List the links with Get-NetLink{NsArg} or '{IpCmd} link show'.", inner);

    private static bool IsNoDevice(NetlinkException e) => e.ErrorNumber is 19 /* ENODEV */;

    /// <summary>Runs <paramref name="work"/> with the raw descriptor of <paramref name="handle"/> kept valid throughout.</summary>
    private static T WithFd<T>(SafeFileHandle? handle, Func<int?, T> work)
    {
        if (handle is null) return work(null);
        ObjectDisposedException.ThrowIf(handle.IsClosed, handle);
        var added = false;
        handle.DangerousAddRef(ref added);
        try { return work((int)handle.DangerousGetHandle()); }
        finally { if (added) handle.DangerousRelease(); }
    }

    /// <summary>
    /// A dump of one family (or both) and one interface (or all), as <c>ip [-4|-6] addr|neigh show [dev NAME]</c>: the
    /// records decoded, those of another interface or family left out (the filter is a hint the kernel may ignore),
    /// each named by its interface.
    /// </summary>
    private List<T> DumpPerInterface<T>(ushort type, string what, string? interfaceName, System.Net.Sockets.AddressFamily? family,
        Action<NetlinkWriter, byte, int> write, Func<NetlinkMessage, T?> decode, Func<T, (int Index, System.Net.Sockets.AddressFamily Family)> key,
        Func<T, string, T> named) where T : class
    {
        var fam = family is { } f ? RtnlValidation.Family(f) : AF_UNSPEC;
        var (names, index) = LinkNamesAndIndex(interfaceName);
        var msgs = _conn.Dump(type, w => write(w, fam, index), what);
        var result = new List<T>(msgs.Count);
        foreach (var m in msgs)
        {
            if (decode(m) is not { } r) continue;
            var (i, af) = key(r);
            if (index != 0 && i != index) continue;
            if (fam != AF_UNSPEC && RtnlValidation.Family(af) != fam) continue;
            result.Add(names.TryGetValue(i, out var n) ? named(r, n) : r);
        }
        return result;
    }
}
