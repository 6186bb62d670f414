using System.Net;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Model;

/// <summary>
/// Docker-style container networks of one host namespace: bridge networks with IPAM, NAT and filtering
/// (Docker's bridge driver, CNI bridge + host-local + portmap, netavark), endpoints in the bridge, host, none and
/// container modes, all persisted under <see cref="StateStore.Root"/> so that another process sees and extends
/// what this one built. Every change runs as an <see cref="OperationPlan"/> under the state lock: all or nothing.
/// <para>
/// A thin facade: each method is one service's over one <see cref="NetworkContext"/> (<see cref="NetworkService"/>,
/// <see cref="EndpointService"/>, <see cref="PortPublishing"/>, <see cref="NetworkPairs"/>, <see cref="RepairService"/>,
/// <see cref="DiagnosisService"/>), which <see cref="Context"/> gives to a caller that needs one concern alone.
/// </para>
/// </summary>
public sealed class ContainerNetworkManager
{
    /// <summary>The predefined networks (Docker's): host and none.</summary>
    public const string HostNetwork = NetworkService.HostNetwork;
    public const string NoneNetwork = NetworkService.NoneNetwork;

    /// <param name="host">The namespace that plays the host: bridges, veth host ends and rules live here.</param>
    /// <param name="stateRoot">The state directory; by default <see cref="StateStore.DefaultRoot"/> for <paramref name="host"/>.</param>
    public ContainerNetworkManager(NetNamespace host, string? stateRoot = null) => Context = new NetworkContext(host, stateRoot);

    /// <summary>The context the services share.</summary>
    public NetworkContext Context { get; }

    public NetNamespace Host => Context.Host;
    public StateStore State => Context.State;

    // ---- networks (NetworkService) ---------------------------------------------------------------------------

    /// <inheritdoc cref="NetworkService.GetNetworks"/>
    public IReadOnlyList<ContainerNetwork> GetNetworks() => Context.Networks.GetNetworks();

    /// <inheritdoc cref="NetworkService.GetNetwork"/>
    public ContainerNetwork GetNetwork(string name) => Context.Networks.GetNetwork(name);

    /// <inheritdoc cref="NetworkService.FindNetwork"/>
    public ContainerNetwork? FindNetwork(string name) => Context.Networks.FindNetwork(name);

    /// <inheritdoc cref="NetworkService.PlanCreateNetwork"/>
    public OperationPlan PlanCreateNetwork(NetworkSpec spec) => Context.Networks.PlanCreateNetwork(spec);

    /// <inheritdoc cref="NetworkService.CreateNetwork"/>
    public ContainerNetwork CreateNetwork(NetworkSpec spec) => Context.Networks.CreateNetwork(spec);

    /// <inheritdoc cref="NetworkService.PlanRemoveNetwork"/>
    public OperationPlan PlanRemoveNetwork(string name, bool force = false) => Context.Networks.PlanRemoveNetwork(name, force);

    /// <inheritdoc cref="NetworkService.RemoveNetwork"/>
    public void RemoveNetwork(string name, bool force = false) => Context.Networks.RemoveNetwork(name, force);

    // ---- endpoints (EndpointService) -------------------------------------------------------------------------

    /// <inheritdoc cref="EndpointService.GetEndpoints"/>
    public IReadOnlyList<ContainerEndpoint> GetEndpoints(string? network = null) => Context.Endpoints.GetEndpoints(network);

    /// <inheritdoc cref="EndpointService.GetEndpoint"/>
    public ContainerEndpoint GetEndpoint(string idOrContainer, string? network = null) => Context.Endpoints.GetEndpoint(idOrContainer, network);

    /// <inheritdoc cref="EndpointService.PlanConnect"/>
    public OperationPlan PlanConnect(EndpointSpec spec) => Context.Endpoints.PlanConnect(spec);

    /// <inheritdoc cref="EndpointService.Connect"/>
    public ContainerEndpoint Connect(EndpointSpec spec) => Context.Endpoints.Connect(spec);

    /// <inheritdoc cref="EndpointService.PlanDisconnect"/>
    public OperationPlan PlanDisconnect(string idOrContainer, string? network = null, bool force = false) =>
        Context.Endpoints.PlanDisconnect(idOrContainer, network, force);

    /// <inheritdoc cref="EndpointService.Disconnect"/>
    public ContainerEndpoint Disconnect(string idOrContainer, string? network = null, bool force = false) => Context.Endpoints.Disconnect(idOrContainer, network, force);

    /// <inheritdoc cref="EndpointService.WaitForTeardown"/>
    public void WaitForTeardown(TimeSpan? timeout = null) => Context.Endpoints.WaitForTeardown(timeout);

    /// <inheritdoc cref="EndpointService.TeardownWait"/>
    public static TimeSpan TeardownWait => EndpointService.TeardownWait;

    /// <inheritdoc cref="EndpointService.DockerMac"/>
    public static string DockerMac(IPAddress ipv4) => EndpointService.DockerMac(ipv4);

    // ---- allowed pairs (NetworkPairs) ------------------------------------------------------------------------

    /// <inheritdoc cref="NetworkPairs.PlanAllowBetweenNetworks"/>
    public OperationPlan PlanAllowBetweenNetworks(string network, string otherNetwork) => Context.Pairs.PlanAllowBetweenNetworks(network, otherNetwork);

    /// <inheritdoc cref="NetworkPairs.PlanDisallowBetweenNetworks"/>
    public OperationPlan PlanDisallowBetweenNetworks(string network, string otherNetwork) => Context.Pairs.PlanDisallowBetweenNetworks(network, otherNetwork);

    /// <inheritdoc cref="NetworkPairs.AllowBetweenNetworks"/>
    public void AllowBetweenNetworks(string network, string otherNetwork) => Context.Pairs.AllowBetweenNetworks(network, otherNetwork);

    /// <inheritdoc cref="NetworkPairs.DisallowBetweenNetworks"/>
    public void DisallowBetweenNetworks(string network, string otherNetwork) => Context.Pairs.DisallowBetweenNetworks(network, otherNetwork);

    // ---- repair and diagnosis ----------------------------------------------------------------------------------

    /// <inheritdoc cref="RepairService.Repair"/>
    public IReadOnlyList<RepairFinding> Repair(bool whatIf = false) => Context.Repair.Repair(whatIf);

    /// <inheritdoc cref="DiagnosisService.Test"/>
    public IReadOnlyList<DiagnosticHop> Test(string idOrContainer, string? network = null) => Context.Diagnosis.Test(idOrContainer, network);
}
