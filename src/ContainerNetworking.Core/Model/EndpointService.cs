using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;
using ContainerNetworking.Values;

namespace ContainerNetworking.Model;

/// <summary>
/// Endpoints: containers connected to networks in the bridge, host, none and container modes, with their addresses
/// leased from the network's pool (IPAM, host-local style) and their ports published through <see cref="PortPublishing"/>.
/// </summary>
public sealed partial class EndpointService : ModelService
{
    internal EndpointService(NetworkContext context) : base(context)
    {
    }

    // Bridge name → ifindex, as last used successfully (see CreateHostVeth: a refused index is looked up again).
    private readonly Dictionary<string, int> _bridgeIndex = new(StringComparer.Ordinal);

    /// <summary>Every endpoint, or those of one network.</summary>
    public IReadOnlyList<ContainerEndpoint> GetEndpoints(string? network = null) =>
        network is null ? State.ListAllEndpoints() : State.ListEndpoints(Context.Networks.GetNetwork(network).Name);

    /// <summary>
    /// An endpoint by id, unique id prefix or container name (within <paramref name="network"/> when given).
    /// "EndpointNotFound" / "AmbiguousEndpoint".
    /// </summary>
    public ContainerEndpoint GetEndpoint(string idOrContainer, string? network = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(idOrContainer);
        var all = GetEndpoints(network);
        var matches = all.Where(e => e.Id == idOrContainer).ToList();
        if (matches.Count == 0) matches = all.Where(e => e.Container == idOrContainer).ToList();
        if (matches.Count == 0 && idOrContainer.Length >= 4) matches = all.Where(e => e.Id.StartsWith(idOrContainer, StringComparison.Ordinal)).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new ContainerNetworkingException("EndpointNotFound", ErrorKind.NotFound,
                $"No endpoint '{idOrContainer}'{(network is null ? "" : " on network '" + network + "'")}. List them with Get-ContainerEndpoint."),
            _ => throw new ContainerNetworkingException("AmbiguousEndpoint", ErrorKind.InvalidArgument,
                $"'{idOrContainer}' matches {matches.Count} endpoints ({string.Join(", ", matches.Select(m => m.Network + "/" + m.Id[..12]))}). Name the network, or give the endpoint id."),
        };
    }

    /// <summary>The plan <see cref="Connect"/> would run (validated; nothing changed, no address leased): -WhatIf.</summary>
    public OperationPlan PlanConnect(EndpointSpec spec)
    {
        lock (Sync)
        using (State.LockForReading())
        {
            var ns = new NsRef();
            try { return BuildConnect(spec, out _, ns); }
            finally { ns.Dispose(); }
        }
    }

    /// <summary>
    /// Attaches a container namespace to a network, all or nothing. Bridge mode, as Docker and CNI bridge do it:
    /// <c>ip link add vethXXXXXXX mtu M master BRIDGE up type veth peer name eth0 address 02:42:… netns NS;
    /// ip -n NS link set lo up; ip -n NS link set eth0 up; ip -n NS addr add IP/LEN dev eth0;
    /// ip -n NS route add default via GATEWAY</c>, then the published ports (nft map elements). Host mode records
    /// only; none mode brings up lo; container mode joins another endpoint's namespace.
    /// Errors: "NetworkNotFound", "NetNamespaceNotFound", "NetNamespaceExists", "NamespaceAlreadyAttached",
    /// "EndpointExists", "InterfaceExists", "AddressInUse", "AddressOutsideRange", "AddressRangeExhausted",
    /// "InvalidPortSpec", "PortAlreadyAllocated", "HostPortInUse", "PortsNotSupported", "InvalidMacAddress".
    /// </summary>
    public ContainerEndpoint Connect(EndpointSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        // A namespace to create is begun first, unnamed: the kernel makes it on a worker thread while this one takes
        // the lock, plans and writes the intent record; the CreateNamespace step names it. Refused or failed, the
        // Connect lets it go, and nothing of it was ever visible.
        var ns = new NsRef { Early = BeginNamespaceFirst && spec.CreateNamespace && spec.ShareWith is null && !string.IsNullOrEmpty(spec.Namespace) ? NetNamespace.BeginCreateUnnamed() : null };
        try
        {
            lock (Sync)
            {
                var t = OperationPlan.StepTimes is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
                var held = State.Lock();
                try
                {
                    OperationPlan.Timed("(lock)", ref t);
                    var plan = BuildConnect(spec, out var endpoint, ns);
                    OperationPlan.Timed("(plan: validation, IPAM, id, ports)", ref t);
                    plan.Execute();
                    t = OperationPlan.StepTimes is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
                    return endpoint;
                }
                finally
                {
                    held.Dispose();
                    OperationPlan.Timed("(unlock: directory fsyncs)", ref t);
                }
            }
        }
        finally { ns.Dispose(); }
    }

    /// <summary>False: the namespace is begun by the CreateNamespace step, not before the plan (the bench's profile compares the two).</summary>
    internal static bool BeginNamespaceFirst { get; set; } = true;

    private OperationPlan BuildConnect(EndpointSpec spec, out ContainerEndpoint endpoint, NsRef cref)
    {
        ArgumentNullException.ThrowIfNull(spec);
        NetNamespace? opened = null;
        if (spec.ShareWith is not null) return BuildJoin(spec, out endpoint);
        if (string.IsNullOrEmpty(spec.Network))
            throw new ContainerNetworkingException("NetworkNotFound", ErrorKind.InvalidArgument,
                "No network given. Name a bridge network, 'host' or 'none', or give ShareWith for container mode.");
        var net = Context.Networks.GetNetwork(spec.Network);
        if (net.State != RecordState.Ready)
            throw new ContainerNetworkingException("NetworkIncomplete", ErrorKind.InvalidOperation,
                net.State == RecordState.Removing
                    ? $"Network '{net.Name}' is being removed (state Removing): a removal was interrupted. Run Repair-ContainerNetwork to finish it, then create the network again."
                    : $"Network '{net.Name}' was left half-built by a process that stopped (state {net.State}). Run Repair-ContainerNetwork, then create it again.");
        var specs = spec.Publish.Select(PortSpec.Parse).ToList();
        NameResolution.ValidateAliases(spec.Aliases);
        if (specs.Count > 0 && net.Driver != NetworkDriver.Bridge)
            throw new ContainerNetworkingException("PortsNotSupported", ErrorKind.InvalidArgument,
                $"Ports cannot be published on the '{net.Name}' network: {(net.Driver == NetworkDriver.Host ? "a host-mode container already listens on the host's own addresses" : "a none-mode container has no outside interface")}. Remove -Publish, or connect to a bridge network.");
        if (specs.Count > 0 && net.Internal)
            throw new ContainerNetworkingException("PortsNotSupported", ErrorKind.InvalidArgument,
                $"Ports cannot be published on the internal network '{net.Name}': it has no access to or from the outside, so nothing could reach them (docker refuses this too). Remove -Publish, or connect the container to a network that is not -Internal and publish there.");
        if (net.Driver == NetworkDriver.Bridge) PortPublishing.CheckFamilies(net, specs);
        var endpoints = State.ListEndpoints(net.Name);
        var id = NewEndpointId(endpoints);

        if (net.Driver == NetworkDriver.Host)
        {
            var container = spec.Container ?? spec.Namespace ?? throw new ContainerNetworkingException("InvalidName", ErrorKind.InvalidArgument,
                "A host-mode endpoint needs a container name (Container).");
            CheckContainerFree(endpoints, container, net);
            var rec = NewRecord(id, net, container, EndpointMode.Host, Host.Name ?? Host.Path, Host.Id, false);
            endpoint = rec;
            var p = new OperationPlan($"Connect {container} to network host (no namespace of its own)");
            AddRecordSteps(p, net, rec, () => { });
            return p;
        }

        // none and bridge: a namespace of its own, opened or created.
        if (string.IsNullOrEmpty(spec.Namespace))
            throw new ContainerNetworkingException("NetNamespaceNotFound", ErrorKind.InvalidArgument,
                "No namespace given. Name the container's namespace (Namespace), with CreateNamespace to create it.");
        ulong nsId = 0;
        string nsName;
        if (spec.CreateNamespace)
        {
            NetNamespace.ValidateName(spec.Namespace);
            if (NetNamespace.Exists(spec.Namespace))
                throw new NetNamespaceExistsException(spec.Namespace,
                    $"Network namespace '{spec.Namespace}' already exists, so it cannot be created. Connect it without CreateNamespace, or choose another name.");
            nsName = spec.Namespace;
        }
        else
        {
            opened = cref.Value = NetNamespace.Open(spec.Namespace);
            nsId = opened.Id;
            nsName = spec.NamespaceByPath && spec.Namespace.StartsWith('/') ? opened.Path : opened.Name ?? opened.Path;
            if (nsId == Host.Id)
                throw new ContainerNetworkingException("NamespaceAlreadyAttached", ErrorKind.InvalidArgument,
                    $"Namespace '{spec.Namespace}' is the host namespace itself. Connect it to the 'host' network, or give the container a namespace of its own.");
            var id0 = nsId;
            if (State.ListAllEndpoints().FirstOrDefault(e => e.NamespaceId == id0 && e.Network == net.Name && e.Mode != EndpointMode.Container) is { } other)
                throw new ContainerNetworkingException("NamespaceAlreadyAttached", ErrorKind.AlreadyExists,
                    $"Namespace '{spec.Namespace}' is already attached to network '{net.Name}' as endpoint {other.Id[..12]} ({other.Container}). Disconnect it first, or connect it to another network.");
        }
        var containerName = spec.Container ?? Path.GetFileName(nsName);
        CheckContainerFree(endpoints, containerName, net);

        if (net.Driver == NetworkDriver.None)
        {
            var rec = NewRecord(id, net, containerName, EndpointMode.None, nsName, nsId, spec.CreateNamespace);
            endpoint = rec;
            var p = new OperationPlan($"Connect {containerName} to network none (loopback only)");
            AddRecordSteps(p, net, rec, () =>
            {
                AddNamespaceSteps(p, spec, rec, cref);
                p.Add("LoopbackUp", $"ip -n {nsName} link set lo up", () => cref.Get().Rtnl.SetLinkUp("lo"));
            });
            endpoint = rec;
            return p;
        }

        // Bridge mode.
        var ifName = spec.InterfaceName;
        if (ifName is not null) NetworkService.CheckLinkName(ifName, "interface name");
        if (opened is not null)
        {
            var links = opened.Rtnl.GetLinks().Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
            if (ifName is not null && links.Contains(ifName))
                throw new ContainerNetworkingException("InterfaceExists", ErrorKind.AlreadyExists,
                    $"Namespace '{nsName}' already has an interface '{ifName}'. Choose another InterfaceName, or omit it to get the next free ethN.");
            ifName ??= Enumerable.Range(0, 1000).Select(i => "eth" + i).First(n => !links.Contains(n));
        }
        ifName ??= "eth0";

        // One lease file looked up per candidate address (allocation starts after last_reserved_ip, as host-local's does),
        // not a listing of every lease: the cost does not grow with the number of endpoints.
        bool Leased(IPAddress a) => State.IsLeased(net.Name, a);
        // An IPv6-only network (no IPv4 subnet) gives no IPv4 address.
        var pool4 = net.Pool4();
        IPAddress? ip4 = null;
        if (pool4 is null)
        {
            if (spec.IPv4Address is not null)
                throw new ContainerNetworkingException("AddressOutsideRange", ErrorKind.InvalidArgument,
                    $"Network '{net.Name}' is IPv6-only, so {spec.IPv4Address} cannot be assigned. Give -IPv6Address, or connect to a network with an IPv4 subnet.");
        }
        else if (spec.IPv4Address is { } req4)
        {
            pool4.CheckStatic(req4, Leased);
            ip4 = req4;
        }
        else ip4 = pool4.Allocate(Leased, State.LastReserved(net.Name, AddressFamily.InterNetwork));
        IPAddress? ip6 = null;
        var pool6 = net.Pool6();
        if (pool6 is not null)
        {
            if (spec.IPv6Address is { } req6)
            {
                pool6.CheckStatic(req6, Leased);
                ip6 = req6;
            }
            else ip6 = pool6.Allocate(Leased, State.LastReserved(net.Name, AddressFamily.InterNetworkV6));
        }
        else if (spec.IPv6Address is not null)
            throw new ContainerNetworkingException("AddressOutsideRange", ErrorKind.InvalidArgument,
                $"Network '{net.Name}' has no IPv6 subnet, so {spec.IPv6Address} cannot be assigned. Create the network with -SubnetV6 for dual stack.");
        // Docker's MAC is derived from the IPv4 address; without one (IPv6-only) it is random, as Docker's then.
        var mac = spec.MacAddress is not null ? MacAddress.Normalize(spec.MacAddress) : ip4 is not null ? DockerMac(ip4) : MacAddress.Random();
        var addresses = string.Join(" and ", new[] { ip4, ip6 }.OfType<IPAddress>());

        // Host ports: not held by a record, the port maps or a socket of the host (see PortPublishing.Resolve).
        var ports = Ports.Resolve(specs);

        // The container on other networks already (docker network connect): one default route per family, the one of
        // the highest gateway priority (ties: the network connected first).
        var mates = NamespaceMates(nsId, net.Name);
        var wantsRoute = !net.Internal && !net.NoDefaultRoute && spec.DefaultRoute;
        var holder4 = mates.FirstOrDefault(e => e.Gateway is not null);
        var holder6 = mates.FirstOrDefault(e => e.GatewayV6 is not null);
        var take4 = wantsRoute && (holder4 is null || spec.GatewayPriority > holder4.GatewayPriority);
        var take6 = wantsRoute && net.GatewayV6 is not null && (holder6 is null || spec.GatewayPriority > holder6.GatewayPriority);

        var veth = "veth" + id[..7];
        var side = new ContainerSide(cref.Get);
        var record = new ContainerEndpoint
        {
            Id = id,
            Network = net.Name,
            Container = containerName,
            Mode = EndpointMode.Bridge,
            Namespace = nsName,
            NamespaceId = nsId,
            CreatedNamespace = spec.CreateNamespace,
            InterfaceName = ifName,
            HostInterface = veth,
            MacAddress = mac,
            IPv4Address = ip4,
            PrefixLength = net.Subnet?.PrefixLength ?? 0,
            IPv6Address = ip6,
            PrefixLengthV6 = net.SubnetV6?.PrefixLength ?? 0,
            Gateway = take4 ? net.Gateway : null,
            GatewayV6 = take6 ? net.GatewayV6 : null,
            GatewayPriority = spec.GatewayPriority,
            NoDefaultRoute = !spec.DefaultRoute,
            Ports = ports,
            Aliases = [.. spec.Aliases],
            Origin = spec.Origin,
            Created = DateTimeOffset.UtcNow,
            State = RecordState.Creating,
            OwnerPid = Environment.ProcessId,
        };
        endpoint = record;
        var plan = new OperationPlan($"Connect {containerName} to network {net.Name}: {addresses.Replace(" and ", ", ")} on {ifName} ({mac}), host side {veth} on {net.BridgeName}");
        AddRecordSteps(plan, net, record, () =>
        {
            AddNamespaceSteps(plan, spec, record, cref);
            plan.Add("LeaseAddress", $"lease {addresses} ({State.Root}/networks/{net.Name}/leases/); {DescribeStaleFlush(addresses)}", () =>
            {
                // Staged: made durable and put in place with the Ready record (CommitEndpoint), one fsync for both.
                if (ip4 is not null) State.WriteLease(net.Name, ip4, id, staged: true);
                if (ip6 is not null) State.WriteLease(net.Name, ip6, id, staged: true);
                // A removed container's flows of the address go before the address is the container's: its old
                // translated or masqueraded flows would reach this one. (Its own flows cannot exist yet.)
                FlushStaleFlows(net.Name, [ip4, ip6], []);
            }, () =>
            {
                if (ip4 is not null) State.ReleaseLease(net.Name, ip4, id);
                if (ip6 is not null) State.ReleaseLease(net.Name, ip6, id);
            });
            // The steps that need neither the namespace nor the veth come before them: the kernel makes the namespace on a
            // worker thread meanwhile (begun at the Connect's start), and CreateVeth is the first to wait for it. A port
            // published a moment before the veth is there only answers a moment later; a name listed a moment early
            // resolves to an address that answers a moment later.
            if (ports.Count > 0)
                plan.Add("PublishPorts", Ports.DescribePorts(net, record) + (UdpHostPorts(record).Any() ? "; " + DescribeStaleFlush("its UDP host ports") : ""), () =>
                {
                    PublishChoosingAgain(net, record, specs);
                    // A UDP client that sends from a fixed port keeps an old flow to the port, translated to a removed
                    // container (or, made while nothing was published there, not translated at all): flushed once
                    // the new mapping is in place, so that the client's next packet is translated by it. Flushed
                    // before, a packet in between would make such an untranslated flow again (moby #8795).
                    FlushStaleFlows(net.Name, [], UdpHostPorts(record));
                }, () => Ports.RemovePorts(net, record));
            if (!nsName.StartsWith('/'))
                plan.Add("WriteHostsFiles", $"write {NameResolution.DirectoryOf(nsName)}/hosts and those of the other containers of {net.Name}",
                    () => Context.Names.Refresh([net.Name], [nsName]), () => Context.Names.Refresh([net.Name], [nsName], record.Id));
            plan.Add("CreateVeth", $"ip link add {veth}{(net.Mtu > 0 ? " mtu " + net.Mtu : "")} master {net.BridgeName} up type veth peer name {ifName} address {mac} netns {nsName}; " +
                $"bridge link set dev {veth} hairpin {(spec.Hairpin ? "on" : "off")}",
                () =>
                {
                    (var index, side.PeerIndex) = CreateHostVeth(net, veth, ifName, cref.Get(), new VethOptions
                    {
                        Mtu = net.Mtu > 0 ? net.Mtu : null,
                        PeerMacAddress = mac,
                        Master = net.BridgeName,
                        Up = true,
                        // PeerUp is not used: with IFLA_NET_NS_FD the kernel refuses it (ENOTCONN); eth0 goes up below.
                    });
                    // Hairpin: the container can reach its own published port through the host's address (the
                    // translated packet goes back out of the port it came in on), as Docker sets it without the userland proxy.
                    // Off (CNI's hairpinMode false): the port keeps the kernel's default, as the reference bridge plugin leaves it.
                    if (spec.Hairpin) Host.Rtnl.SetBridgePort(index, new BridgePortOptions { Hairpin = true });
                },
                () => DeleteLinkIfExists(Host, veth));
            // The container's requests (links up, addresses, default routes) are queued by their steps and sent in one
            // datagram by the last of them (ContainerSide): one round trip instead of one per request and per lookup.
            // Without an IPv6 address the container's interface comes up without IPv6 of its own, as Docker disables IPv6
            // on the interfaces of IPv4-only networks: its link-local address would send duplicate address detection,
            // MLD reports and router solicitations, each flooded by the bridge to every other container (with 1000 on
            // the bridge, 7 ms of the host's CPU per Connect, measured).
            var quiet = ip6 is null && IPv6Possible(net.Mtu);
            plan.Add("InterfacesUp", $"ip -n {nsName} link set lo up; {(quiet ? $"ip -n {nsName} link set {ifName} addrgenmode none; " : "")}ip -n {nsName} link set {ifName} up", side.Queue(
                b =>
                {
                    b.SetLinkUp(LoopbackIndex, "lo");
                    if (quiet) b.SetIPv6AddressGeneration(side.PeerIndex, ifName, IPv6AddressGeneration.None);
                    b.SetLinkUp(side.PeerIndex, ifName);
                },
                r => { r.SetLinkUp("lo"); r.SetLink(ifName, new LinkChanges { Up = true, IPv6AddressGeneration = quiet ? IPv6AddressGeneration.None : null }); }));
            if (ip4 is not null)
                plan.Add("AddAddress", $"ip -n {nsName} addr add {ip4}/{record.PrefixLength} dev {ifName}", side.Queue(
                    b => b.AddAddress(side.PeerIndex, ifName, ip4, record.PrefixLength),
                    r => r.AddAddress(ifName, ip4, record.PrefixLength)));
            if (ip6 is not null)
                plan.Add("AddAddressV6", $"ip -n {nsName} addr add {ip6}/{record.PrefixLengthV6} dev {ifName}", side.Queue(
                    b => b.AddAddress(side.PeerIndex, ifName, ip6, record.PrefixLengthV6),
                    r => r.AddAddress(ifName, ip6, record.PrefixLengthV6)));
            AddDefaultRouteStep(plan, record, record.Gateway, holder4, e => e.Gateway, (e, g) => e.Gateway = g, cref.Get, side);
            AddDefaultRouteStep(plan, record, record.GatewayV6, holder6, e => e.GatewayV6, (e, g) => e.GatewayV6 = g, cref.Get, side);
            // Sent after the container's batch (the link is up and has its address by then).
            var routes = net.ResolvedRoutes().Where(r => ip6 is not null || r.Destination.BaseAddress.AddressFamily == AddressFamily.InterNetwork).ToList();
            if (routes.Count > 0)
                plan.Add("AddNetworkRoutes", string.Join("; ", routes.Select(r => $"ip -n {nsName} route add {r.Destination} via {r.Gateway} dev {ifName}")),
                    () => { foreach (var r in routes) cref.Get().Rtnl.AddRoute(new RouteSpec(r.Destination, r.Gateway, ifName)); });
            // Only now, with everything in place, is the address the last one reserved: a failed Connect leaves the
            // hint where it was.
            plan.Add("NoteLastReserved", string.Join("; ", new[] { ip4, ip6 }.OfType<IPAddress>().Select(a =>
                $"echo {a} > {State.Root}/networks/{net.Name}/last_reserved_ip.{(a.AddressFamily == AddressFamily.InterNetworkV6 ? 6 : 4)}")), () =>
            {
                if (ip4 is not null) State.WriteLastReserved(net.Name, ip4);
                if (ip6 is not null) State.WriteLastReserved(net.Name, ip6);
            });
        });
        return plan;
    }

    /// <summary>
    /// Publishes the endpoint's ports (one batch, the elements created exclusively). Another process may have published
    /// a chosen port since it was chosen (Publish-ContainerPort takes no state lock): the kernel then refuses the batch
    /// (EEXIST), and the ports that were chosen are chosen again, now seeing it, up to <see cref="ChoiceAttempts"/> times;
    /// the intent record is rewritten with them first, so that a crash leaves a record that names what is published.
    /// Explicit ports are not chosen again: their conflict is the error.
    /// </summary>
    private void PublishChoosingAgain(ContainerNetwork net, ContainerEndpoint record, IReadOnlyList<PortSpec> specs)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Ports.AddPorts(net, record);
                return;
            }
            catch (ContainerNetworkingException e) when (e.ErrorId == "PortAlreadyPublished" && attempt < ChoiceAttempts && specs.Any(s => s.ChoosesHostPorts))
            {
                var again = Ports.Resolve(specs, self: record.Id);
                if (again.SequenceEqual(record.Ports)) throw;
                record.Ports.Clear();
                record.Ports.AddRange(again);
                State.WriteEndpoint(record);
            }
        }
    }

    /// <summary>How often a Connect chooses its host ports again when another process took one meanwhile.</summary>
    private const int ChoiceAttempts = 4;

    /// <summary>
    /// The container's default route of one family via <paramref name="gateway"/> (null: none from this endpoint). When
    /// another network of the container holds it (<paramref name="holder"/>), the route is replaced and the holder's
    /// record no longer claims it; rolled back, the holder's route comes back.
    /// </summary>
    private void AddDefaultRouteStep(OperationPlan plan, ContainerEndpoint record, IPAddress? gateway, ContainerEndpoint? holder,
        Func<ContainerEndpoint, IPAddress?> get, Action<ContainerEndpoint, IPAddress?> set, Func<NetNamespace> ns, ContainerSide side)
    {
        if (gateway is null) return;
        var v6 = gateway.AddressFamily == AddressFamily.InterNetworkV6 ? " -6" : "";
        var ifName = record.InterfaceName!;
        if (holder is null)
        {
            plan.Add("AddDefaultRoute" + (v6.Length > 0 ? "V6" : ""), $"ip -n {record.Namespace}{v6} route add default via {gateway} dev {ifName}", side.Queue(
                b => b.AddDefaultRoute(gateway, side.PeerIndex, ifName),
                r => r.AddDefaultRoute(gateway, ifName)));
            return;
        }
        var old = get(holder)!;
        plan.Add("MoveDefaultRoute" + (v6.Length > 0 ? "V6" : ""),
            $"ip -n {record.Namespace}{v6} route replace default via {gateway} dev {ifName} (from {old} of network {holder.Network}: higher gateway priority)", () =>
            {
                side.Send(); // the link up and its address first
                ns().Rtnl.AddRoute(DefaultRoute(gateway, ifName), replace: true);
                set(holder, null);
                State.WriteEndpoint(holder);
            }, () =>
            {
                ns().Rtnl.AddRoute(DefaultRoute(old, holder.InterfaceName!), replace: true);
                set(holder, old);
                State.WriteEndpoint(holder);
            });
    }

    /// <summary>
    /// Whether an interface of MTU <paramref name="mtu"/> (0: the kernel's default, 1500) has IPv6 at all: the kernel
    /// gives none to a link below IPv6's minimum MTU, 1280, nor to any link when IPv6 is off, and refuses an address
    /// generation mode for such a link (EAFNOSUPPORT).
    /// </summary>
    private static bool IPv6Possible(int mtu) => (mtu == 0 || mtu >= 1280) && Socket.OSSupportsIPv6;

    private static RouteSpec DefaultRoute(IPAddress gateway, string ifName) =>
        new(new IPNetwork(gateway.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0), gateway, ifName);

    /// <summary>The container's bridge endpoints on networks other than <paramref name="network"/>: those in the namespace of inode <paramref name="nsId"/>.</summary>
    private List<ContainerEndpoint> NamespaceMates(ulong nsId, string network, string? exceptId = null) =>
        nsId == 0 ? [] : State.ListAllEndpoints()
            .Where(e => e.NamespaceId == nsId && e.Network != network && e.Id != exceptId && e.Mode == EndpointMode.Bridge)
            .OrderBy(e => e.Created).ToList();

    /// <summary>
    /// Creates the veth with its host end on the network's bridge, in one request, and returns the host end's index.
    /// The bridge's index is remembered per bridge name; if the kernel refuses it (the bridge was re-created, so the
    /// index is gone) it is looked up again by name and the request retried once.
    /// </summary>
    private (int Index, int PeerIndex) CreateHostVeth(ContainerNetwork net, string veth, string ifName, NetNamespace container, VethOptions options)
    {
        var bridge = net.BridgeName!;
        var cached = _bridgeIndex.TryGetValue(bridge, out var known);
        var index = cached ? known : Host.Rtnl.GetLink(bridge).Index;
        try
        {
            var i = Host.Rtnl.CreateVethIndexes(veth, ifName, container.Handle, options, index);
            _bridgeIndex[bridge] = index;
            return i;
        }
        catch (Netlink.NetlinkException) when (cached)
        {
            _bridgeIndex.Remove(bridge);
            var fresh = Host.Rtnl.GetLink(bridge).Index;
            if (fresh == index) throw;
            var i = Host.Rtnl.CreateVethIndexes(veth, ifName, container.Handle, options, fresh);
            _bridgeIndex[bridge] = fresh;
            return i;
        }
    }

    /// <summary>Container mode: a record pointing at another endpoint's namespace (a pod's containers).</summary>
    private OperationPlan BuildJoin(EndpointSpec spec, out ContainerEndpoint endpoint)
    {
        if (spec.Publish.Count > 0)
            throw new ContainerNetworkingException("PortsNotSupported", ErrorKind.InvalidArgument,
                $"A container that shares the namespace of '{spec.ShareWith}' cannot publish its own ports: the pod's ports are published once, on the endpoint that owns the namespace. Publish them there.");
        var target = GetEndpoint(spec.ShareWith!);
        if (target.Mode == EndpointMode.Container) target = GetEndpoint(target.SharedWith!, target.Network);
        if (target.State != RecordState.Ready)
            throw new ContainerNetworkingException("EndpointIncomplete", ErrorKind.InvalidOperation,
                $"Endpoint {target.Id[..12]} is not complete (state {target.State}). Run Repair-ContainerNetwork and connect it again.");
        var net = Context.Networks.GetNetwork(target.Network);
        var container = spec.Container ?? throw new ContainerNetworkingException("InvalidName", ErrorKind.InvalidArgument,
            "A container that joins another one's namespace needs its own container name (Container).");
        var endpoints = State.ListEndpoints(net.Name);
        CheckContainerFree(endpoints, container, net);
        var rec = new ContainerEndpoint
        {
            Id = NewEndpointId(endpoints),
            Network = net.Name,
            Container = container,
            Mode = EndpointMode.Container,
            Namespace = target.Namespace,
            NamespaceId = target.NamespaceId,
            InterfaceName = target.InterfaceName,
            MacAddress = target.MacAddress,
            IPv4Address = target.IPv4Address,
            PrefixLength = target.PrefixLength,
            IPv6Address = target.IPv6Address,
            PrefixLengthV6 = target.PrefixLengthV6,
            Gateway = target.Gateway,
            GatewayV6 = target.GatewayV6,
            SharedWith = target.Id,
            Created = DateTimeOffset.UtcNow,
            State = RecordState.Creating,
            OwnerPid = Environment.ProcessId,
        };
        endpoint = rec;
        var plan = new OperationPlan($"Connect {container} to the namespace of {target.Container} ({target.Namespace}) on network {net.Name}");
        AddRecordSteps(plan, net, rec, () => { });
        return plan;
    }

    private void AddRecordSteps(OperationPlan plan, ContainerNetwork net, ContainerEndpoint rec, Action middle)
    {
        plan.Add("WriteEndpointIntent", $"write {State.Root}/networks/{net.Name}/endpoints/{rec.Id}.json (state Creating)", () =>
        {
            if (net.IsPredefined && State.ReadNetwork(net.Name) is null) State.WriteNetwork(net);
            State.WriteEndpoint(rec);
        }, () => State.DeleteEndpoint(net.Name, rec.Id));
        middle();
        plan.Add("CommitEndpoint", $"mark endpoint {rec.Id[..12]} Ready (with its lease: one group commit)", () =>
        {
            rec.State = RecordState.Ready;
            State.WriteEndpoint(rec, withStaged: true);
        });
    }

    private ContainerEndpoint NewRecord(string id, ContainerNetwork net, string container, EndpointMode mode, string ns, ulong nsId, bool created) => new()
    {
        Id = id,
        Network = net.Name,
        Container = container,
        Mode = mode,
        Namespace = ns,
        NamespaceId = nsId,
        CreatedNamespace = created,
        Created = DateTimeOffset.UtcNow,
        State = RecordState.Creating,
        OwnerPid = Environment.ProcessId,
    };

    private static void CheckContainerFree(IEnumerable<ContainerEndpoint> endpoints, string container, ContainerNetwork net)
    {
        if (endpoints.FirstOrDefault(e => e.Container == container) is { } e)
            throw new ContainerNetworkingException("EndpointExists", ErrorKind.AlreadyExists,
                $"Container '{container}' is already connected to network '{net.Name}' (endpoint {e.Id[..12]}). Disconnect it first, or give another container name.");
    }

    private string NewEndpointId(IReadOnlyList<ContainerEndpoint> endpoints)
    {
        while (true)
        {
            var id = Hex(KernelRandom.GetBytes(32));
            var veth = "veth" + id[..7];
            if (endpoints.Any(e => e.HostInterface == veth)) continue;
            if (Host.Rtnl.FindLink(veth) is not null) continue;
            return id;
        }
    }

    /// <summary>Docker's container MAC: 02:42 followed by the IPv4 address (02:42:ac:11:00:02 for 172.17.0.2).</summary>
    public static string DockerMac(IPAddress ipv4)
    {
        if (ipv4.AddressFamily != AddressFamily.InterNetwork) throw new ArgumentException("An IPv4 address is needed.", nameof(ipv4));
        Span<byte> b = stackalloc byte[6];
        b[0] = 0x02; b[1] = 0x42;
        ipv4.TryWriteBytes(b[2..], out _);
        return MacAddress.Format(b);
    }
}
