using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ContainerNetworking.Model;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// The serializer's options the state files were written with before RecordJson (source-generated, as the core had
/// them): the oracle that the hand-written writer and reader are compared with, byte for byte.
/// </summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    Converters = [typeof(IPAddressJsonConverter), typeof(IPNetworkJsonConverter)])]
[JsonSerializable(typeof(ContainerNetwork))]
[JsonSerializable(typeof(ContainerEndpoint))]
internal sealed partial class SerializerOracle : JsonSerializerContext;

/// <summary>
/// RecordJson against System.Text.Json's serializer (a differential test, as google/nftables' against nft): the same
/// bytes for records with every property set, with none, and for random ones; what the serializer wrote reads back to
/// the same record; unknown and missing properties as the serializer treats them; damage named with where it is.
/// </summary>
public sealed class RecordJsonTests
{
    private static string Oracle(ContainerNetwork n) => Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(n, SerializerOracle.Default.ContainerNetwork));
    private static string Oracle(ContainerEndpoint e) => Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(e, SerializerOracle.Default.ContainerEndpoint));
    private static string Ours(ContainerNetwork n) => Encoding.UTF8.GetString(RecordJson.Write(n));
    private static string Ours(ContainerEndpoint e) => Encoding.UTF8.GetString(RecordJson.Write(e));

    private static ContainerNetwork FullNetwork() => new()
    {
        Name = "front-end \"ü\" <&>", Id = new string('c', 64), Driver = NetworkDriver.Host, BridgeName = "br-front",
        Subnet = IPNetwork.Parse("172.20.0.0/16"), Gateway = IPAddress.Parse("172.20.0.254"), ExternalGateway = true,
        IpRange = IPNetwork.Parse("172.20.5.0/24"), RangeStart = IPAddress.Parse("172.20.5.10"), RangeEnd = IPAddress.Parse("172.20.5.99"),
        SubnetV6 = IPNetwork.Parse("fd00:20::/64"), GatewayV6 = IPAddress.Parse("fd00:20::1"), IpRangeV6 = IPNetwork.Parse("fd00:20::/80"),
        Mtu = 1400, Internal = true, Masquerade = false, Icc = false, Routed = true, BridgeMacAddress = "02:42:ac:14:00:01",
        ForwardingWasOff = true, AllowedNetworks = ["back", "db"],
        Routes = [new NetworkRoute { Destination = IPNetwork.Parse("10.99.0.0/16"), Gateway = IPAddress.Parse("172.20.0.253") },
                  new NetworkRoute { Destination = IPNetwork.Parse("fd99::/48") }],
        NoDefaultRoute = true, Created = new DateTimeOffset(2026, 11, 30, 3, 7, 0, 123, TimeSpan.FromHours(5.5)).AddTicks(4567),
        State = RecordState.Removing, OwnerPid = -4242,
    };

    private static ContainerEndpoint FullEndpoint() => new()
    {
        Id = new string('d', 64), Network = "front", Container = "web\t1", Mode = EndpointMode.Container, Namespace = "/proc/42/ns/net",
        NamespaceId = ulong.MaxValue, CreatedNamespace = true, InterfaceName = "eth1", HostInterface = "vethddddddd",
        MacAddress = "02:42:ac:14:00:02", IPv4Address = IPAddress.Parse("172.20.0.2"), IPv6Address = IPAddress.Parse("fd00:20::2"),
        PrefixLength = 16, PrefixLengthV6 = 64, Gateway = IPAddress.Parse("172.20.0.254"), GatewayV6 = IPAddress.Parse("fd00:20::1"),
        GatewayPriority = -3, NoDefaultRoute = true,
        Ports = [new PublishedPort(null, 8088, 80, PortProtocol.Tcp), new PublishedPort(IPAddress.Parse("127.0.0.1"), 53, 53, PortProtocol.Udp),
                 new PublishedPort(IPAddress.Parse("::1"), 65535, 1, PortProtocol.Sctp)],
        Aliases = ["www", "web.local"], SharedWith = new string('e', 64), Origin = "cni",
        Created = DateTimeOffset.UnixEpoch, State = RecordState.Creating, OwnerPid = int.MaxValue,
    };

    [Fact]
    public void FullRecords_AreWrittenAsTheSerializerWroteThem()
    {
        Assert.Equal(Oracle(FullNetwork()), Ours(FullNetwork()));
        Assert.Equal(Oracle(FullEndpoint()), Ours(FullEndpoint()));
    }

    [Fact]
    public void MinimalRecords_AreWrittenAsTheSerializerWroteThem()
    {
        var n = new ContainerNetwork { Name = "n", Id = "i" };
        var e = new ContainerEndpoint { Id = "i", Network = "n", Container = "c" };
        Assert.Equal(Oracle(n), Ours(n));
        Assert.Equal(Oracle(e), Ours(e));
    }

    /// <summary>The full samples set every property the serializer writes to a value that is not its default, so that a
    /// property added to a record and left out of RecordJson makes the comparisons above fail.</summary>
    [Fact]
    public void TheFullSamples_SetEveryPropertyOfTheRecords()
    {
        AssertAllSet(FullNetwork(), new ContainerNetwork { Name = "", Id = "" }, SerializerOracle.Default.ContainerNetwork.Properties);
        AssertAllSet(FullEndpoint(), new ContainerEndpoint { Id = "", Network = "", Container = "" }, SerializerOracle.Default.ContainerEndpoint.Properties);

        static void AssertAllSet(object full, object empty, IEnumerable<System.Text.Json.Serialization.Metadata.JsonPropertyInfo> properties)
        {
            foreach (var p in properties)
            {
                var info = full.GetType().GetProperty(p.Name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)!;
                object? a = info.GetValue(full), b = info.GetValue(empty);
                var differs = a is System.Collections.IList la && b is System.Collections.IList lb ? la.Count != lb.Count : !Equals(a, b);
                Assert.True(differs, $"{full.GetType().Name}.{info.Name} has its default value in the full sample: give it another");
            }
        }
    }

    [Fact]
    public void RandomRecords_AreWrittenAsTheSerializerWroteThem_AndReadBack()
    {
        var rnd = new Random(20261130);
        for (var i = 0; i < 300; i++)
        {
            var n = RandomNetwork(rnd);
            var e = RandomEndpoint(rnd);
            var nj = Oracle(n);
            var ej = Oracle(e);
            Assert.Equal(nj, Ours(n));
            Assert.Equal(ej, Ours(e));
            Assert.Equal(nj, Oracle(RecordJson.ReadNetwork(Encoding.UTF8.GetBytes(nj))!));
            Assert.Equal(ej, Oracle(RecordJson.ReadEndpoint(Encoding.UTF8.GetBytes(ej))!));
        }
    }

    [Fact]
    public void WhatTheSerializerWrote_ReadsBackToTheSameRecord()
    {
        foreach (var json in new[] { Oracle(FullNetwork()), Oracle(new ContainerNetwork { Name = "n", Id = "i" }) })
        {
            var ours = RecordJson.ReadNetwork(Encoding.UTF8.GetBytes(json))!;
            var theirs = JsonSerializer.Deserialize(json, SerializerOracle.Default.ContainerNetwork)!;
            Assert.Equal(Oracle(theirs), Oracle(ours));
            Assert.Equal(json, Oracle(ours));
        }
        foreach (var json in new[] { Oracle(FullEndpoint()), Oracle(new ContainerEndpoint { Id = "i", Network = "n", Container = "c" }) })
        {
            var ours = RecordJson.ReadEndpoint(Encoding.UTF8.GetBytes(json))!;
            var theirs = JsonSerializer.Deserialize(json, SerializerOracle.Default.ContainerEndpoint)!;
            Assert.Equal(Oracle(theirs), Oracle(ours));
            Assert.Equal(json, Oracle(ours));
        }
    }

    [Fact]
    public void MissingAndUnknownProperties_ReadAsTheSerializerReadsThem()
    {
        // An older record (no routes, no icc), a newer one (a property this module does not know, of every kind),
        // enums in another case and as numbers, and null lists.
        var json = """
            { "name": "old", "id": "x", "driver": "bridge", "state": 2, "masquerade": false, "allowedNetworks": [],
              "future": { "nested": [1, { "deep": null }] }, "futureList": [true], "futureText": "t", "routes": [ { "destination": "10.1.0.0/16", "later": 1 } ] }
            """;
        var ours = RecordJson.ReadNetwork(Encoding.UTF8.GetBytes(json))!;
        var theirs = JsonSerializer.Deserialize(json, SerializerOracle.Default.ContainerNetwork)!;
        // Differences on purpose: the serializer's generated code gives a missing init-only property default(T) (icc
        // false, lists null), RecordJson the record's own initial value (icc true, as a network made without saying
        // so; lists empty).
        Assert.True(ours.Icc);
        Assert.False(theirs.Icc);
        Assert.Equal(Oracle(theirs).Replace("\"icc\": false", "\"icc\": true"), Oracle(ours));
        Assert.Equal(RecordState.Removing, ours.State);

        var ep = """{ "id": "e", "network": "n", "container": "c", "mode": "CONTAINER", "ports": [ { "hostPort": 80, "protocol": "udp" } ], "aliases": null }""";
        var e = RecordJson.ReadEndpoint(Encoding.UTF8.GetBytes(ep))!;
        Assert.Equal(EndpointMode.Container, e.Mode);
        Assert.Equal(new PublishedPort(null, 80, 0, PortProtocol.Udp), Assert.Single(e.Ports));
        Assert.Empty(e.Aliases); // the serializer would leave null here; an empty list is what every reader of it expects
        Assert.Null(RecordJson.ReadEndpoint("null"u8));
        var bare = RecordJson.ReadNetwork("""{ "name": "n", "id": "x" }"""u8)!;
        Assert.Null(JsonSerializer.Deserialize("""{ "name": "n", "id": "x" }""", SerializerOracle.Default.ContainerNetwork)!.AllowedNetworks);
        Assert.Empty(bare.AllowedNetworks);
        Assert.Empty(bare.Routes);
        Assert.True(bare.Masquerade);
        Assert.Equal(RecordState.Ready, bare.State);
    }

    [Theory]
    [InlineData("""{ "id": "x" }""", "$", "'name' is missing")]
    [InlineData("""{ "name": "n", "id": "x", "subnet": "10.0.0.0/33" }""", "$.subnet", "is not an IP prefix")]
    [InlineData("{\n  \"name\": \"n\",\n  \"id\": \"x\",\n  \"mtu\": \"1500\"\n}", "$.mtu", "a number is expected")]
    [InlineData("""{ "name": "n", "id": "x", "routes": [ { "destination": "10.0.0.0/8" }, { "gateway": "10.0.0.1" } ] }""", "$.routes[1]", "'destination' is missing")]
    [InlineData("""{ "name": "n", "id": "x", "routes": [ { "destination": "10.0.0.0/8", "gateway": "ten" } ] }""", "$.routes[0].gateway", "is not an IP address")]
    [InlineData("""{ "name": "n", "id": "x", "driver": "bridged" }""", "$.driver", "Bridge, Host, None")]
    [InlineData("""{ "name": "n", "id": "x", "state": null }""", "$.state", "Creating, Ready, Removing")]
    [InlineData("""{ "name": "n", "id": "x", "icc": tru""", "$.icc", "malformed or cut short")]
    [InlineData("""{ "name": "n", "id": "x" } {}""", "$", "malformed or cut short")]
    [InlineData("""[ "name" ]""", "$", "a record is a JSON object")]
    public void DamagedNetworkRecords_AreJsonExceptions_ThatSayWhere(string json, string path, string why)
    {
        var e = Assert.ThrowsAny<JsonException>(() => RecordJson.ReadNetwork(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(path, e.Path);
        Assert.Contains(why, e.Message);
        if (path == "$.mtu") Assert.Equal(3, e.LineNumber); // 0-based, as the serializer counts
    }

    [Fact]
    public void DamagedEndpointRecords_AreJsonExceptions_ThatSayWhere()
    {
        var e = Assert.ThrowsAny<JsonException>(() => RecordJson.ReadEndpoint("""{ "id": "e", "network": "n", "container": "c", "ports": [ { "hostPort": 70000 } ] }"""u8));
        Assert.Equal("$.ports[0].hostPort", e.Path);
        Assert.Contains("0-65535", e.Message);
        e = Assert.ThrowsAny<JsonException>(() => RecordJson.ReadEndpoint("""{ "id": "e", "network": null, "container": "c" }"""u8));
        Assert.Equal("$.network", e.Path);
    }

    /// <summary>
    /// A record read while another process overwrites it in place, or damaged on disk: whatever the bytes, a record or a
    /// JsonException (which the store turns into a retry, then StateCorrupt), never another exception.
    /// </summary>
    [Fact]
    public void AnyDamage_IsARecordOrAJsonException()
    {
        var rnd = new Random(7);
        foreach (var json in new[] { RecordJson.Write(FullNetwork()), RecordJson.Write(FullEndpoint()) })
        {
            for (var cut = 1; cut < json.Length; cut++) Check(json[..cut]);
            for (var i = 0; i < 3000; i++)
            {
                var bytes = (byte[])json.Clone();
                for (var k = rnd.Next(1, 4); k > 0; k--)
                    bytes[rnd.Next(bytes.Length)] = new byte[] { 0xC3, 0x28, 0xFF, 0x00, (byte)'"', (byte)'{', (byte)']', (byte)'9', (byte)'-', (byte)'\\' }[rnd.Next(10)];
                Check(bytes);
            }
        }

        static void Check(byte[] bytes)
        {
            foreach (var read in new Func<byte[], object?>[] { b => RecordJson.ReadNetwork(b), b => RecordJson.ReadEndpoint(b) })
            {
                try { read(bytes); }
                catch (JsonException) { }
                catch (Exception e) { Assert.Fail($"{e.GetType().Name} for {Encoding.UTF8.GetString(bytes)}: {e.Message}"); }
            }
        }
    }

    private static ContainerNetwork RandomNetwork(Random r) => new()
    {
        Name = Text(r), Id = Text(r), Driver = (NetworkDriver)r.Next(3), BridgeName = Maybe(r, Text),
        Subnet = Maybe(r, V4Net), Gateway = Maybe(r, V4), ExternalGateway = r.Next(2) == 0, IpRange = Maybe(r, V4Net),
        RangeStart = Maybe(r, V4), RangeEnd = Maybe(r, V4), SubnetV6 = Maybe(r, V6Net), GatewayV6 = Maybe(r, V6), IpRangeV6 = Maybe(r, V6Net),
        Mtu = r.Next(int.MinValue, int.MaxValue), Internal = r.Next(2) == 0, Masquerade = r.Next(2) == 0, Icc = r.Next(2) == 0,
        Routed = r.Next(2) == 0, BridgeMacAddress = Maybe(r, Text), ForwardingWasOff = r.Next(2) == 0,
        AllowedNetworks = [.. Enumerable.Range(0, r.Next(3)).Select(_ => Text(r))],
        Routes = [.. Enumerable.Range(0, r.Next(3)).Select(_ => new NetworkRoute { Destination = r.Next(2) == 0 ? V4Net(r) : V6Net(r), Gateway = Maybe(r, V4) })],
        NoDefaultRoute = r.Next(2) == 0, Created = Date(r), State = (RecordState)r.Next(3), OwnerPid = r.Next(),
    };

    private static ContainerEndpoint RandomEndpoint(Random r) => new()
    {
        Id = Text(r), Network = Text(r), Container = Text(r), Mode = (EndpointMode)r.Next(4), Namespace = Maybe(r, Text),
        NamespaceId = (ulong)r.NextInt64() * 2, CreatedNamespace = r.Next(2) == 0, InterfaceName = Maybe(r, Text), HostInterface = Maybe(r, Text),
        MacAddress = Maybe(r, Text), IPv4Address = Maybe(r, V4), IPv6Address = Maybe(r, V6), PrefixLength = r.Next(33), PrefixLengthV6 = r.Next(129),
        Gateway = Maybe(r, V4), GatewayV6 = Maybe(r, V6), GatewayPriority = r.Next(-5, 5), NoDefaultRoute = r.Next(2) == 0,
        Ports = [.. Enumerable.Range(0, r.Next(4)).Select(_ => new PublishedPort(Maybe(r, V4), (ushort)r.Next(65536), (ushort)r.Next(65536), new[] { PortProtocol.Tcp, PortProtocol.Udp, PortProtocol.Sctp }[r.Next(3)]))],
        Aliases = [.. Enumerable.Range(0, r.Next(3)).Select(_ => Text(r))], SharedWith = Maybe(r, Text), Origin = Maybe(r, Text),
        Created = Date(r), State = (RecordState)r.Next(3), OwnerPid = r.Next(),
    };

    private static T? Maybe<T>(Random r, Func<Random, T> make) where T : class => r.Next(3) == 0 ? null : make(r);
    private static IPNetwork? Maybe(Random r, Func<Random, IPNetwork> make) => r.Next(3) == 0 ? null : make(r);

    // Letters, digits and what JSON or its encoder treats specially (quotes, backslash, control characters, HTML, non-ASCII).
    private const string Alphabet = "abcXYZ019-_./:\"\\\n\t<>&'+é€ ";
    private static string Text(Random r) => string.Concat(Enumerable.Range(0, r.Next(1, 12)).Select(_ => Alphabet[r.Next(Alphabet.Length)]));
    private static IPAddress V4(Random r) => new(r.NextInt64(0, 1L << 32));
    private static IPAddress V6(Random r) { var b = new byte[16]; r.NextBytes(b); return new IPAddress(b); }
    private static IPNetwork V4Net(Random r) { var p = r.Next(33); return new IPNetwork(Mask(V4(r), p), p); }
    private static IPNetwork V6Net(Random r) { var p = r.Next(129); return new IPNetwork(Mask(V6(r), p), p); }
    private static IPAddress Mask(IPAddress a, int prefix)
    {
        var b = a.GetAddressBytes();
        for (var i = 0; i < b.Length; i++) b[i] &= (byte)(i * 8 >= prefix ? 0 : i * 8 + 8 <= prefix ? 0xff : 0xff << (8 - prefix % 8));
        return new IPAddress(b);
    }
    private static DateTimeOffset Date(Random r) =>
        new DateTimeOffset(r.NextInt64(DateTime.UnixEpoch.Ticks, DateTime.UnixEpoch.AddYears(100).Ticks), TimeSpan.FromMinutes(r.Next(-14 * 4, 14 * 4) * 15));
}
