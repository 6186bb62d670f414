using System.Globalization;
using System.Management.Automation;
using System.Net;
using ContainerNetworking.Model;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Commands;

/// <summary>
/// Publish-ContainerPort: makes a container's port reachable through a host port, as <c>docker run -p 8088:80</c>:
/// one element in the module's port map, <c>nft add element inet containernetworking ports4 '{ tcp . 8088 : 192.168.0.2 . 80 }'</c>
/// (the nf_tables form of <c>iptables -t nat -A PREROUTING -p tcp --dport 8088 -j DNAT --to-destination 192.168.0.2:80</c>).
/// </summary>
[Cmdlet(VerbsData.Publish, "ContainerPort", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Port")]
[OutputType(typeof(PortMapping))]
public sealed class PublishContainerPortCommand : NatCmdlet
{
    /// <summary>The host port, e.g. 8088, or a range, e.g. '8000-8010' (or 8000 with -HostPortEnd 8010).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = "Port")]
    public string HostPort { get; set; } = "";

    /// <summary>The last host port of a range that starts at -HostPort.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = "Port")]
    public int? HostPortEnd { get; set; }

    /// <summary>The container's address the traffic goes to, e.g. 192.168.0.2; it must lie in the subnet of a bridge of the namespace.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = "Port")]
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = "Publish")]
    [Alias("IPAddress")]
    public string ContainerAddress { get; set; } = "";

    /// <summary>The container's port, e.g. 80, or a range of the host range's length, e.g. '80-90'.</summary>
    [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true, ParameterSetName = "Port")]
    public string ContainerPort { get; set; } = "";

    /// <summary>The last container port of a range that starts at -ContainerPort.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = "Port")]
    public int? ContainerPortEnd { get; set; }

    /// <summary>The protocol: tcp (default), udp or sctp.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = "Port")]
    [ValidateSet("tcp", "udp", "sctp")]
    public string Protocol { get; set; } = "tcp";

    /// <summary>Publish on this host address only (e.g. 127.0.0.1); every host address when omitted.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = "Port")]
    [Alias("HostIP")]
    public string? HostAddress { get; set; }

    /// <summary>Ports in Docker's notation: '8088:80', '127.0.0.1:8080:80/tcp', '8000-8010:80-90/udp'; '80' or '127.0.0.1::80' choose a free host port from 49153-65535.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Publish")]
    [Alias("p")]
    public string[] Publish { get; set; } = [];

    /// <summary>Who the mapping belongs to (a container name, a runbook); written into the map elements' comments and shown by Get-ContainerPort.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Owner { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        if (!Try(ContainerAddress, () => InputParsing.ParseAddress(ContainerAddress, "container address"), out var container)) return;
        var specs = new List<PortMappingSpec>();
        var fw = Firewall(ns);
        if (ParameterSetName == "Publish")
        {
            foreach (var text in Publish)
            {
                // all or nothing: one string that cannot be parsed publishes none of them
                if (!Try(text, () => FromDocker(fw, PortSpec.Parse(text), container, specs), out var s)) return;
                specs.AddRange(s);
            }
        }
        else
        {
            if (!Try(HostPort, () => Range(HostPort, HostPortEnd, "host port", "-HostPortEnd"), out var host)) return;
            if (!Try(ContainerPort, () => Range(ContainerPort, ContainerPortEnd, "container port", "-ContainerPortEnd"), out var ctr)) return;
            IPAddress? hostAddress = null;
            if (HostAddress is not null && !Try(HostAddress, () => InputParsing.ParseAddress(HostAddress, "host address"), out hostAddress)) return;
            specs.Add(new PortMappingSpec(ParseProtocol(Protocol), host.Start, container, ctr.Start)
                { HostPortEnd = host.End, ContainerPortEnd = ctr.End, HostAddress = hostAddress, Owner = Owner });
        }
        if (specs.Count == 0) return;

        if (!Try(ns, () => BridgeSubnets(ns), out var bridgeSubnets)) return;
        var subnets = bridgeSubnets.Select(b => b.Subnet).Distinct().ToList();
        if (subnets.Count == 0)
        {
            WriteError("ContainerAddressOutsideSubnets", ErrorCategory.InvalidArgument,
                $"No bridge{In(ns)} has an address, so {container} cannot be a container on one of its networks. Create the bridge and give it the network's gateway address first " +
                $"(New-NetBridge br0 -Up; New-NetIPAddress br0 192.168.0.1/24{(NamespaceName(ns) is { } n ? " with -NetNamespace " + n : "")}), or publish in the namespace that holds the container's bridge.", container);
            return;
        }
        // Every mapping of one call in one batch: all of them or none (as docker run -p … -p … does).
        var approved = specs.Where(spec => ShouldProcess($"{Describe(spec)}{In(ns)}", "Publish port")).ToList();
        if (approved.Count == 0) return;
        object target = approved.Count == 1 ? approved[0] : approved;
        if (!Try(target, () => fw.Publish(approved, subnets), out var mappings)) return;
        WarnIfTrafficIsStopped(ns, fw, container.AddressFamily, $"Published port {mappings[0]}");
        foreach (var m in mappings)
        {
            if (WarnIfLoopbackUnreachable(ns, m, bridgeSubnets)) break;
        }
        foreach (var mapping in mappings) WriteRecord(mapping, ns);
    }

    /// <summary>
    /// A mapping that answers on 127.0.0.1 (every host address, or 127.x) reaches the container from the host's loopback
    /// only when the container's bridge has route_localnet. Publishing sets it on the interface that leads to the
    /// container (on that interface only); this read-only check warns when that could not be done. Best effort.
    /// </summary>
    private bool WarnIfLoopbackUnreachable(Namespaces.NetNamespace ns, PortMapping m, IReadOnlyList<(string Bridge, IPNetwork Subnet)> bridges)
    {
        if (m.ContainerAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork) return false;
        if (m.HostAddress is { } h && !IPAddress.IsLoopback(h)) return false;
        var bridge = bridges.FirstOrDefault(b => b.Subnet.Contains(m.ContainerAddress)).Bridge;
        if (bridge is null) return false;
        try
        {
            if (ns.ReadSysctl($"net.ipv4.conf.{bridge}.route_localnet") != "0") return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException || ErrorMapping.IsMapped(e))
        {
            return false;
        }
        WriteWarning($"Published port {m}: connections from this host to {m.HostAddress ?? IPAddress.Loopback}:{m.HostPort} will not reach {m.ContainerAddress}, " +
            $"because net.ipv4.conf.{bridge}.route_localnet is 0{In(ns)} (the kernel does not route loopback-sourced packets out of {bridge}). " +
            "Other machines, containers and the host's other addresses are not affected. For 127.0.0.1 too, check that the container's address is routed through that bridge, then publish again.");
        return true;
    }

    /// <summary>Docker's string → specs: explicit host ports as one range; chosen host ports (none given, or a host range for one container port) from what is free.</summary>
    private IReadOnlyList<PortMappingSpec> FromDocker(ContainerFirewall fw, PortSpec p, IPAddress container, IReadOnlyList<PortMappingSpec> earlier)
    {
        if (!p.ChoosesHostPort && p.HostPortEnd - p.HostPortStart + 1 == p.ContainerPortCount)
            return [new PortMappingSpec(p.Protocol, p.HostPortStart, container, p.ContainerPortStart)
                { HostPortEnd = p.HostPortEnd, ContainerPortEnd = p.ContainerPortEnd, HostAddress = p.HostIp, Owner = Owner }];
        // taken: published already, or chosen by an earlier string of this call
        var published = fw.GetPublishedPorts().Select(m => (m.Protocol, m.HostAddress, m.HostPort, End: m.HostPortEnd, m.ContainerAddress))
            .Concat(earlier.Select(e => (e.Protocol, e.HostAddress, e.HostPort, End: e.HostPortEnd ?? e.HostPort, e.ContainerAddress))).ToList();
        bool Taken(PublishedPort x) => published.Any(m => m.Protocol == x.Protocol &&
            m.ContainerAddress.AddressFamily == container.AddressFamily &&
            (m.HostAddress is null || x.HostIp is null || m.HostAddress.Equals(x.HostIp)) &&
            m.HostPort <= x.HostPort && x.HostPort <= m.End);
        return p.Resolve(Taken).Select(x => new PortMappingSpec(x.Protocol, x.HostPort, container, x.ContainerPort) { HostAddress = x.HostIp, Owner = Owner }).ToList();
    }

    /// <summary>"8088", "8000-8010", or a start with an -…End parameter. The core checks 1–65535 (InvalidPort) and the ranges' lengths.</summary>
    private static (int Start, int? End) Range(string text, int? end, string what, string endParameter)
    {
        var t = text.Trim();
        var dash = t.IndexOf('-', 1);
        if (dash > 0)
        {
            if (end is not null)
                throw new ContainerNetworkingException("ConflictingArguments", ErrorKind.InvalidArgument,
                    $"The {what} range is given twice: '{text}' and {endParameter} {end}. Give the range as '{t}' or as a start port with {endParameter}.");
            return (Port(t[..dash], text, what), Port(t[(dash + 1)..], text, what));
        }
        return (Port(t, text, what), end);
    }

    private static int Port(string part, string text, string what)
    {
        if (int.TryParse(part.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var p)) return p;
        throw new ContainerNetworkingException("InvalidPort", ErrorKind.InvalidArgument,
            $"'{text}' is not a {what}: give a number from 1 to 65535, or a range such as 8000-8010.");
    }

    private static string Describe(PortMappingSpec s)
    {
        var host = s.HostAddress is null ? "" : s.HostAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{s.HostAddress}]:" : $"{s.HostAddress}:";
        var hostEnd = s.HostPortEnd is { } he && he != s.HostPort ? "-" + he : "";
        var ctrEnd = s.ContainerPortEnd is { } ce && ce != s.ContainerPort ? "-" + ce : s.HostPortEnd is { } h && h != s.HostPort ? "-" + (s.ContainerPort + h - s.HostPort) : "";
        return $"host port {host}{s.HostPort}{hostEnd}/{s.Protocol.ToString().ToLowerInvariant()} to {s.ContainerAddress}:{s.ContainerPort}{ctrEnd}";
    }
}
