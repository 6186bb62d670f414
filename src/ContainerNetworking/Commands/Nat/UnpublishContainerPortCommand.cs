using System.Management.Automation;
using System.Net;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Commands;

/// <summary>
/// Unpublish-ContainerPort: removes published ports, piped from Get-ContainerPort or chosen by host port and protocol,
/// and flushes the connection-tracking entries that still point at them (stale UDP flows):
/// <c>nft delete element inet containernetworking ports4 '{ tcp . 8088 }'</c> then <c>conntrack -D -p tcp --orig-port-dst 8088</c>.
/// </summary>
[Cmdlet(VerbsData.Unpublish, "ContainerPort", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "InputObject")]
[OutputType(typeof(PortMapping))]
public sealed class UnpublishContainerPortCommand : NatCmdlet
{
    /// <summary>The mappings to remove, from Get-ContainerPort or Publish-ContainerPort (their NetNamespace property binds to -NetNamespace).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "InputObject")]
    public PortMapping[] InputObject { get; set; } = [];

    /// <summary>A host port of the mapping to remove; the whole range it belongs to is removed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "HostPort")]
    [ValidateRange(1, 65535)]
    public int[] HostPort { get; set; } = [];

    /// <summary>The protocol of the mapping: tcp (default), udp or sctp.</summary>
    [Parameter(ParameterSetName = "HostPort")]
    [ValidateSet("tcp", "udp", "sctp")]
    public string Protocol { get; set; } = "tcp";

    /// <summary>The host address the mapping is bound to; omit it for a mapping on every host address.</summary>
    [Parameter(ParameterSetName = "HostPort")]
    [Alias("HostIP")]
    public string? HostAddress { get; set; }

    /// <summary>IPv4 (default) or IPv6: which port map to look in when -HostAddress is not given.</summary>
    [Parameter(ParameterSetName = "HostPort")]
    [ValidateSet("IPv4", "IPv6")]
    public NetAddressFamily AddressFamily { get; set; } = NetAddressFamily.IPv4;

    /// <summary>Emit each removed mapping.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        var fw = Firewall(ns);
        if (ParameterSetName == "HostPort")
        {
            IPAddress? host = null;
            if (HostAddress is not null && !Try(HostAddress, () => InputParsing.ParseAddress(HostAddress, "host address"), out host)) return;
            var protocol = ParseProtocol(Protocol);
            var family = InputParsing.ToSocketFamily(AddressFamily)!.Value;
            foreach (var port in HostPort)
            {
                var what = $"host port {(host is null ? "" : host + ":")}{port}/{protocol.ToString().ToLowerInvariant()}{In(ns)}";
                if (!ShouldProcess(what, "Unpublish port")) continue;
                if (Try(port, () => fw.Unpublish(protocol, port, host, family), out var removed) && PassThru) WriteRecord(removed, ns);
            }
            return;
        }
        foreach (var m in InputObject)
        {
            if (!ShouldProcess($"{m}{In(ns)}", "Unpublish port")) continue;
            if (Try(m, () => fw.Unpublish(m), out var removed) && PassThru) WriteRecord(removed, ns);
        }
    }
}
