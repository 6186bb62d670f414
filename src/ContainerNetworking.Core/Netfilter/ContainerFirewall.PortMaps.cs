using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using static ContainerNetworking.Netfilter.FirewallLayout;

namespace ContainerNetworking.Netfilter;

// The published-port maps' elements: a mapping checked and normalized, its keys (protocol . port, address . protocol . port) and data (address . port).
public sealed partial class ContainerFirewall
{
    private sealed record Normalized(PortProtocol Protocol, IPAddress? HostAddress, int HostPort, int HostPortEnd,
        IPAddress ContainerAddress, int ContainerPort, int ContainerPortEnd, string? Owner)
    {
        public bool V6 => IsV6(ContainerAddress);
        public string Map => (V6, HostAddress is not null) switch
        {
            (false, false) => MapPorts4, (false, true) => MapHostPorts4, (true, false) => MapPorts6, _ => MapHostPorts6,
        };
        /// <summary>The range the comment names, when this is part of a range published earlier (see <see cref="PortMappingSpec.PublishedRange"/>).</summary>
        public (int First, int Last)? Range { get; init; }
        public string Comment => RuleComment.ForPublish(Range?.First ?? HostPort, Range?.Last ?? HostPortEnd, Owner);
    }

    private static Normalized Validate(PortMappingSpec spec, IReadOnlyList<IPNetwork>? allowedContainerSubnets)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!Enum.IsDefined(spec.Protocol))
            throw Invalid("InvalidProtocol", $"Unknown protocol number {(byte)spec.Protocol}: ports can be published for tcp, udp or sctp.");
        static void Port(int p, string what) => Ports.Validate(p, what);
        Port(spec.HostPort, "host port");
        Port(spec.ContainerPort, "container port");
        var hostEnd = spec.HostPortEnd ?? spec.HostPort;
        Port(hostEnd, "last host port");
        if (hostEnd < spec.HostPort)
            throw Invalid("InvalidPortRange", $"The host port range {spec.HostPort}-{hostEnd} ends before it starts: give the lower port first.");
        var length = hostEnd - spec.HostPort;
        var containerEnd = spec.ContainerPortEnd ?? spec.ContainerPort + length;
        Port(containerEnd, "last container port");
        if (containerEnd < spec.ContainerPort)
            throw Invalid("InvalidPortRange", $"The container port range {spec.ContainerPort}-{containerEnd} ends before it starts: give the lower port first.");
        if (containerEnd - spec.ContainerPort != length)
            throw Invalid("InvalidPortRange", $"The host port range {spec.HostPort}-{hostEnd} ({length + 1} ports) and the container port range " +
                $"{spec.ContainerPort}-{containerEnd} ({containerEnd - spec.ContainerPort + 1} ports) differ in length: give ranges of the same length.");
        if (length + 1 > MaxRangeLength)
            throw new ContainerNetworkingException("PortRangeTooLarge", ErrorKind.LimitsExceeded,
                $"The range {spec.HostPort}-{hostEnd} has {length + 1} ports; at most {MaxRangeLength} can be published at once: split it.");
        if (spec.ContainerAddress is null)
            throw Invalid("InvalidAddress", "The container address is missing: give the container's IPv4 or IPv6 address.");
        var container = Normalize(spec.ContainerAddress);
        if (container.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) ||
            container.Equals(IPAddress.Any) || container.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(container) ||
            (IsV6(container) ? container.IsIPv6Multicast : (container.GetAddressBytes()[0] & 0xf0) == 0xe0) || container.Equals(IPAddress.Broadcast))
            throw Invalid("InvalidAddress", $"{spec.ContainerAddress} cannot be a container's address: give the unicast address of the container on its bridge.");
        IPAddress? host = spec.HostAddress is null ? null : Normalize(spec.HostAddress);
        if (host is not null && (host.Equals(IPAddress.Any) || host.Equals(IPAddress.IPv6Any))) host = null;
        if (host is not null && IsV6(host) != IsV6(container))
            throw Invalid("InvalidAddress", $"The host address {host} and the container address {container} are of different families: publish IPv4 to IPv4 and IPv6 to IPv6.");
        if (host is not null && IsV6(host) && IPAddress.IsLoopback(host))
            throw Invalid("InvalidAddress", "Ports cannot be published on ::1: the kernel never routes IPv6 loopback traffic out of the host. Publish on 127.0.0.1 or on all addresses.");
        if (allowedContainerSubnets is not null && !allowedContainerSubnets.Any(n => n.Contains(container)))
            throw Invalid("ContainerAddressOutsideSubnets", $"The container address {container} is outside every bridge's subnet ({string.Join(", ", allowedContainerSubnets)}): " +
                "give the address the container has on one of those networks.");
        CheckOwner(spec.Owner);
        return new Normalized(spec.Protocol, host, spec.HostPort, hostEnd, container, spec.ContainerPort, containerEnd, spec.Owner)
        {
            Range = spec.PublishedRange is { } r && r.First <= spec.HostPort && hostEnd <= r.Last ? r : null,
        };
    }

    private static byte[] Key(Normalized n, int hostPort)
    {
        var addr = n.HostAddress?.GetAddressBytes() ?? [];
        var k = new byte[addr.Length + 8];
        addr.CopyTo(k, 0);
        k[addr.Length] = (byte)n.Protocol;
        BinaryPrimitives.WriteUInt16BigEndian(k.AsSpan(addr.Length + 4), (ushort)hostPort);
        return k;
    }

    private static byte[] Data(IPAddress container, int port)
    {
        var a = container.GetAddressBytes();
        var d = new byte[a.Length + 4];
        a.CopyTo(d, 0);
        BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(a.Length), (ushort)port);
        return d;
    }

    private static string Describe(Normalized n) =>
        $"{(n.HostAddress is null ? "" : n.HostAddress + ":")}{n.HostPort}{(n.HostPortEnd != n.HostPort ? "-" + n.HostPortEnd : "")}/{n.Protocol.ToString().ToLowerInvariant()}";

    private static string DescribeElement(NftSetElement e, bool bound, int alen)
    {
        var off = bound ? alen : 0;
        var host = bound ? new IPAddress(e.Key.AsSpan(0, alen)) + ":" : "";
        var hp = BinaryPrimitives.ReadUInt16BigEndian(e.Key.AsSpan(off + 4));
        var proto = ((PortProtocol)e.Key[off]).ToString().ToLowerInvariant();
        var to = e.Data is { } d && d.Length >= alen + 2 ? $" -> {new IPAddress(d.AsSpan(0, alen))}:{BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(alen))}" : "";
        return $"{host}{hp}/{proto}{to}{(e.Comment is { } c ? " " + c : "")}";
    }
}
