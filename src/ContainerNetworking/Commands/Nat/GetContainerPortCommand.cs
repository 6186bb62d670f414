using System.Management.Automation;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Commands;

/// <summary>
/// Get-ContainerPort: lists the published ports with their packet and byte counters, as <c>docker port</c> does
/// (<c>nft list map inet containernetworking ports4</c>, <c>iptables -t nat -L DOCKER -v</c>).
/// </summary>
[Cmdlet(VerbsCommon.Get, "ContainerPort")]
[OutputType(typeof(PortMapping))]
public sealed class GetContainerPortCommand : NatCmdlet
{
    /// <summary>Only the mappings that hold these host ports (a port inside a published range matches that range).</summary>
    [Parameter(Position = 0)]
    [ValidateRange(1, 65535)]
    public int[]? HostPort { get; set; }

    /// <summary>Only mappings of this protocol: tcp, udp or sctp.</summary>
    [Parameter]
    [ValidateSet("tcp", "udp", "sctp")]
    public string? Protocol { get; set; }

    /// <summary>Only mappings to these container addresses; wildcards allowed (192.168.0.*).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("IPAddress")]
    [SupportsWildcards]
    public string[]? ContainerAddress { get; set; }

    /// <summary>Only mappings of these owners; wildcards allowed.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Owner { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        if (!Try(ns, () => Firewall(ns).GetPublishedPorts(), out var all)) return;
        PortProtocol? protocol = Protocol is null ? null : ParseProtocol(Protocol);
        var addresses = ContainerAddress?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
        var owners = Owner?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
        foreach (var m in all)
        {
            if (protocol is { } p && m.Protocol != p) continue;
            if (HostPort is { Length: > 0 } && !HostPort.Any(h => m.HostPort <= h && h <= m.HostPortEnd)) continue;
            if (addresses is { Length: > 0 } && !addresses.Any(a => a.IsMatch(m.ContainerAddress.ToString()))) continue;
            if (owners is { Length: > 0 } && (m.Owner is null || !owners.Any(o => o.IsMatch(m.Owner)))) continue;
            WriteRecord(m, ns);
        }
    }
}
