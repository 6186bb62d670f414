using ContainerNetworking.Model;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// The model's services work alone over a <see cref="NetworkContext"/>, without the manager: each concern (networks,
/// endpoints, diagnosis, repair) over the one shared host, state and lock, and what one builds the others see.
/// </summary>
public sealed class ServiceContextTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose() => _f.Dispose();

    [Fact]
    public void EachServiceWorksAlone_OverOneContext()
    {
        var ctx = new NetworkContext(_f.Host, _f.StateDir);
        var net = ctx.Networks.CreateNetwork(new NetworkSpec { Name = "svc", BridgeName = "br-svc", Subnet = Net("10.77.0.0/24") });
        Assert.Equal("10.77.0.1", Cli.IpJson(_f.HostName, "addr", "show", "br-svc")[0].GetProperty("addr_info")[0].GetProperty("local").GetString());

        var ep = ctx.Endpoints.Connect(new EndpointSpec { Network = net.Name, Namespace = _f.Container("svc"), CreateNamespace = true, Publish = ["8099:80"] });
        Assert.Equal(Ip("10.77.0.2"), ep.IPv4Address);
        Assert.Contains("8099", Cli.InNs(_f.HostName, "nft", "list", "map", "inet", "containernetworking", "ports4").Ok().Stdout);

        // Diagnosis and repair read what the other services built, through the same context.
        Assert.All(ctx.Diagnosis.Test(ep.Container), h => Assert.NotEqual(HopStatus.Broken, h.Status));
        Assert.Empty(ctx.Repair.Repair(whatIf: true));
        // The manager over another context (another process's view) sees the same network and endpoint.
        Assert.Equal(ep.Id, new ContainerNetworkManager(_f.Host, _f.StateDir).GetEndpoint(ep.Container).Id);

        ctx.Endpoints.Disconnect(ep.Id);
        ctx.Endpoints.WaitForTeardown();
        ctx.Networks.RemoveNetwork(net.Name);
        Assert.Empty(Cli.IpJson(_f.HostName, "link", "show", "type", "bridge").EnumerateArray());
        Assert.DoesNotContain("8099", Cli.InNs(_f.HostName, "nft", "list", "ruleset").Ok().Stdout);
    }
}
