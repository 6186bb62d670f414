using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using ContainerNetworking.Model;
using ContainerNetworking.Values;

namespace ContainerNetworking.Cni;

/// <summary>One range of host-local's <c>ranges</c>: a subnet, optionally a start, an end and a gateway.</summary>
public sealed record CniRange(IPNetwork Subnet, IPAddress? RangeStart, IPAddress? RangeEnd, IPAddress? Gateway);

/// <summary>A route of host-local's <c>routes</c>: a destination, optionally a next hop.</summary>
public sealed record CniRoute(IPNetwork Destination, IPAddress? Gateway);

/// <summary>A port mapping of the <c>portMappings</c> capability (runtimeConfig).</summary>
public sealed record CniPortMapping(ushort HostPort, ushort ContainerPort, string Protocol, IPAddress? HostIp)
{
    /// <summary>Docker's notation, which the core parses: "[hostIp:]hostPort:containerPort/proto".</summary>
    public string ToPublishSpec()
    {
        var host = HostIp is null ? "" : HostIp.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{HostIp}]:" : $"{HostIp}:";
        return $"{host}{HostPort}:{ContainerPort}/{Protocol}";
    }
}

/// <summary>
/// The request configuration, in the reference bridge plugin's shape (so that a bridge conflist works by changing
/// <c>type</c>), with host-local's <c>ipam</c> block served in-process and the portMappings, ips and mac
/// capabilities of portmap and host-local. Unknown keys are ignored, as the reference plugins ignore them.
/// </summary>
public sealed class CniConfig
{
    public static readonly string[] SupportedVersions = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

    public required JsonObject Raw { get; init; }
    public required string CniVersion { get; init; }
    public required string Name { get; init; }
    public string Bridge { get; init; } = "cni0";
    public bool IsGateway { get; init; }
    public bool IsDefaultGateway { get; init; }
    public bool IpMasq { get; init; }
    public bool HairpinMode { get; init; }
    public int Mtu { get; init; }
    public CniRange? Range4 { get; init; }
    public CniRange? Range6 { get; init; }
    public IReadOnlyList<CniRoute> Routes { get; init; } = [];
    public string? DataDir { get; init; }
    public IReadOnlyList<CniPortMapping> PortMappings { get; init; } = [];
    public IReadOnlyList<IPAddress> RequestedIps { get; init; } = [];
    public string? Mac { get; init; }
    public JsonObject? PrevResult { get; init; }
    public JsonNode? Dns { get; init; }
    /// <summary>GC: the attachments still valid, as (containerID, ifname); null when the key is absent.</summary>
    public IReadOnlyList<(string ContainerId, string IfName)>? ValidAttachments { get; init; }

    /// <summary>True when the spec version <paramref name="v"/> is at least <paramref name="min"/>.</summary>
    public static bool AtLeast(string v, string min) => Version.TryParse(v, out var a) && Version.TryParse(min, out var b) && a >= b;

    /// <summary>The cniVersion of a document, to answer in (errors before the config is understood use 1.1.0).</summary>
    public static string VersionOf(JsonObject? o) => o?["cniVersion"] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : "1.1.0";

    public static JsonObject ParseObject(string text)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(text); }
        catch (JsonException e) { throw new CniError(CniError.DecodeFailure, "failed to decode the network configuration", e.Message); }
        return node as JsonObject ?? throw new CniError(CniError.DecodeFailure, "failed to decode the network configuration", "stdin holds no JSON object");
    }

    /// <summary>Reads and validates a request configuration. Errors: 1 (version), 2 (unsupported value), 6, 7.</summary>
    public static CniConfig Parse(JsonObject o)
    {
        var version = Str(o, "cniVersion") ?? throw new CniError(CniError.IncompatibleVersion, "incompatible CNI version",
            $"the configuration has no cniVersion; this plugin supports {string.Join(", ", SupportedVersions)}");
        if (!SupportedVersions.Contains(version))
            throw new CniError(CniError.IncompatibleVersion, "incompatible CNI version",
                $"cniVersion {version} is not supported; this plugin supports {string.Join(", ", SupportedVersions)}");
        var name = Str(o, "name");
        if (string.IsNullOrEmpty(name))
            throw new CniError(CniError.InvalidConfig, "invalid network config", "the configuration has no 'name' (the network's name)");

        var ipam = o["ipam"] as JsonObject;
        if (o["ipam"] is not null and not JsonObject) throw Invalid("'ipam' must be an object");
        CniRange? r4 = null, r6 = null;
        var routes = new List<CniRoute>();
        string? dataDir = null;
        if (ipam is not null)
        {
            var type = Str(ipam, "type");
            if (type is not null and not "host-local")
                throw new CniError(CniError.UnsupportedField, "unsupported field in network configuration",
                    $"ipam.type={type}: this plugin serves host-local's ipam in-process; use \"type\": \"host-local\" (ranges, routes, dataDir)");
            var ranges = new List<CniRange>();
            if (ipam["ranges"] is JsonArray sets)
            {
                foreach (var set in sets)
                {
                    if (set is not JsonArray arr || arr.Count == 0) throw Invalid("ipam.ranges must be an array of non-empty arrays of ranges");
                    if (arr.Count > 1)
                        throw new CniError(CniError.UnsupportedField, "unsupported field in network configuration",
                            $"ipam.ranges holds a range set of {arr.Count} ranges: this plugin takes one range per set (one IPv4 and one IPv6 set)");
                    ranges.Add(ReadRange(arr[0] as JsonObject ?? throw Invalid("each range must be an object"), "ipam.ranges"));
                }
            }
            else if (Str(ipam, "subnet") is not null) ranges.Add(ReadRange(ipam, "ipam")); // host-local's older single-range form
            foreach (var r in ranges)
            {
                if (r.Subnet.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
                {
                    if (r4 is not null) throw new CniError(CniError.UnsupportedField, "unsupported field in network configuration", $"ipam.ranges has a second IPv4 range set ({r.Subnet}): give one IPv4 set");
                    r4 = r;
                }
                else
                {
                    if (r6 is not null) throw new CniError(CniError.UnsupportedField, "unsupported field in network configuration", $"ipam.ranges has a second IPv6 range set ({r.Subnet}): give one IPv6 set");
                    r6 = r;
                }
            }
            if (ipam["routes"] is JsonArray rs)
                foreach (var rn in rs)
                {
                    if (rn is not JsonObject ro) throw Invalid("ipam.routes must be an array of objects");
                    var dst = Prefix(Str(ro, "dst") ?? throw Invalid("an ipam route has no 'dst'"), "ipam.routes[].dst");
                    routes.Add(new CniRoute(dst, Str(ro, "gw") is { } gw ? Address(gw, "ipam.routes[].gw") : null));
                }
            dataDir = Str(ipam, "dataDir");
        }
        if (r4 is null)
            throw Invalid($"network '{name}' has no IPv4 range: give ipam {{\"type\": \"host-local\", \"ranges\": [[{{\"subnet\": \"10.88.0.0/16\"}}]]}}");

        var bridge = Str(o, "bridge") ?? "cni0";
        if (!InterfaceName.IsValid(bridge))
            throw Invalid($"bridge name '{bridge}' is not a Linux interface name (1-15 bytes, no '/', ':' or spaces)");
        var mtu = Int(o, "mtu");
        if (mtu != 0 && (mtu < 68 || mtu > 65535)) throw Invalid($"mtu {mtu} is out of range (68-65535)");

        var rc = o["runtimeConfig"] as JsonObject;
        var ports = new List<CniPortMapping>();
        var ips = new List<IPAddress>();
        string? mac = null;
        if (rc is not null)
        {
            if (rc["portMappings"] is JsonArray pm)
                foreach (var pn in pm)
                {
                    if (pn is not JsonObject p) throw Invalid("runtimeConfig.portMappings must be an array of objects");
                    var hp = Int(p, "hostPort");
                    var cp = Int(p, "containerPort");
                    if (hp is < 1 or > 65535 || cp is < 1 or > 65535)
                        throw Invalid($"port mapping {p.ToJsonString()} needs hostPort and containerPort in 1-65535");
                    var proto = (Str(p, "protocol") ?? "tcp").ToLowerInvariant();
                    if (proto is not ("tcp" or "udp" or "sctp")) throw Invalid($"port mapping protocol '{proto}' is not tcp, udp or sctp");
                    var hip = Str(p, "hostIP");
                    IPAddress? hostIp = string.IsNullOrEmpty(hip) ? null : Address(hip, "runtimeConfig.portMappings[].hostIP");
                    if (hostIp is not null && (hostIp.Equals(IPAddress.Any) || hostIp.Equals(IPAddress.IPv6Any))) hostIp = null;
                    ports.Add(new CniPortMapping((ushort)hp, (ushort)cp, proto, hostIp));
                }
            if (rc["ips"] is JsonArray ia)
                foreach (var i in ia)
                    ips.Add(AddressOrCidr(i is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Invalid("runtimeConfig.ips must be strings"), "runtimeConfig.ips"));
            mac = Str(rc, "mac");
        }

        List<(string, string)>? valid = null;
        var validNode = o["cni.dev/valid-attachments"] ?? o["cni.dev/attachments"];
        if (validNode is JsonArray va)
        {
            valid = [];
            foreach (var a in va)
            {
                if (a is not JsonObject ao) throw Invalid("cni.dev/valid-attachments must be an array of objects");
                valid.Add((Str(ao, "containerID") ?? "", Str(ao, "ifname") ?? ""));
            }
        }
        else if (validNode is not null) throw Invalid("cni.dev/valid-attachments must be an array");

        var prev = o["prevResult"];
        if (prev is not null and not JsonObject) throw Invalid("prevResult must be an object");

        return new CniConfig
        {
            Raw = o,
            CniVersion = version,
            Name = name,
            Bridge = bridge,
            IsGateway = Bool(o, "isGateway"),
            IsDefaultGateway = Bool(o, "isDefaultGateway"),
            IpMasq = Bool(o, "ipMasq"),
            HairpinMode = Bool(o, "hairpinMode"),
            Mtu = mtu,
            Range4 = r4,
            Range6 = r6,
            Routes = routes,
            DataDir = dataDir,
            PortMappings = ports,
            RequestedIps = ips,
            Mac = mac,
            PrevResult = (JsonObject?)prev,
            Dns = o["dns"],
            ValidAttachments = valid,
        };
    }

    /// <summary>True when a default route is asked for: isDefaultGateway, or a 0.0.0.0/0 route of the ipam block via the gateway.</summary>
    public bool WantsDefaultRoute => IsDefaultGateway || Routes.Any(r => r.Destination.PrefixLength == 0 && (r.Gateway is null || r.Gateway.Equals(Range4!.Gateway)));

    /// <summary>The bridge takes the gateway address: isGateway, which isDefaultGateway implies (as the reference bridge plugin reads them).</summary>
    public bool GatewayOnBridge => IsGateway || IsDefaultGateway;

    /// <summary>What the core's network is created from.</summary>
    public NetworkSpec ToNetworkSpec() => new()
    {
        Name = Name,
        BridgeName = Bridge,
        Subnet = Range4!.Subnet,
        Gateway = Range4.Gateway,
        ExternalGateway = !GatewayOnBridge,
        RangeStart = Range4.RangeStart,
        RangeEnd = Range4.RangeEnd,
        SubnetV6 = Range6?.Subnet,
        GatewayV6 = Range6?.Gateway,
        Mtu = Mtu,
        Masquerade = IpMasq,
        // The reference bridge plugin filters nothing that is routed to the subnet: a runtime that wants Docker 28's
        // "no direct access" adds it (e.g. with a firewall plugin); the cmdlets' networks drop it by default.
        Routed = true,
    };

    private static CniRange ReadRange(JsonObject r, string where)
    {
        var subnet = Prefix(Str(r, "subnet") ?? throw Invalid($"a range of {where} has no 'subnet'"), where + ".subnet");
        IPAddress? Opt(string key) => Str(r, key) is { Length: > 0 } s ? Address(s, $"{where}.{key}") : null;
        return new CniRange(subnet, Opt("rangeStart"), Opt("rangeEnd"), Opt("gateway"));
    }

    private static IPNetwork Prefix(string s, string what)
    {
        // host-local accepts a subnet written with host bits ("10.88.0.1/16") and masks it.
        var slash = s.IndexOf('/');
        if (slash > 0 && IPAddress.TryParse(s[..slash], out var a) && int.TryParse(s[(slash + 1)..], out var len) && len >= 0 && len <= AddressMath.Bits(a.AddressFamily))
            return IPPrefix.Network(a, len);
        throw Invalid($"{what} '{s}' is not an IP prefix (e.g. 10.88.0.0/16)");
    }

    private static IPAddress Address(string s, string what) =>
        IPAddress.TryParse(s, out var a) ? a : throw Invalid($"{what} '{s}' is not an IP address");

    /// <summary>An address, alone or in CIDR notation ("10.88.0.5/16", as Podman sends runtimeConfig.ips).</summary>
    public static IPAddress AddressOrCidr(string s, string what)
    {
        var slash = s.IndexOf('/');
        return Address(slash >= 0 ? s[..slash] : s, what);
    }

    internal static CniError Invalid(string details) => new(CniError.InvalidConfig, "invalid network config", details);

    internal static string? Str(JsonObject o, string key) => o[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw Invalid($"'{key}' must be a string"),
    };

    private static bool Bool(JsonObject o, string key) => o[key] switch
    {
        null => false,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        _ => throw Invalid($"'{key}' must be true or false"),
    };

    private static int Int(JsonObject o, string key) => o[key] switch
    {
        null => 0,
        JsonValue v when v.TryGetValue<int>(out var i) => i,
        JsonValue v when v.TryGetValue<double>(out var d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue => (int)d,
        _ => throw Invalid($"'{key}' must be an integer"),
    };
}
