using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ContainerNetworking.Cluster;

/// <summary>How a node reaches the pod subnets of the others.</summary>
public enum ClusterBackend
{
    /// <summary>flannel's vxlan: a VXLAN device (flannel.VNI) with a route, a neighbour and an FDB entry per other node.</summary>
    Vxlan,
    /// <summary>flannel's host-gw: a route per other node via its public address (the nodes share one layer-2 segment).</summary>
    HostGateway,
}

/// <summary>
/// A cluster network's config as flannel keeps it at PREFIX/config:
/// <c>{"Network":"10.244.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan","VNI":1,"Port":8472}}</c>.
/// </summary>
public sealed record ClusterConfig
{
    /// <summary>flannel's key prefix.</summary>
    public const string DefaultPrefix = "/coreos.com/network";

    public IPNetwork Network { get; init; }
    public int SubnetLength { get; init; } = 24;
    public ClusterBackend Backend { get; init; } = ClusterBackend.Vxlan;
    public int Vni { get; init; } = 1;
    public int Port { get; init; } = 8472;

    /// <summary>The first and last subnet handed out (flannel's SubnetMin/SubnetMax); the network's second and last by default.</summary>
    public IPNetwork SubnetMin { get; init; }
    public IPNetwork SubnetMax { get; init; }

    /// <summary>The etcd endpoint(s) the config was read from.</summary>
    public string Store { get; init; } = "";
    public string Prefix { get; init; } = DefaultPrefix;

    /// <summary>The backend's name in flannel's config and leases: "vxlan" or "host-gw".</summary>
    public string BackendType => TypeName(Backend);

    public static string TypeName(ClusterBackend b) => b == ClusterBackend.Vxlan ? "vxlan" : "host-gw";

    /// <summary>A config with flannel's defaults filled in; validated (InvalidClusterConfig).</summary>
    public static ClusterConfig Create(IPNetwork network, int subnetLength, ClusterBackend backend, int vni = 1, int port = 8472,
        string store = "", string prefix = DefaultPrefix)
    {
        if (network.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            throw Invalid($"The cluster network {network} is not IPv4. Give an IPv4 prefix such as 10.244.0.0/16.");
        var bytes = network.BaseAddress.GetAddressBytes();
        if (!new IPNetwork(network.BaseAddress, network.PrefixLength).Equals(Subnets.Normalize(network)))
            throw Invalid($"The cluster network {network} has host bits set. Give its network address, e.g. {Subnets.Normalize(network)}.");
        if (subnetLength <= network.PrefixLength || subnetLength > 30)
            throw Invalid($"A subnet length of {subnetLength} does not fit the cluster network {network}: give a length between {network.PrefixLength + 1} and 30 (flannel's default is 24).");
        if (vni is < 1 or > 0xFFFFFF) throw Invalid($"VNI {vni} is out of range: give 1-16777215.");
        if (port is < 1 or > 65535) throw Invalid($"UDP port {port} is out of range: give 1-65535 (flannel uses 8472).");
        _ = bytes;
        var count = 1L << (subnetLength - network.PrefixLength);
        return new ClusterConfig
        {
            Network = network, SubnetLength = subnetLength, Backend = backend, Vni = vni, Port = port,
            SubnetMin = Subnets.Nth(network, subnetLength, 1), SubnetMax = Subnets.Nth(network, subnetLength, count - 1),
            Store = store, Prefix = prefix,
        };
    }

    internal static ContainerNetworkingException Invalid(string message) => new("InvalidClusterConfig", ErrorKind.InvalidArgument, message);

    public string ToJson()
    {
        var backend = new JsonObject { ["Type"] = BackendType };
        if (Backend == ClusterBackend.Vxlan)
        {
            backend["VNI"] = Vni;
            backend["Port"] = Port;
        }
        var o = new JsonObject { ["Network"] = Network.ToString(), ["SubnetLen"] = SubnetLength, ["Backend"] = backend };
        return o.ToJsonString();
    }

    /// <summary>Reads flannel's config JSON; a config that is not flannel's gives InvalidClusterConfig naming the key.</summary>
    public static ClusterConfig Parse(string json, string store, string prefix)
    {
        try
        {
            var o = JsonNode.Parse(json)!.AsObject();
            var network = IPNetwork.Parse((string)o["Network"]!);
            var len = o["SubnetLen"] is { } l ? (int)l : 24;
            var b = o["Backend"]?.AsObject();
            var type = (string?)b?["Type"] ?? "udp";
            var backend = type switch
            {
                "vxlan" => ClusterBackend.Vxlan,
                "host-gw" => ClusterBackend.HostGateway,
                _ => throw Invalid($"The cluster config at {prefix}/config uses backend '{type}': this module supports vxlan and host-gw."),
            };
            var c = Create(network, len, backend, b?["VNI"] is { } v ? (int)v : 1, b?["Port"] is { } p ? (int)p : 8472, store, prefix);
            if (o["SubnetMin"] is { } min) c = c with { SubnetMin = new IPNetwork(IPAddress.Parse((string)min!), len) };
            if (o["SubnetMax"] is { } max) c = c with { SubnetMax = new IPNetwork(IPAddress.Parse((string)max!), len) };
            return c;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NullReferenceException or ArgumentException)
        {
            throw new ContainerNetworkingException("InvalidClusterConfig", ErrorKind.InvalidArgument,
                $"The cluster config at {prefix}/config is not flannel's format ({e.Message}): {json}. Remove it (Remove-ContainerCluster) and create it again with New-ContainerCluster.", e);
        }
    }
}

/// <summary>
/// One node's subnet lease, as flannel keeps it at PREFIX/subnets/10.244.1.0-24:
/// <c>{"PublicIP":"192.168.56.11","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"…"}}</c>, tied to an etcd lease
/// (TTL). <see cref="Node"/> is written as an extra "Node" key, which flannel ignores.
/// </summary>
public sealed record ClusterNodeLease
{
    public IPNetwork Subnet { get; init; }
    public IPAddress PublicIP { get; init; } = IPAddress.None;
    public string BackendType { get; init; } = "vxlan";
    public int? Vni { get; init; }
    public string? VtepMac { get; init; }

    /// <summary>The node's name (its namespace, or the machine's host name); null in leases flannel wrote.</summary>
    public string? Node { get; init; }

    /// <summary>When the etcd lease runs out unless renewed; null when unknown.</summary>
    public DateTimeOffset? Expires { get; init; }

    public long LeaseId { get; init; }
    public string Key { get; init; } = "";
    public long ModRevision { get; init; }

    /// <summary>The value as stored (compared in transactions).</summary>
    public string Value { get; init; } = "";

    public static string SubnetKey(string prefix, IPNetwork subnet) =>
        $"{prefix}/subnets/{subnet.BaseAddress}-{subnet.PrefixLength.ToString(CultureInfo.InvariantCulture)}";

    public static string ToJson(IPAddress publicIp, string backendType, int? vni, string? vtepMac, string? node)
    {
        var o = new JsonObject { ["PublicIP"] = publicIp.ToString(), ["BackendType"] = backendType };
        if (vtepMac is not null) o["BackendData"] = new JsonObject { ["VNI"] = vni ?? 1, ["VtepMAC"] = vtepMac };
        else o["BackendData"] = null;
        if (node is not null) o["Node"] = node;
        return o.ToJsonString();
    }

    /// <summary>Parses a lease key and value; null for keys that are not leases or values that are not flannel's.</summary>
    public static ClusterNodeLease? Parse(string prefix, string key, string value)
    {
        var head = prefix + "/subnets/";
        if (!key.StartsWith(head, StringComparison.Ordinal)) return null;
        var name = key[head.Length..];
        var dash = name.LastIndexOf('-');
        if (dash < 0 || !IPAddress.TryParse(name[..dash], out var ip) || !int.TryParse(name[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var len)) return null;
        try
        {
            var o = JsonNode.Parse(value)!.AsObject();
            var data = o["BackendData"] as JsonObject;
            return new ClusterNodeLease
            {
                Subnet = new IPNetwork(ip, len),
                PublicIP = IPAddress.Parse((string)o["PublicIP"]!),
                BackendType = (string?)o["BackendType"] ?? "",
                Vni = data?["VNI"] is { } v ? (int)v : null,
                VtepMac = ((string?)data?["VtepMAC"])?.ToLowerInvariant(),
                Node = (string?)o["Node"],
                Key = key,
                Value = value,
            };
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NullReferenceException or ArgumentException)
        {
            return null;
        }
    }
}

/// <summary>Subnet arithmetic for lease allocation.</summary>
public static class Subnets
{
    public static IPNetwork Normalize(IPNetwork n) => new(FromUInt(ToUInt(n.BaseAddress) & Mask(n.PrefixLength)), n.PrefixLength);

    /// <summary>The <paramref name="index"/>-th subnet of length <paramref name="length"/> inside <paramref name="network"/>.</summary>
    public static IPNetwork Nth(IPNetwork network, int length, long index) =>
        new(FromUInt((uint)(ToUInt(network.BaseAddress) + (index << (32 - length)))), length);

    /// <summary>The candidate subnets from min to max, in order (flannel's first subnet is skipped by SubnetMin).</summary>
    public static IEnumerable<IPNetwork> Range(ClusterConfig c)
    {
        var step = 1u << (32 - c.SubnetLength);
        for (ulong a = ToUInt(c.SubnetMin.BaseAddress); a <= ToUInt(c.SubnetMax.BaseAddress); a += step)
            yield return new IPNetwork(FromUInt((uint)a), c.SubnetLength);
    }

    public static uint ToUInt(IPAddress a)
    {
        var b = a.GetAddressBytes();
        return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    }

    public static IPAddress FromUInt(uint v) => new([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);

    private static uint Mask(int len) => len == 0 ? 0 : uint.MaxValue << (32 - len);

    /// <summary>The address at offset <paramref name="offset"/> in the subnet (0: the network address, flannel's VTEP address).</summary>
    public static IPAddress At(IPNetwork subnet, uint offset) => FromUInt(ToUInt(subnet.BaseAddress) + offset);
}
