using System.Buffers;
using System.Net;
using System.Text.Json;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Model;

/// <summary>
/// The JSON of the state records (<c>network.json</c>, <c>endpoints/ID.json</c>), written and read by hand with
/// <see cref="Utf8JsonWriter"/> and <see cref="Utf8JsonReader"/>: indented, camelCase names, nulls left out, enums as
/// their names, addresses and prefixes as text. Byte for byte what System.Text.Json's serializer wrote with those
/// options before (the tests compare the two on every property), without its per-type metadata: building that cost
/// the first command of every process about 600 compiled methods and 30-45 ms in pwsh (enums and other value types
/// each instantiate the serializer's generic code), and the CNI plugin a millisecond of each exec.
/// Reading follows the serializer too: names are case-sensitive, unknown ones are skipped, a missing required one
/// (name, id; id, network, container), a value of the wrong kind or bytes that are not JSON are a
/// <see cref="JsonException"/> that names where. One difference, on purpose: a property missing from the file reads as
/// the record's own initial value (icc and masquerade true, lists empty), where the serializer's generated code gave
/// init-only properties default(T) (false, null).
/// </summary>
internal static partial class RecordJson
{
    private static readonly JsonWriterOptions Options = new() { Indented = true };

    public static byte[] Write(ContainerNetwork network) => Document(network, static (w, n) =>
        {
            w.WriteString("name"u8, n.Name);
            w.WriteString("id"u8, n.Id);
            Enum(w, "driver"u8, n.Driver);
            String(w, "bridgeName"u8, n.BridgeName);
            Prefix(w, "subnet"u8, n.Subnet);
            Address(w, "gateway"u8, n.Gateway);
            w.WriteBoolean("externalGateway"u8, n.ExternalGateway);
            Prefix(w, "ipRange"u8, n.IpRange);
            Address(w, "rangeStart"u8, n.RangeStart);
            Address(w, "rangeEnd"u8, n.RangeEnd);
            Prefix(w, "subnetV6"u8, n.SubnetV6);
            Address(w, "gatewayV6"u8, n.GatewayV6);
            Prefix(w, "ipRangeV6"u8, n.IpRangeV6);
            w.WriteNumber("mtu"u8, n.Mtu);
            w.WriteBoolean("internal"u8, n.Internal);
            w.WriteBoolean("masquerade"u8, n.Masquerade);
            w.WriteBoolean("icc"u8, n.Icc);
            w.WriteBoolean("routed"u8, n.Routed);
            String(w, "bridgeMacAddress"u8, n.BridgeMacAddress);
            w.WriteBoolean("forwardingWasOff"u8, n.ForwardingWasOff);
            Strings(w, "allowedNetworks"u8, n.AllowedNetworks);
            if (n.Routes is { } routes)
            {
                w.WriteStartArray("routes"u8);
                foreach (var r in routes)
                {
                    w.WriteStartObject();
                    w.WriteString("destination"u8, r.Destination.ToString());
                    Address(w, "gateway"u8, r.Gateway);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteBoolean("noDefaultRoute"u8, n.NoDefaultRoute);
            w.WriteString("created"u8, n.Created);
            Enum(w, "state"u8, n.State);
            w.WriteNumber("ownerPid"u8, n.OwnerPid);
        });

    public static byte[] Write(ContainerEndpoint endpoint) => Document(endpoint, static (w, e) =>
        {
            w.WriteString("id"u8, e.Id);
            w.WriteString("network"u8, e.Network);
            w.WriteString("container"u8, e.Container);
            Enum(w, "mode"u8, e.Mode);
            String(w, "namespace"u8, e.Namespace);
            w.WriteNumber("namespaceId"u8, e.NamespaceId);
            w.WriteBoolean("createdNamespace"u8, e.CreatedNamespace);
            String(w, "interfaceName"u8, e.InterfaceName);
            String(w, "hostInterface"u8, e.HostInterface);
            String(w, "macAddress"u8, e.MacAddress);
            // The serializer's camelCase of IPv4Address.
            Address(w, "iPv4Address"u8, e.IPv4Address);
            Address(w, "iPv6Address"u8, e.IPv6Address);
            w.WriteNumber("prefixLength"u8, e.PrefixLength);
            w.WriteNumber("prefixLengthV6"u8, e.PrefixLengthV6);
            Address(w, "gateway"u8, e.Gateway);
            Address(w, "gatewayV6"u8, e.GatewayV6);
            w.WriteNumber("gatewayPriority"u8, e.GatewayPriority);
            w.WriteBoolean("noDefaultRoute"u8, e.NoDefaultRoute);
            if (e.Ports is { } ports)
            {
                w.WriteStartArray("ports"u8);
                foreach (var p in ports)
                {
                    w.WriteStartObject();
                    Address(w, "hostIp"u8, p.HostIp);
                    w.WriteNumber("hostPort"u8, p.HostPort);
                    w.WriteNumber("containerPort"u8, p.ContainerPort);
                    Enum(w, "protocol"u8, p.Protocol);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            Strings(w, "aliases"u8, e.Aliases);
            String(w, "sharedWith"u8, e.SharedWith);
            String(w, "origin"u8, e.Origin);
            w.WriteString("created"u8, e.Created);
            Enum(w, "state"u8, e.State);
            w.WriteNumber("ownerPid"u8, e.OwnerPid);
        });

    /// <summary>One record as a JSON object: <paramref name="properties"/> writes what goes between its braces.</summary>
    private static byte[] Document<T>(T record, Action<Utf8JsonWriter, T> properties)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            properties(w, record);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void String(Utf8JsonWriter w, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }

    private static void Address(Utf8JsonWriter w, ReadOnlySpan<byte> name, IPAddress? value)
    {
        if (value is not null) w.WriteString(name, value.ToString());
    }

    private static void Prefix(Utf8JsonWriter w, ReadOnlySpan<byte> name, IPNetwork? value)
    {
        if (value is { } v) w.WriteString(name, v.ToString());
    }

    private static void Strings(Utf8JsonWriter w, ReadOnlySpan<byte> name, List<string>? values)
    {
        if (values is null) return;
        w.WriteStartArray(name);
        foreach (var s in values)
        {
            if (s is null) w.WriteNullValue();
            else w.WriteStringValue(s);
        }
        w.WriteEndArray();
    }

    /// <summary>An enum by its name (a value without one, as its number), as the serializer's string-enum converter.</summary>
    private static void Enum<T>(Utf8JsonWriter w, ReadOnlySpan<byte> name, T value) where T : struct, System.Enum
    {
        if (System.Enum.IsDefined(typeof(T), value)) w.WriteString(name, value.ToString());
        else w.WriteNumber(name, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
    }
}
