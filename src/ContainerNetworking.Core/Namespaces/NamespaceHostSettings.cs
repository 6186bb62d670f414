using System.Net;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Namespaces;

/// <summary>
/// The host settings the firewall asks for (<see cref="IHostSettings"/>), made in a namespace: route_localnet through
/// its /proc/sys (never by spawning sysctl), route lookups over its rtnetlink connection.
/// </summary>
internal sealed class NamespaceHostSettings(NetNamespace ns) : IHostSettings
{
    public void SetLoopbackRouting(string interfaceName, bool enabled)
    {
        var key = $"net.ipv4.conf.{interfaceName}.route_localnet";
        var value = enabled ? "1" : "0";
        if (ns.ReadSysctl(key) != value) ns.WriteSysctl(key, value);
    }

    public void SetLoopbackRouting(int interfaceIndex, bool enabled)
    {
        var link = ns.Rtnl.GetLink(interfaceIndex);
        if (link.Name != "lo") SetLoopbackRouting(link.Name, enabled);
    }

    public int? RouteInterfaceIndex(IPAddress destination) => ns.Rtnl.GetRouteTo(destination).OutputInterfaceIndex;
}
