using System.Net;
using System.Text;
using System.Text.Json;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Model;

internal static partial class RecordJson
{
    /// <summary>A reader of one kind of record (<see cref="ReadNetwork"/>, <see cref="ReadEndpoint"/>).</summary>
    public delegate T? Parser<T>(ReadOnlySpan<byte> json) where T : class;

    // What a property that is not in the file reads as: the records' own initial values.
    private static readonly ContainerNetwork NetworkDefaults = new() { Name = "", Id = "" };
    private static readonly ContainerEndpoint EndpointDefaults = new() { Id = "", Network = "", Container = "" };

    /// <summary>A network record; null for the JSON literal <c>null</c>.</summary>
    public static ContainerNetwork? ReadNetwork(ReadOnlySpan<byte> json)
    {
        var r = new Reader(json);
        try
        {
            if (!r.StartRoot()) return null;
            var d = NetworkDefaults;
            string? name = null, id = null, bridgeName = null, bridgeMac = null;
            NetworkDriver? driver = null;
            RecordState? state = null;
            IPNetwork? subnet = null, ipRange = null, subnetV6 = null, ipRangeV6 = null;
            IPAddress? gateway = null, rangeStart = null, rangeEnd = null, gatewayV6 = null;
            bool? externalGateway = null, isInternal = null, masquerade = null, icc = null, routed = null, forwardingWasOff = null, noDefaultRoute = null;
            int? mtu = null, ownerPid = null;
            DateTimeOffset? created = null;
            List<string>? allowed = null;
            List<NetworkRoute>? routes = null;
            while (r.NextProperty())
            {
                if (r.Is("name"u8)) name = r.RequiredString();
                else if (r.Is("id"u8)) id = r.RequiredString();
                else if (r.Is("driver"u8)) driver = r.Enum<NetworkDriver>();
                else if (r.Is("bridgeName"u8)) bridgeName = r.String();
                else if (r.Is("subnet"u8)) subnet = r.Prefix();
                else if (r.Is("gateway"u8)) gateway = r.Address();
                else if (r.Is("externalGateway"u8)) externalGateway = r.Bool();
                else if (r.Is("ipRange"u8)) ipRange = r.Prefix();
                else if (r.Is("rangeStart"u8)) rangeStart = r.Address();
                else if (r.Is("rangeEnd"u8)) rangeEnd = r.Address();
                else if (r.Is("subnetV6"u8)) subnetV6 = r.Prefix();
                else if (r.Is("gatewayV6"u8)) gatewayV6 = r.Address();
                else if (r.Is("ipRangeV6"u8)) ipRangeV6 = r.Prefix();
                else if (r.Is("mtu"u8)) mtu = r.Int();
                else if (r.Is("internal"u8)) isInternal = r.Bool();
                else if (r.Is("masquerade"u8)) masquerade = r.Bool();
                else if (r.Is("icc"u8)) icc = r.Bool();
                else if (r.Is("routed"u8)) routed = r.Bool();
                else if (r.Is("bridgeMacAddress"u8)) bridgeMac = r.String();
                else if (r.Is("forwardingWasOff"u8)) forwardingWasOff = r.Bool();
                else if (r.Is("allowedNetworks"u8)) allowed = r.Strings();
                else if (r.Is("routes"u8)) routes = ReadRoutes(ref r);
                else if (r.Is("noDefaultRoute"u8)) noDefaultRoute = r.Bool();
                else if (r.Is("created"u8)) created = r.Date();
                else if (r.Is("state"u8)) state = r.Enum<RecordState>();
                else if (r.Is("ownerPid"u8)) ownerPid = r.Int();
                else r.SkipValue();
            }
            r.End();
            return new ContainerNetwork
            {
                Name = name ?? throw r.Missing("name"),
                Id = id ?? throw r.Missing("id"),
                Driver = driver ?? d.Driver,
                BridgeName = bridgeName,
                Subnet = subnet,
                Gateway = gateway,
                ExternalGateway = externalGateway ?? d.ExternalGateway,
                IpRange = ipRange,
                RangeStart = rangeStart,
                RangeEnd = rangeEnd,
                SubnetV6 = subnetV6,
                GatewayV6 = gatewayV6,
                IpRangeV6 = ipRangeV6,
                Mtu = mtu ?? d.Mtu,
                Internal = isInternal ?? d.Internal,
                Masquerade = masquerade ?? d.Masquerade,
                Icc = icc ?? d.Icc,
                Routed = routed ?? d.Routed,
                BridgeMacAddress = bridgeMac,
                ForwardingWasOff = forwardingWasOff ?? d.ForwardingWasOff,
                AllowedNetworks = allowed ?? [],
                Routes = routes ?? [],
                NoDefaultRoute = noDefaultRoute ?? d.NoDefaultRoute,
                Created = created ?? d.Created,
                State = state ?? d.State,
                OwnerPid = ownerPid ?? d.OwnerPid,
            };
        }
        catch (JsonException e) when (e.Path is null) { throw r.Where(e); }
        // A string that is not UTF-8 (the serializer wraps this one too).
        catch (InvalidOperationException e) { throw r.Where(new JsonException(e.Message, e)); }
    }

    /// <summary>An endpoint record; null for the JSON literal <c>null</c>.</summary>
    public static ContainerEndpoint? ReadEndpoint(ReadOnlySpan<byte> json)
    {
        var r = new Reader(json);
        try
        {
            if (!r.StartRoot()) return null;
            var d = EndpointDefaults;
            string? id = null, network = null, container = null, ns = null, ifName = null, hostIf = null, mac = null, sharedWith = null, origin = null;
            EndpointMode? mode = null;
            RecordState? state = null;
            ulong? nsId = null;
            bool? createdNs = null, noDefaultRoute = null;
            IPAddress? ip4 = null, ip6 = null, gateway = null, gatewayV6 = null;
            int? prefix = null, prefixV6 = null, priority = null, ownerPid = null;
            List<PublishedPort>? ports = null;
            List<string>? aliases = null;
            DateTimeOffset? created = null;
            while (r.NextProperty())
            {
                if (r.Is("id"u8)) id = r.RequiredString();
                else if (r.Is("network"u8)) network = r.RequiredString();
                else if (r.Is("container"u8)) container = r.RequiredString();
                else if (r.Is("mode"u8)) mode = r.Enum<EndpointMode>();
                else if (r.Is("namespace"u8)) ns = r.String();
                else if (r.Is("namespaceId"u8)) nsId = r.ULong();
                else if (r.Is("createdNamespace"u8)) createdNs = r.Bool();
                else if (r.Is("interfaceName"u8)) ifName = r.String();
                else if (r.Is("hostInterface"u8)) hostIf = r.String();
                else if (r.Is("macAddress"u8)) mac = r.String();
                else if (r.Is("iPv4Address"u8)) ip4 = r.Address();
                else if (r.Is("iPv6Address"u8)) ip6 = r.Address();
                else if (r.Is("prefixLength"u8)) prefix = r.Int();
                else if (r.Is("prefixLengthV6"u8)) prefixV6 = r.Int();
                else if (r.Is("gateway"u8)) gateway = r.Address();
                else if (r.Is("gatewayV6"u8)) gatewayV6 = r.Address();
                else if (r.Is("gatewayPriority"u8)) priority = r.Int();
                else if (r.Is("noDefaultRoute"u8)) noDefaultRoute = r.Bool();
                else if (r.Is("ports"u8)) ports = ReadPorts(ref r);
                else if (r.Is("aliases"u8)) aliases = r.Strings();
                else if (r.Is("sharedWith"u8)) sharedWith = r.String();
                else if (r.Is("origin"u8)) origin = r.String();
                else if (r.Is("created"u8)) created = r.Date();
                else if (r.Is("state"u8)) state = r.Enum<RecordState>();
                else if (r.Is("ownerPid"u8)) ownerPid = r.Int();
                else r.SkipValue();
            }
            r.End();
            return new ContainerEndpoint
            {
                Id = id ?? throw r.Missing("id"),
                Network = network ?? throw r.Missing("network"),
                Container = container ?? throw r.Missing("container"),
                Mode = mode ?? d.Mode,
                Namespace = ns,
                NamespaceId = nsId ?? d.NamespaceId,
                CreatedNamespace = createdNs ?? d.CreatedNamespace,
                InterfaceName = ifName,
                HostInterface = hostIf,
                MacAddress = mac,
                IPv4Address = ip4,
                IPv6Address = ip6,
                PrefixLength = prefix ?? d.PrefixLength,
                PrefixLengthV6 = prefixV6 ?? d.PrefixLengthV6,
                Gateway = gateway,
                GatewayV6 = gatewayV6,
                GatewayPriority = priority ?? d.GatewayPriority,
                NoDefaultRoute = noDefaultRoute ?? d.NoDefaultRoute,
                Ports = ports ?? [],
                Aliases = aliases ?? [],
                SharedWith = sharedWith,
                Origin = origin,
                Created = created ?? d.Created,
                State = state ?? d.State,
                OwnerPid = ownerPid ?? d.OwnerPid,
            };
        }
        catch (JsonException e) when (e.Path is null) { throw r.Where(e); }
        // A string that is not UTF-8 (the serializer wraps this one too).
        catch (InvalidOperationException e) { throw r.Where(new JsonException(e.Message, e)); }
    }

    private static List<NetworkRoute>? ReadRoutes(ref Reader r)
    {
        if (!r.StartArray()) return null;
        var list = new List<NetworkRoute>();
        while (r.NextItem())
        {
            IPNetwork? destination = null;
            IPAddress? gateway = null;
            while (r.NextProperty())
            {
                if (r.Is("destination"u8)) destination = r.Prefix() ?? throw r.Fail("the route's destination is null");
                else if (r.Is("gateway"u8)) gateway = r.Address();
                else r.SkipValue();
            }
            list.Add(new NetworkRoute { Destination = destination ?? throw r.Missing("destination"), Gateway = gateway });
        }
        return list;
    }

    private static List<PublishedPort>? ReadPorts(ref Reader r)
    {
        if (!r.StartArray()) return null;
        var list = new List<PublishedPort>();
        while (r.NextItem())
        {
            IPAddress? hostIp = null;
            ushort hostPort = 0, containerPort = 0;
            PortProtocol protocol = default;
            while (r.NextProperty())
            {
                if (r.Is("hostIp"u8)) hostIp = r.Address();
                else if (r.Is("hostPort"u8)) hostPort = r.UShort();
                else if (r.Is("containerPort"u8)) containerPort = r.UShort();
                else if (r.Is("protocol"u8)) protocol = r.Enum<PortProtocol>();
                else r.SkipValue();
            }
            list.Add(new PublishedPort(hostIp, hostPort, containerPort, protocol));
        }
        return list;
    }

    /// <summary>
    /// <see cref="Utf8JsonReader"/> over one record, which knows where it is (<c>$.ports[0].hostPort</c>, the line) for
    /// the exceptions it throws. Objects: <see cref="NextProperty"/> until false, each property matched with
    /// <see cref="Is"/> and read with one value method (or skipped); arrays of objects: <see cref="StartArray"/>, then
    /// <see cref="NextItem"/> until false, each item's properties as an object's.
    /// </summary>
    private ref struct Reader(ReadOnlySpan<byte> json)
    {
        private readonly ReadOnlySpan<byte> _json = json;
        private Utf8JsonReader _r = new(json);
        // The top-level property, the item of the array in it, and the item's property: for the path in errors.
        private long _property = -1, _inner = -1;
        private int _item = -1;

        public bool StartRoot()
        {
            _r.Read();
            if (_r.TokenType == JsonTokenType.Null) { End(); return false; }
            if (_r.TokenType != JsonTokenType.StartObject) throw Fail("a record is a JSON object");
            return true;
        }

        /// <summary>Moves to the next property's name; false at the end of the object.</summary>
        public bool NextProperty()
        {
            _r.Read();
            if (_r.TokenType == JsonTokenType.EndObject)
            {
                if (_item >= 0) _inner = -1;
                return false;
            }
            if (_item >= 0) _inner = _r.TokenStartIndex;
            else _property = _r.TokenStartIndex;
            return true;
        }

        public readonly bool Is(ReadOnlySpan<byte> name) => _r.ValueTextEquals(name);

        public void SkipValue()
        {
            _r.Read();
            _r.Skip();
        }

        /// <summary>After the root object: nothing but white space may follow.</summary>
        public void End()
        {
            _property = -1;
            if (_r.Read()) throw Fail("more follows the record");
        }

        /// <summary>Moves into the property's array; false for null.</summary>
        public bool StartArray()
        {
            _r.Read();
            if (_r.TokenType == JsonTokenType.Null) return false;
            if (_r.TokenType != JsonTokenType.StartArray) throw Fail("a list is expected");
            _item = -1;
            return true;
        }

        /// <summary>Moves into the array's next object; false at the end of the array.</summary>
        public bool NextItem()
        {
            _r.Read();
            if (_r.TokenType == JsonTokenType.EndArray) { _item = -1; return false; }
            _item++;
            if (_r.TokenType != JsonTokenType.StartObject) throw Fail("a list of objects is expected");
            return true;
        }

        public string? String()
        {
            _r.Read();
            return _r.TokenType switch
            {
                JsonTokenType.Null => null,
                JsonTokenType.String => _r.GetString(),
                _ => throw Fail("a string is expected"),
            };
        }

        public string RequiredString() => String() ?? throw Fail("it must not be null");

        public List<string>? Strings()
        {
            _r.Read();
            if (_r.TokenType == JsonTokenType.Null) return null;
            if (_r.TokenType != JsonTokenType.StartArray) throw Fail("a list of strings is expected");
            var list = new List<string>();
            while (_r.Read() && _r.TokenType != JsonTokenType.EndArray)
                list.Add(_r.TokenType == JsonTokenType.String ? _r.GetString()! : throw Fail("a list of strings is expected"));
            return list;
        }

        public bool Bool()
        {
            _r.Read();
            return _r.TokenType switch
            {
                JsonTokenType.True => true,
                JsonTokenType.False => false,
                _ => throw Fail("true or false is expected"),
            };
        }

        public int Int() => Number().TryGetInt32(out var v) ? v : throw Fail("a 32-bit integer is expected");
        public ulong ULong() => Number().TryGetUInt64(out var v) ? v : throw Fail("a 64-bit unsigned integer is expected");
        public ushort UShort() => Number().TryGetUInt16(out var v) ? v : throw Fail("a port number (0-65535) is expected");

        private Utf8JsonReader Number()
        {
            _r.Read();
            return _r.TokenType == JsonTokenType.Number ? _r : throw Fail("a number is expected");
        }

        public DateTimeOffset Date()
        {
            _r.Read();
            return _r.TokenType == JsonTokenType.String && _r.TryGetDateTimeOffset(out var v) ? v : throw Fail("a date and time (ISO 8601) is expected");
        }

        public IPAddress? Address() =>
            String() is not { } s ? null : IPAddress.TryParse(s, out var a) ? a : throw Fail($"'{s}' is not an IP address");

        public IPNetwork? Prefix() =>
            String() is not { } s ? null : IPNetwork.TryParse(s, out var n) ? n : throw Fail($"'{s}' is not an IP prefix");

        /// <summary>An enum by its name (any case) or its number, as the serializer's string-enum converter reads it.</summary>
        public T Enum<T>() where T : struct, System.Enum
        {
            _r.Read();
            if (_r.TokenType == JsonTokenType.Number && _r.TryGetInt64(out var n)) return (T)System.Enum.ToObject(typeof(T), n);
            // A name, not a number in quotes ("6") nor a list of names ("Tcp, Udp"): Enum.TryParse takes those too.
            if (_r.TokenType == JsonTokenType.String && _r.GetString() is { Length: > 0 } s && !char.IsAsciiDigit(s[0]) && s[0] != '-'
                && System.Enum.TryParse(typeof(T), s, ignoreCase: true, out var v) && System.Enum.IsDefined(typeof(T), v!))
                return (T)v!;
            throw Fail($"one of {string.Join(", ", System.Enum.GetNames(typeof(T)))} is expected");
        }

        public readonly JsonException Missing(string name) => new($"the required property '{name}' is missing", PathHere(), Line(), null);

        public readonly JsonException Fail(string why) => new(why, PathHere(), Line(), null);

        /// <summary>The reader's own exception (bad JSON, cut short, not UTF-8), said in words and with the path added.</summary>
        public readonly JsonException Where(JsonException e) =>
            new("the JSON is malformed or cut short", PathHere(), e.LineNumber ?? Line(), e.BytePositionInLine, e);

        private readonly long Line()
        {
            var upTo = (int)Math.Min(_r.TokenStartIndex, _json.Length);
            return _json[..upTo].Count((byte)'\n');
        }

        private readonly string PathHere()
        {
            var path = new StringBuilder("$");
            if (_property >= 0) path.Append('.').Append(NameAt(_property));
            if (_item >= 0) path.Append('[').Append(_item).Append(']');
            if (_item >= 0 && _inner >= 0) path.Append('.').Append(NameAt(_inner));
            return path.ToString();
        }

        /// <summary>The property name whose token starts at <paramref name="start"/> (its opening quote).</summary>
        private readonly string NameAt(long start)
        {
            var rest = _json[(int)(start + 1)..];
            var end = rest.IndexOf((byte)'"');
            return Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
        }
    }
}
