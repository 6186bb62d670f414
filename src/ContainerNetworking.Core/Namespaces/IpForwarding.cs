using System.Net.Sockets;

namespace ContainerNetworking.Namespaces;

/// <summary>
/// IP forwarding of a namespace, read and set through /proc/sys inside it (never by spawning sysctl):
/// IPv4 <c>net.ipv4.ip_forward</c>, IPv6 <c>net.ipv6.conf.all.forwarding</c>.
/// </summary>
public static class IpForwarding
{
    /// <summary>The sysctl key that switches forwarding for a family.</summary>
    public static string SysctlKey(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => "net.ipv4.ip_forward",
        AddressFamily.InterNetworkV6 => "net.ipv6.conf.all.forwarding",
        _ => throw new ContainerNetworkingException("InvalidAddressFamily", ErrorKind.InvalidArgument,
            $"Forwarding exists for IPv4 (InterNetwork) and IPv6 (InterNetworkV6), not for {family}."),
    };

    /// <summary>True when the namespace forwards packets of <paramref name="family"/>. <c>sysctl net.ipv4.ip_forward</c>.</summary>
    public static bool IsEnabled(NetNamespace ns, AddressFamily family)
    {
        ArgumentNullException.ThrowIfNull(ns);
        return ns.ReadSysctl(SysctlKey(family)) != "0";
    }

    /// <summary>Switches forwarding on or off. <c>sysctl -w net.ipv4.ip_forward=1</c> (or net.ipv6.conf.all.forwarding).</summary>
    public static void Set(NetNamespace ns, AddressFamily family, bool enabled)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ns.WriteSysctl(SysctlKey(family), enabled ? "1" : "0");
    }
}
