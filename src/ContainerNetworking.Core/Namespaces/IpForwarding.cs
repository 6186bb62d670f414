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

    /// <summary>
    /// Switches forwarding on or off. <c>sysctl -w net.ipv4.ip_forward=1</c> (or net.ipv6.conf.all.forwarding). Switching
    /// IPv6 forwarding on first keeps router advertisements accepted where they were
    /// (<see cref="KeepAcceptingRouterAdvertisements"/>); returns the interfaces whose accept_ra that changed.
    /// </summary>
    public static IReadOnlyList<string> Set(NetNamespace ns, AddressFamily family, bool enabled)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var key = SysctlKey(family);
        IReadOnlyList<string> changed = enabled && family == AddressFamily.InterNetworkV6 ? KeepAcceptingRouterAdvertisements(ns) : [];
        ns.WriteSysctl(key, enabled ? "1" : "0");
        return changed;
    }

    private const string Ipv6Conf = "/proc/sys/net/ipv6/conf";

    /// <summary>
    /// An IPv6 router ignores router advertisements: with forwarding on, an interface whose accept_ra is 1 no longer learns
    /// its default route by SLAAC, and a host that got its IPv6 default route that way loses it when it expires. So before
    /// forwarding goes on, every interface (and "default", for interfaces to come) whose accept_ra is 1 gets 2 (accept even
    /// when forwarding), as <c>sysctl -w net.ipv6.conf.IF.accept_ra=2</c>; 0 (off) and 2 stay as they are. Returns the
    /// names changed (for <see cref="RestoreRouterAdvertisements"/>). Nothing when IPv6 is off.
    /// </summary>
    public static IReadOnlyList<string> KeepAcceptingRouterAdvertisements(NetNamespace ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        return ns.Run(() =>
        {
            var changed = new List<string>();
            if (!Directory.Exists(Ipv6Conf)) return changed;
            foreach (var dir in Directory.GetDirectories(Ipv6Conf).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(dir);
                if (name == "all") continue; // not consulted for accept_ra
                if (Exchange(dir + "/accept_ra", "1", "2")) changed.Add(name);
            }
            return changed;
        });
    }

    /// <summary>Puts accept_ra back to 1 on <paramref name="names"/> where it is still 2 (the undo of <see cref="KeepAcceptingRouterAdvertisements"/>).</summary>
    public static void RestoreRouterAdvertisements(NetNamespace ns, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var list = names.ToList();
        if (list.Count == 0) return;
        ns.Run(() =>
        {
            foreach (var name in list) Exchange(Path.Combine(Ipv6Conf, name, "accept_ra"), "2", "1");
            return 0;
        });
    }

    /// <summary>Writes <paramref name="to"/> into a sysctl file that holds <paramref name="from"/>; false when it holds something else or is gone.</summary>
    private static bool Exchange(string path, string from, string to)
    {
        try
        {
            if (File.ReadAllText(path).Trim() != from) return false;
            File.WriteAllText(path, to);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; } // the interface went meanwhile
    }
}
