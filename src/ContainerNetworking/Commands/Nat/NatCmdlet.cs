using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Values;

namespace ContainerNetworking.Commands;

/// <summary>
/// The base of the NAT and port-publishing cmdlets: the namespace's <see cref="ContainerFirewall"/>, the emitted
/// records decorated with the namespace they were read in (NoteProperty <c>NetNamespace</c>, so that
/// <c>Get-ContainerPort -NetNamespace host | Unpublish-ContainerPort</c> acts in that namespace), the bridge subnets
/// a container address must lie in, and the warnings about what would stop the traffic anyway.
/// </summary>
public abstract class NatCmdlet : NamespacedCmdlet
{
    /// <summary>The firewall of the namespace of this call (a cheap wrapper over the namespace's sockets).</summary>
    protected ContainerFirewall Firewall(NetNamespace ns) => new(ns);

    /// <summary>The namespace's name as emitted objects carry it: its name, its path, or null for the current one.</summary>
    protected static string? NamespaceName(NetNamespace ns) => ns.Name ?? (ns.IsCurrent ? null : ns.Path);

    /// <summary>Writes a firewall record with NoteProperty NetNamespace (binds to -NetNamespace down the pipeline).</summary>
    protected void WriteRecord(object record, NetNamespace ns)
    {
        var o = PSObject.AsPSObject(record);
        o.Properties.Add(new PSNoteProperty("NetNamespace", NamespaceName(ns)));
        WriteObject(o);
    }

    /// <summary>
    /// The subnets of the bridges of <paramref name="ns"/> (from their global addresses), with the bridge's name: a
    /// published port's container address must lie in one of them.
    /// </summary>
    protected static IReadOnlyList<(string Bridge, IPNetwork Subnet)> BridgeSubnets(NetNamespace ns)
    {
        var bridges = ns.Rtnl.GetLinks("bridge").ToDictionary(l => l.Index, l => l.Name);
        if (bridges.Count == 0) return [];
        return ns.Rtnl.GetAddresses()
            .Where(a => bridges.ContainsKey(a.InterfaceIndex) && a.Scope != 253 /* RT_SCOPE_LINK: fe80::/64 */)
            .Select(a => (bridges[a.InterfaceIndex], IPPrefix.Network(a.Address, a.PrefixLength)))
            .Distinct()
            .ToList();
    }

    /// <summary>
    /// Warnings for a rule that is in place but would not see traffic: a foreign forward chain whose policy is drop
    /// (<see cref="ContainerFirewall.FindForeignDrops"/>), and forwarding switched off in the namespace. Best effort.
    /// </summary>
    protected void WarnIfTrafficIsStopped(NetNamespace ns, ContainerFirewall fw, AddressFamily family, string rule)
    {
        try
        {
            foreach (var w in fw.FindForeignDrops()) WriteWarning($"{rule}: {w}");
        }
        catch (Exception e) when (ErrorMapping.IsMapped(e))
        {
            WriteVerbose($"Could not read the other tables' forward chains: {e.Message}");
        }
        try
        {
            if (!IpForwarding.IsEnabled(ns, family))
            {
                var name = NamespaceName(ns);
                WriteWarning($"{rule}: {IpForwarding.SysctlKey(family)} is 0{In(ns)}, so packets will not be forwarded between the bridge and the other interfaces " +
                    $"and the rule will see no traffic. Run Enable-IpForwarding{(name is null ? "" : " -NetNamespace " + name)}" +
                    $"{(family == AddressFamily.InterNetworkV6 ? " -AddressFamily IPv6" : "")}.");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException || ErrorMapping.IsMapped(e))
        {
            WriteVerbose($"Could not read {IpForwarding.SysctlKey(family)}: {e.Message}");
        }
    }

    /// <summary>Parses "tcp"/"udp"/"sctp" (validated by ValidateSet already).</summary>
    protected static PortProtocol ParseProtocol(string text) => Ports.ParseProtocol(text);
}
