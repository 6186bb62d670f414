namespace ContainerNetworking.Namespaces;

// The errors of NetNamespace that callers catch by type.

/// <summary>The named namespace does not exist.</summary>
public sealed class NetNamespaceNotFoundException(string name, string message)
    : ContainerNetworkingException("NetNamespaceNotFound", ErrorKind.NotFound, message)
{
    public string NamespaceName { get; } = name;
}

/// <summary>
/// The file is not a network namespace: a plain file (e.g. /run/netns/NAME left by a delete killed between its umount and
/// its unlink, which <see cref="NetNamespace.Delete"/> removes), or a namespace of another type.
/// </summary>
public sealed class NotANetNamespaceException(string path, string message)
    : ContainerNetworkingException("NotANetNamespace", ErrorKind.InvalidArgument, message)
{
    public string NamespacePath { get; } = path;
}

/// <summary>A namespace of that name exists already.</summary>
public sealed class NetNamespaceExistsException(string name, string message)
    : ContainerNetworkingException("NetNamespaceExists", ErrorKind.AlreadyExists, message)
{
    public string NamespaceName { get; } = name;
}
