using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Model;

/// <summary>
/// What the model's services share, and nothing more: the host namespace, the state directory, the lock that
/// serializes this process's operations, the host's rules as the model writes them, and the services themselves (a
/// network's removal disconnects its endpoints, a repair re-creates a bridge). <see cref="ContainerNetworkManager"/>
/// is a thin facade over one context; a caller that needs one concern builds a context and uses that service alone.
/// </summary>
public sealed class NetworkContext
{
    private NetworkService? _networks;
    private EndpointService? _endpoints;
    private PortPublishing? _ports;
    private NetworkPairs? _pairs;
    private RepairService? _repair;
    private DiagnosisService? _diagnosis;
    private NameResolution? _names;

    /// <param name="host">The namespace that plays the host: bridges, veth host ends and rules live here.</param>
    /// <param name="stateRoot">The state directory; by default <see cref="StateStore.DefaultRoot"/> for <paramref name="host"/>.</param>
    public NetworkContext(NetNamespace host, string? stateRoot = null)
    {
        Host = host;
        State = new StateStore(stateRoot ?? StateStore.DefaultRoot(host.Name, host.Id));
        Rules = new NetworkRules(host);
        StateArgument = State.Root == Path.GetFullPath(StateStore.DefaultRoot(host.Name, host.Id)) ? "" : " -StateDirectory " + FixCommand.Quote(State.Root);
        State.RepairCommand = FixCommand.Cmdlet("Repair-ContainerNetwork" + StateArgument, host.Label);
    }

    /// <summary>" -StateDirectory DIR" when the state is not in the host's default directory, else "": for suggested commands.</summary>
    internal string StateArgument { get; }

    public NetNamespace Host { get; }
    public StateStore State { get; }

    /// <summary>Taken (with the state lock) by every operation of this process, so that two threads never interleave.</summary>
    internal object Sync { get; } = new();

    /// <summary>The network records' rules in the host's firewall (bridge networks, allowed pairs, conntrack).</summary>
    internal NetworkRules Rules { get; }

    /// <summary>Bridge networks: create, remove, look up (with IPAM of subnets).</summary>
    public NetworkService Networks => _networks ??= new NetworkService(this);

    /// <summary>Endpoints: connect and disconnect containers (addresses leased from the network's pool).</summary>
    public EndpointService Endpoints => _endpoints ??= new EndpointService(this);

    /// <summary>Published ports of endpoints, as elements of the host's port maps.</summary>
    public PortPublishing Ports => _ports ??= new PortPublishing(this);

    /// <summary>Pairs of networks allowed to talk despite the isolation between networks.</summary>
    public NetworkPairs Pairs => _pairs ??= new NetworkPairs(this);

    /// <summary>Finds and removes or re-creates what a killed process left behind.</summary>
    public RepairService Repair => _repair ??= new RepairService(this);

    /// <summary>The containers' hosts files (/etc/netns/NAME/hosts): names between containers of a network.</summary>
    public NameResolution Names => _names ??= new NameResolution(this);

    /// <summary>Walks an endpoint's path hop by hop.</summary>
    public DiagnosisService Diagnosis => _diagnosis ??= new DiagnosisService(this);
}

/// <summary>A service of the model: one concern over the shared <see cref="NetworkContext"/>.</summary>
public abstract class ModelService
{
    private protected ModelService(NetworkContext context) => Context = context;

    /// <summary>The context this service works in.</summary>
    public NetworkContext Context { get; }

    private protected NetNamespace Host => Context.Host;
    private protected StateStore State => Context.State;
    private protected object Sync => Context.Sync;
    private protected NetworkRules Rules => Context.Rules;
    private protected PortPublishing Ports => Context.Ports;

    /// <summary><c>ip link del NAME</c> in <paramref name="ns"/>; a link that is gone already is fine.</summary>
    internal static void DeleteLinkIfExists(NetNamespace ns, string name)
    {
        try { ns.Rtnl.DeleteLink(name); }
        catch (ContainerNetworkingException e) when (e.ErrorId == "LinkNotFound") { }
    }

    internal static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    /// <summary>The links of <paramref name="names"/> still there after waiting up to <paramref name="timeout"/> for them to go.</summary>
    private protected List<string> WaitForVethsToGo(List<string> names, TimeSpan timeout)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var left = names;
        while (true)
        {
            left = left.Where(n => Host.Rtnl.FindLink(n) is not null).ToList();
            if (left.Count == 0 || sw.Elapsed >= timeout) return left;
            Thread.Sleep(20);
        }
    }

    private static readonly System.Text.RegularExpressions.Regex OurVeth = new("^veth[0-9a-f]{7}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>
    /// The veths on <paramref name="bridge"/> (among <paramref name="links"/>, the host's) named as Connect names a
    /// container's host end (vethXXXXXXX) that none of <paramref name="endpoints"/> owns: a container's whose record went
    /// while its veth stayed (a process killed in between, a record deleted by hand). Ports someone else added on purpose
    /// (other names) are not among them.
    /// </summary>
    private protected static List<string> OrphanPorts(IEnumerable<Route.LinkInfo> links, string? bridge, IEnumerable<ContainerEndpoint> endpoints)
    {
        var all = links.ToList();
        var bridgeIndex = all.FirstOrDefault(l => l.Name == bridge)?.Index;
        if (bridgeIndex is null) return [];
        var owned = endpoints.Select(e => e.HostInterface).OfType<string>().ToHashSet(StringComparer.Ordinal);
        return all.Where(l => l.Kind == "veth" && l.MasterIndex == bridgeIndex && !owned.Contains(l.Name) && OurVeth.IsMatch(l.Name))
            .Select(l => l.Name).ToList();
    }

    /// <summary>True when the endpoint's namespace is still there and still the one it was connected in.</summary>
    private protected static bool NamespaceStillThere(ContainerEndpoint e)
    {
        if (string.IsNullOrEmpty(e.Namespace)) return false;
        try
        {
            if (!e.Namespace.StartsWith('/') && !NetNamespace.Exists(e.Namespace)) return false;
            using var ns = NetNamespace.Open(e.Namespace);
            return e.NamespaceId == 0 || ns.Id == e.NamespaceId;
        }
        catch (Exception x) when (x is ContainerNetworkingException or IOException or ArgumentException)
        {
            return false;
        }
    }
}
