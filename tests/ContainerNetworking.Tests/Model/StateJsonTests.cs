using System.Net;
using System.Text.Json;
using ContainerNetworking.Model;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// The state files, through the store: the layout the serializer wrote before (camelCase, enums as names, addresses
/// and prefixes as text, nulls left out; RecordJsonTests compares RecordJson with the serializer itself), so that
/// state written by an older module still reads and the CNI plugin and the cmdlets share it.
/// </summary>
public sealed class StateJsonTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cn-json-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Endpoint_RoundTrips_InTheFormerLayout()
    {
        var store = new StateStore(_dir);
        var ep = new ContainerEndpoint
        {
            Id = new string('a', 64), Network = "n1", Container = "c1", Mode = EndpointMode.Bridge, Namespace = "c1", NamespaceId = 42,
            InterfaceName = "eth0", HostInterface = "vethaaaaaaa", IPv4Address = IPAddress.Parse("172.17.0.2"), PrefixLength = 16,
            Gateway = IPAddress.Parse("172.17.0.1"), Ports = [new PublishedPort(null, 8080, 80, PortProtocol.Tcp)],
            Created = DateTimeOffset.UnixEpoch, State = RecordState.Ready,
        };
        store.WriteEndpoint(ep);
        var text = File.ReadAllText(Path.Combine(_dir, "networks", "n1", "endpoints", ep.Id + ".json"));
        var doc = JsonDocument.Parse(text).RootElement;
        Assert.Equal("172.17.0.2", doc.GetProperty("iPv4Address").GetString());
        Assert.Equal("Bridge", doc.GetProperty("mode").GetString());
        Assert.Equal("Ready", doc.GetProperty("state").GetString());
        Assert.Equal("Tcp", doc.GetProperty("ports")[0].GetProperty("protocol").GetString());
        Assert.False(doc.TryGetProperty("iPv6Address", out _));
        Assert.Contains("\n", text); // indented
        var back = store.ReadEndpoint("n1", ep.Id)!;
        Assert.Equal(ep.IPv4Address, back.IPv4Address);
        Assert.Equal(ep.Ports, back.Ports);
        Assert.Equal(42UL, back.NamespaceId);
    }

    [Fact]
    public void Network_RoundTrips_AndABadAddressIsStateCorrupt()
    {
        var store = new StateStore(_dir);
        store.WriteNetwork(new ContainerNetwork { Name = "n2", Id = new string('b', 64), BridgeName = "br0", Subnet = IPNetwork.Parse("10.9.0.0/24"), Gateway = IPAddress.Parse("10.9.0.1") });
        var path = Path.Combine(_dir, "networks", "n2", "network.json");
        Assert.Contains("\"subnet\": \"10.9.0.0/24\"", File.ReadAllText(path));
        Assert.Equal(IPNetwork.Parse("10.9.0.0/24"), store.ReadNetwork("n2")!.Subnet);
        File.WriteAllText(path, File.ReadAllText(path).Replace("10.9.0.0/24", "not-a-prefix"));
        var e = Assert.Throws<ContainerNetworkingException>(() => store.ReadNetwork("n2"));
        Assert.Equal("StateCorrupt", e.ErrorId);
    }
}
