using System.Net;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Model;

/// <summary>
/// One published port, resolved: traffic to <see cref="HostPort"/> (on <see cref="HostIp"/>, or on every host
/// address when null) is forwarded to <see cref="ContainerPort"/> of the endpoint. What Docker's
/// <c>-p 127.0.0.1:8080:80/tcp</c> becomes after parsing, one per port.
/// </summary>
public sealed record PublishedPort(IPAddress? HostIp, ushort HostPort, ushort ContainerPort, PortProtocol Protocol)
{
    /// <summary>Docker's notation, e.g. "127.0.0.1:8080:80/tcp" or "8088:80/tcp".</summary>
    public override string ToString()
    {
        var proto = Protocol.ToString().ToLowerInvariant();
        var host = HostIp is null ? "" : HostIp.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{HostIp}]:" : $"{HostIp}:";
        return $"{host}{HostPort}:{ContainerPort}/{proto}";
    }

    /// <summary>
    /// True when the two would claim the same host port: same protocol, and host addresses that overlap (none: every
    /// address of both families; 0.0.0.0 or ::, every address of its family; else that address).
    /// </summary>
    public bool ConflictsWith(PublishedPort other) =>
        Protocol == other.Protocol && HostPort == other.HostPort && Overlap(HostIp, other.HostIp);

    private static bool Overlap(IPAddress? a, IPAddress? b) =>
        a is null || b is null || (a.AddressFamily == b.AddressFamily && (IsWildcard(a) || IsWildcard(b) || a.Equals(b)));

    /// <summary>0.0.0.0 or ::, the wildcard of one family.</summary>
    public static bool IsWildcard(IPAddress a) => a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any);

    /// <summary>
    /// True when the port is published for <paramref name="family"/>: with no host address for both families (Docker's
    /// bare <c>8080:80</c> on a dual-stack network), else for the host address's family only (<c>0.0.0.0:8080:80</c>
    /// IPv4, <c>[::]:8080:80</c> IPv6, <c>[fd00::1]:8080:80</c> IPv6 on that address).
    /// </summary>
    public bool Covers(System.Net.Sockets.AddressFamily family) => HostIp is null || HostIp.AddressFamily == family;
}

/// <summary>
/// A parsed <c>-p</c>/<c>--publish</c> string before host ports are chosen:
/// <c>[hostIp:][hostPort[-end]:]containerPort[-end][/tcp|udp|sctp]</c>, with an IPv6 host address in brackets
/// (<c>[fd00::1]:8080:80</c>). Without a host address the port is published for both families of the endpoint;
/// <c>0.0.0.0</c> is every IPv4 address, <c>[::]</c> every IPv6 address. A host port of 0 (absent, or <c>127.0.0.1::80</c>) means "choose a free one".
/// </summary>
public sealed record PortSpec(IPAddress? HostIp, ushort HostPortStart, ushort HostPortEnd, ushort ContainerPortStart, ushort ContainerPortEnd, PortProtocol Protocol)
{
    /// <summary>The range host ports are chosen from when none is given (Docker's default: 49153–65535).</summary>
    public const ushort EphemeralFirst = 49153;
    public const ushort EphemeralLast = 65535;

    public int ContainerPortCount => ContainerPortEnd - ContainerPortStart + 1;
    public bool ChoosesHostPort => HostPortStart == 0;

    /// <summary>True when host ports are chosen (none given, or a host range for fewer container ports), not given one for one.</summary>
    public bool ChoosesHostPorts => ChoosesHostPort || HostPortEnd - HostPortStart + 1 != ContainerPortCount;

    /// <summary>Parses Docker's notation; "InvalidPortSpec" with the reason and an example when it is wrong.</summary>
    public static PortSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Trim();
        if (s.Length == 0) throw Bad(text, "it is empty");
        var proto = PortProtocol.Tcp;
        var slash = s.LastIndexOf('/');
        if (slash >= 0)
        {
            var p = s[(slash + 1)..];
            if (!Ports.TryParseProtocol(p, out proto)) throw Bad(text, $"'{p.ToLowerInvariant()}' is not a protocol (use tcp, udp or sctp)");
            s = s[..slash];
        }
        IPAddress? hostIp = null;
        if (s.StartsWith('['))
        {
            var close = s.IndexOf(']');
            if (close < 0 || close + 1 >= s.Length || s[close + 1] != ':') throw Bad(text, "an IPv6 host address must be written as [addr]:hostPort:containerPort");
            if (!IPAddress.TryParse(s.AsSpan(1, close - 1), out hostIp) || hostIp.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
                throw Bad(text, $"'{s[1..close]}' is not an IPv6 address");
            s = s[(close + 2)..];
            if (!s.Contains(':')) s = ":" + s; // "[::1]:80" is not valid; "[::1]::80" and "[::1]:8080:80" are
        }
        var parts = s.Split(':');
        string hostPart, containerPart;
        switch (parts.Length)
        {
            case 1:
                if (hostIp is not null) throw Bad(text, "a host address needs a host port part too, e.g. 127.0.0.1::80 or 127.0.0.1:8080:80");
                hostPart = ""; containerPart = parts[0]; break;
            case 2:
                hostPart = parts[0]; containerPart = parts[1]; break;
            case 3 when hostIp is null:
                if (parts[0].Count(c => c == '.') != 3 || !IPAddress.TryParse(parts[0], out hostIp) || hostIp.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
                    throw Bad(text, $"'{parts[0]}' is not an IPv4 address (write IPv6 host addresses in brackets: [::1]:8080:80)");
                hostPart = parts[1]; containerPart = parts[2]; break;
            default:
                throw Bad(text, "too many ':' (the form is [hostIp:][hostPort:]containerPort[/protocol]; IPv6 addresses go in brackets)");
        }
        // 0.0.0.0 and [::] stay: each is its family's wildcard; no address at all means both families.
        var (cs, ce) = Range(text, containerPart, "container port");
        if (cs == 0) throw Bad(text, "the container port is missing");
        ushort hs = 0, he = 0;
        if (hostPart.Length > 0)
        {
            (hs, he) = Range(text, hostPart, "host port");
            var hostCount = he - hs + 1;
            var containerCount = ce - cs + 1;
            if (containerCount > 1 && hostCount != containerCount)
                throw Bad(text, $"the host range {hs}-{he} has {hostCount} ports but the container range {cs}-{ce} has {containerCount}; give ranges of equal length");
        }
        return new PortSpec(hostIp, hs, he, cs, ce, proto);
    }

    private static (ushort, ushort) Range(string text, string part, string what) =>
        Ports.TryParseRange(part, what, out var first, out var last) is { } why ? throw Bad(text, why) : ((ushort)first, (ushort)last);

    private static ContainerNetworkingException Bad(string text, string why) =>
        new("InvalidPortSpec", ErrorKind.InvalidArgument,
            $"Cannot publish '{text}': {why}. Examples: '8088:80', '127.0.0.1:8080:80/tcp', '8000-8010:80-90/udp', '80' (host port chosen).");

    /// <summary>
    /// Resolves to concrete mappings. Host ports that must be chosen (none given, or a host range for a single
    /// container port) are the first in the given range (or 49153–65535) for which <paramref name="isTaken"/>
    /// is false. "PortAlreadyAllocated" when an explicit port is taken or no port in the range is free.
    /// </summary>
    public IReadOnlyList<PublishedPort> Resolve(Func<PublishedPort, bool> isTaken) =>
        Resolve(m => isTaken(m) ? new ContainerNetworkingException("PortAlreadyAllocated", ErrorKind.AlreadyExists,
            $"Host port {m.HostPort}/{Protocol.ToString().ToLowerInvariant()}{(HostIp is null ? "" : " on " + HostIp)} is already published by another endpoint. Publish on another host port, or unpublish the other one first.") : null);

    /// <summary>
    /// Resolves to concrete mappings, <paramref name="conflict"/> saying why a host port cannot be had (null: it is free):
    /// an explicit port that conflicts fails with that error; a chosen one is the first in the given range (or
    /// 49153–65535) without a conflict ("PortAlreadyAllocated" when there is none).
    /// </summary>
    public IReadOnlyList<PublishedPort> Resolve(Func<PublishedPort, ContainerNetworkingException?> conflict)
    {
        var result = new List<PublishedPort>();
        ContainerNetworkingException? Conflict(PublishedPort m) =>
            result.Any(r => r.ConflictsWith(m))
                ? new ContainerNetworkingException("PortAlreadyAllocated", ErrorKind.AlreadyExists,
                    $"Host port {m.HostPort}/{Protocol.ToString().ToLowerInvariant()} is given twice. Give each host port once.")
                : conflict(m);
        var count = ContainerPortCount;
        if (!ChoosesHostPorts)
        {
            for (var i = 0; i < count; i++)
            {
                var m = new PublishedPort(HostIp, (ushort)(HostPortStart + i), (ushort)(ContainerPortStart + i), Protocol);
                if (Conflict(m) is { } e) throw e;
                result.Add(m);
            }
            return result;
        }
        ushort first = ChoosesHostPort ? EphemeralFirst : HostPortStart, last = ChoosesHostPort ? EphemeralLast : HostPortEnd;
        for (var i = 0; i < count; i++)
        {
            PublishedPort? pick = null;
            for (int p = first; p <= last; p++)
            {
                var m = new PublishedPort(HostIp, (ushort)p, (ushort)(ContainerPortStart + i), Protocol);
                if (Conflict(m) is null) { pick = m; break; }
            }
            result.Add(pick ?? throw new ContainerNetworkingException("PortAlreadyAllocated", ErrorKind.LimitsExceeded,
                $"No free host port is left in {first}-{last} for container port {ContainerPortStart + i}/{Protocol.ToString().ToLowerInvariant()}. Give an explicit host port or a wider range."));
        }
        return result;
    }
}
