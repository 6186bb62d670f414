using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;
using ContainerNetworking.Values;

namespace ContainerNetworking.Model;

/// <summary>
/// Bridge networks (Docker's bridge driver, CNI bridge + host-local): created with their bridge, gateway addresses,
/// forwarding and rules, all or nothing; removed with their endpoints on request; looked up with the predefined host
/// and none networks. Subnets are chosen from Docker's default pools when none is given.
/// </summary>
public sealed class NetworkService : ModelService
{
    /// <summary>The predefined networks (Docker's): host and none.</summary>
    public const string HostNetwork = "host";
    public const string NoneNetwork = "none";

    private static readonly Regex NetworkName = new("^[A-Za-z0-9][A-Za-z0-9_.-]{0,55}$", RegexOptions.CultureInvariant);

    internal NetworkService(NetworkContext context) : base(context)
    {
    }

    // ---- networks ------------------------------------------------------------------------------------------

    /// <summary>Every network: the predefined host and none, and the bridge networks in the state directory.</summary>
    public IReadOnlyList<ContainerNetwork> GetNetworks()
    {
        var list = State.ListNetworks().Where(n => !n.IsPredefined).ToList();
        list.Insert(0, Predefined(NoneNetwork));
        list.Insert(0, Predefined(HostNetwork));
        return list;
    }

    /// <summary>A network by name; "NetworkNotFound" when there is none.</summary>
    public ContainerNetwork GetNetwork(string name) => FindNetwork(name) ?? throw NetworkNotFound(name);

    public ContainerNetwork? FindNetwork(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name is HostNetwork or NoneNetwork) return Predefined(name);
        return NetworkName.IsMatch(name) ? State.ReadNetwork(name) : null;
    }

    private static ContainerNetwork Predefined(string name) => new()
    {
        Name = name,
        Id = Hex(SHA256.HashData(Encoding.UTF8.GetBytes("predefined:" + name))),
        Driver = name == HostNetwork ? NetworkDriver.Host : NetworkDriver.None,
        Masquerade = false,
    };

    private ContainerNetworkingException NetworkNotFound(string name) => new("NetworkNotFound", ErrorKind.NotFound,
        $"Network '{name}' does not exist in {State.Root}. List networks with Get-ContainerNetwork; create one with New-ContainerNetwork -Name {name}.");

    /// <summary>The plan <see cref="CreateNetwork"/> would run (validated, nothing changed): what -WhatIf shows.</summary>
    public OperationPlan PlanCreateNetwork(NetworkSpec spec)
    {
        lock (Sync)
        using (State.LockForReading())
            return BuildCreateNetwork(spec, out _);
    }

    /// <summary>
    /// Creates a bridge network: the bridge with the gateway address(es), up; forwarding on in the host namespace;
    /// masquerade and forward-filter rules; the record. All or nothing. Like <c>docker network create</c>, i.e.
    /// <c>ip link add br-… type bridge; ip addr add GW/LEN dev br-…; ip link set br-… up;
    /// sysctl net.ipv4.ip_forward=1; nft add rule … masquerade</c>.
    /// Errors: "NetworkExists", "SubnetOverlap", "GatewayOutsideSubnet", "IpRangeOutsideSubnet", "InvalidSubnet",
    /// "BridgeExists", "InvalidName", "SubnetPoolExhausted".
    /// </summary>
    public ContainerNetwork CreateNetwork(NetworkSpec spec)
    {
        lock (Sync)
        using (State.Lock())
        {
            var plan = BuildCreateNetwork(spec, out var network);
            plan.Execute();
            return network;
        }
    }

    private OperationPlan BuildCreateNetwork(NetworkSpec spec, out ContainerNetwork network)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.IsNullOrEmpty(spec.Name) || !NetworkName.IsMatch(spec.Name))
            throw new ContainerNetworkingException("InvalidName", ErrorKind.InvalidArgument,
                $"'{spec.Name}' is not a valid network name{(spec.Name?.Length > 56 ? $" ({spec.Name.Length} characters)" : "")}. Use 1-56 letters, digits, '_', '.' or '-', starting with a letter or digit (the name goes into the rules' owner, 'network:NAME', at most 64 characters).");
        if (spec.Name is HostNetwork or NoneNetwork)
            throw new ContainerNetworkingException("NetworkExists", ErrorKind.AlreadyExists,
                $"'{spec.Name}' is a predefined network (as Docker's host and none): it always exists and cannot be created or removed. Choose another name, or connect containers to it with Connect-ContainerNetwork {spec.Name}.");
        if (State.ReadNetwork(spec.Name) is not null)
            throw new ContainerNetworkingException("NetworkExists", ErrorKind.AlreadyExists,
                $"Network '{spec.Name}' already exists. Choose another name, or remove it first with Remove-ContainerNetwork -Name {spec.Name}.");
        if (spec.Mtu != 0) RtnlValidation.ValidateMtu(spec.Mtu); // 0: the kernel's default

        var id = Hex(KernelRandom.GetBytes(32));
        var others = State.ListNetworks().Where(n => !n.IsPredefined).ToList();
        var bridge = spec.BridgeName ?? "br-" + id[..12];
        CheckLinkName(bridge, "bridge name");
        if (others.FirstOrDefault(n => n.BridgeName == bridge) is { } sameBridge)
            throw new ContainerNetworkingException("BridgeExists", ErrorKind.AlreadyExists,
                $"Bridge '{bridge}' already belongs to network '{sameBridge.Name}'. Give the new network another -BridgeName.");
        if (Host.Rtnl.FindLink(bridge) is { } existing)
            throw new ContainerNetworkingException("BridgeExists", ErrorKind.AlreadyExists,
                $"A link named '{bridge}' ({existing.Kind ?? "device"}) already exists in the host namespace. Give another -BridgeName, or remove the link first: {FixCommand.WithIp("Remove-NetLink " + bridge, Host.Label, "link del " + bridge)}.");

        // IPv4 subnet: the given one must overlap no other network; a chosen one also no route or address of the host.
        // None for an IPv6-only network.
        if (!spec.IPv4)
        {
            if (spec.Subnet is not null || spec.Gateway is not null || spec.IpRange is not null || spec.RangeStart is not null || spec.RangeEnd is not null)
                throw new ContainerNetworkingException("InvalidSubnet", ErrorKind.InvalidArgument,
                    $"Network '{spec.Name}' is IPv6-only (-DisableIPv4), so it takes no IPv4 -Subnet, -Gateway or -IPRange. Drop them, or drop -DisableIPv4 for a dual-stack network.");
            if (spec.SubnetV6 is null && !spec.EnableIPv6)
                throw new ContainerNetworkingException("InvalidSubnet", ErrorKind.InvalidArgument,
                    $"Network '{spec.Name}' would have no subnet at all: -DisableIPv4 needs an IPv6 one. Add -SubnetV6 (e.g. fd00:10::/64) or -IPv6.");
        }
        IPNetwork? subnet = null;
        if (!spec.IPv4) { }
        else if (spec.Subnet is { } s)
        {
            CheckFamily(s, AddressFamily.InterNetwork, "Subnet");
            CheckOverlap(s, others);
            subnet = s;
        }
        else
        {
            var inUse = others.SelectMany(n => new[] { n.Subnet }).OfType<IPNetwork>().ToList();
            inUse.AddRange(Host.Rtnl.GetRoutes(AddressFamily.InterNetwork).Where(r => r.Destination.PrefixLength > 0).Select(r => r.Destination));
            inUse.AddRange(Host.Rtnl.GetAddresses(family: AddressFamily.InterNetwork).Select(a => IPPrefix.Network(a.Address, a.PrefixLength)));
            subnet = DefaultAddressPools.PickFree(inUse);
        }
        var pool4 = subnet is { } s4 ? AddressPool.Create(s4, spec.Gateway, spec.IpRange, spec.RangeStart, spec.RangeEnd) : null;

        AddressPool? pool6 = null;
        if (spec.SubnetV6 is not null || spec.EnableIPv6 || spec.GatewayV6 is not null || spec.IpRangeV6 is not null)
        {
            var s6 = spec.SubnetV6 ?? DefaultAddressPools.RandomUniqueLocal();
            CheckFamily(s6, AddressFamily.InterNetworkV6, "SubnetV6");
            CheckOverlap(s6, others);
            pool6 = AddressPool.Create(s6, spec.GatewayV6, spec.IpRangeV6);
        }

        CheckRoutes(spec, pool4, pool6);

        // Without the gateway on the bridge the host routes nothing for the network (CNI bridge: forwarding only with isGateway).
        var routes = !spec.Internal && !spec.ExternalGateway;
        var forwardingOff = routes && pool4 is not null && Host.ReadSysctl("net.ipv4.ip_forward") != "1";
        var forwarding6Off = routes && pool6 is not null && Host.ReadSysctl("net.ipv6.conf.all.forwarding") != "1";
        var net = new ContainerNetwork
        {
            Name = spec.Name,
            Id = id,
            Driver = NetworkDriver.Bridge,
            BridgeName = bridge,
            Subnet = pool4?.Subnet,
            Gateway = pool4?.Gateway,
            ExternalGateway = spec.ExternalGateway,
            IpRange = spec.IpRange,
            RangeStart = spec.RangeStart,
            RangeEnd = spec.RangeEnd,
            SubnetV6 = pool6?.Subnet,
            GatewayV6 = pool6?.Gateway,
            IpRangeV6 = spec.IpRangeV6,
            Mtu = spec.Mtu,
            Internal = spec.Internal,
            Masquerade = spec.Masquerade && !spec.Internal,
            Icc = spec.Icc,
            Routed = spec.Routed && !spec.Internal,
            BridgeMacAddress = MacAddress.Random(),
            ForwardingWasOff = forwardingOff,
            Routes = [.. spec.Routes],
            NoDefaultRoute = spec.NoDefaultRoute,
            Created = DateTimeOffset.UtcNow,
            State = RecordState.Creating,
            OwnerPid = Environment.ProcessId,
        };
        network = net;

        var plan = new OperationPlan($"Create network {net.Name} ({string.Join(", ", NetworkRules.Subnets(net))}) on bridge {bridge}");
        plan.Add("WriteNetworkIntent", $"write {State.Root}/networks/{net.Name}/network.json (state Creating)",
            () => State.WriteNetwork(net), () => State.DeleteNetwork(net.Name));
        AddBridgeSteps(plan, net);
        if (forwardingOff)
            plan.Add("EnableForwarding", "sysctl -w net.ipv4.ip_forward=1",
                () => Host.WriteSysctl("net.ipv4.ip_forward", "1"), () => Host.WriteSysctl("net.ipv4.ip_forward", "0"));
        if (forwarding6Off)
        {
            // A router ignores router advertisements where accept_ra is 1: those interfaces get 2 first, so that a host
            // that learns its IPv6 default route by SLAAC keeps it.
            IReadOnlyList<string> raKept = [];
            plan.Add("EnableForwardingV6", "sysctl -w net.ipv6.conf.IF.accept_ra=2 (every interface where it is 1); sysctl -w net.ipv6.conf.all.forwarding=1",
                () => raKept = IpForwarding.Set(Host, AddressFamily.InterNetworkV6, true),
                () =>
                {
                    IpForwarding.Set(Host, AddressFamily.InterNetworkV6, false);
                    IpForwarding.RestoreRouterAdvertisements(Host, raKept);
                });
        }
        plan.Add("InstallNetworkRules", Rules.DescribeNetwork(net),
            () => Rules.AddNetwork(net), () => Rules.RemoveNetwork(net));
        plan.Add("CommitNetwork", $"mark network {net.Name} Ready", () =>
        {
            net.State = RecordState.Ready;
            State.WriteNetwork(net);
        });
        return plan;
    }

    internal void AddBridgeSteps(OperationPlan plan, ContainerNetwork net)
    {
        var bridge = net.BridgeName!;
        plan.Add("CreateBridge", $"ip link add {bridge} type bridge{(net.Mtu > 0 ? " mtu " + net.Mtu : "")} address {net.BridgeMacAddress}; ip link set {bridge} up{(net.SubnetV6 is null ? "" : $"; sysctl -w net.ipv6.conf.{bridge}.accept_dad=0")}",
            () =>
            {
                Host.Rtnl.CreateBridge(bridge, new BridgeOptions { Mtu = net.Mtu > 0 ? net.Mtu : null, MacAddress = net.BridgeMacAddress, Up = true });
                // As netavark: the bridge's own IPv6 addresses skip duplicate address detection, so IPv6 works at once
                // (the gateway is added with nodad; the link-local address comes once a port brings the carrier up, and
                // with accept_dad 0 it is not tentative either). Set before any port joins, while there is no carrier.
                if (net.SubnetV6 is not null) Host.WriteInterfaceSysctl(AddressFamily.InterNetworkV6, bridge, "accept_dad", "0");
            },
            () => DeleteLinkIfExists(Host, bridge));
        if (net.ExternalGateway) return;
        if (net.Subnet is not null)
            plan.Add("AddGatewayAddress", $"ip addr add {net.Gateway}/{net.Subnet!.Value.PrefixLength} dev {bridge}",
            () => Host.Rtnl.AddAddress(bridge, net.Gateway!, net.Subnet!.Value.PrefixLength));
        if (net.SubnetV6 is { } s6)
            plan.Add("AddGatewayAddressV6", $"ip addr add {net.GatewayV6}/{s6.PrefixLength} dev {bridge}",
                () => Host.Rtnl.AddAddress(bridge, net.GatewayV6!, s6.PrefixLength));
    }

    /// <summary>The plan <see cref="RemoveNetwork"/> would run.</summary>
    public OperationPlan PlanRemoveNetwork(string name, bool force = false)
    {
        lock (Sync)
        using (State.LockForReading())
            return BuildRemoveNetwork(name, force);
    }

    /// <summary>
    /// Removes a bridge network: its rules, the bridge, the record. While endpoints exist it refuses
    /// ("NetworkHasEndpoints") unless <paramref name="force"/>, which disconnects them first.
    /// Like <c>docker network rm</c>: <c>nft delete …; ip link del br-…</c>.
    /// </summary>
    public void RemoveNetwork(string name, bool force = false)
    {
        lock (Sync)
        using (State.Lock())
            BuildRemoveNetwork(name, force).Execute();
    }

    private OperationPlan BuildRemoveNetwork(string name, bool force)
    {
        var net = GetNetwork(name);
        if (net.IsPredefined)
            throw new ContainerNetworkingException("PredefinedNetwork", ErrorKind.InvalidOperation,
                $"Network '{name}' is predefined and cannot be removed. Disconnect its endpoints with Disconnect-ContainerNetwork instead.");
        var endpoints = State.ListEndpoints(name);
        if (endpoints.Count > 0 && !force && net.State != RecordState.Removing)
            throw new ContainerNetworkingException("NetworkHasEndpoints", ErrorKind.InvalidOperation,
                $"Network '{name}' still has {endpoints.Count} endpoint(s) ({string.Join(", ", endpoints.Take(5).Select(e => e.Container))}{(endpoints.Count > 5 ? ", …" : "")}). Disconnect them first, or use -Force to disconnect them and remove the network.");
        return BuildRemoval(net, endpoints);
    }

    /// <summary>
    /// The steps that remove a network with its endpoints. The first marks the record Removing (durably, before anything
    /// is taken away), so that Repair finishes a removal killed half-way rather than re-creating the network; every other
    /// step skips what is gone, so the same steps finish it (<see cref="FinishRemoval"/>).
    /// </summary>
    private OperationPlan BuildRemoval(ContainerNetwork net, IReadOnlyList<ContainerEndpoint> endpoints)
    {
        var name = net.Name;
        var plan = new OperationPlan($"Remove network {name} (bridge {net.BridgeName})");
        if (net.State != RecordState.Removing)
            plan.Add("MarkNetworkRemoving", $"mark network {name} Removing ({State.Root}/networks/{name}/network.json)", () =>
            {
                net.State = RecordState.Removing;
                State.WriteNetwork(net);
            });
        // Container-mode endpoints first: they lean on the others' namespaces.
        foreach (var e in endpoints.OrderBy(e => e.Mode == EndpointMode.Container ? 0 : 1))
            Context.Endpoints.AddDisconnectSteps(plan, e);
        plan.Add("RemoveNetworkRules", "nft delete " + Rules.DescribeNetwork(net), () => Rules.RemoveNetwork(net));
        // The endpoints' veths go with their namespaces, asynchronously (see Disconnect): the network is only gone when
        // they are, so this waits for them, and for those of earlier Disconnects (once for all of them: the kernel cleans
        // namespaces up in batches).
        var dying = endpoints.Where(e => e.Mode == EndpointMode.Bridge && e.CreatedNamespace && e.HostInterface is not null)
            .Select(e => e.HostInterface!).ToList();
        plan.Add("DeleteBridge", $"ip link del {net.BridgeName}", () =>
        {
            // And the ports of ours that no endpoint owns any more: a container's whose record went while the kernel
            // had not yet taken its veth (a removal killed then, which Repair finishes here).
            var orphans = OrphanPorts(Host.Rtnl.GetLinks(), net.BridgeName, endpoints);
            DeleteLinkIfExists(Host, net.BridgeName!);
            foreach (var left in WaitForVethsToGo([.. dying, .. orphans], EndpointService.TeardownWait)) DeleteLinkIfExists(Host, left);
            Context.Endpoints.WaitForTeardown(); // and those of containers disconnected before
        });
        // The other networks' records forget this one while its own record still says Removing: a crash in between
        // leaves a removal that Repair finishes, never a name in another record that no network has.
        if (net.AllowedNetworks.Count > 0)
            plan.Add("ForgetAllowedNetworks", $"remove {name} from allowedNetworks of {string.Join(", ", net.AllowedNetworks)}", () => Context.Pairs.ForgetAllowances(name));
        // The conntrack entries its containers left (noted by their Disconnects, those above too): its subnet may be
        // created again, and with it the addresses.
        plan.Add("FlushStaleFlows", $"conntrack -D for the addresses and UDP host ports noted in {State.Root}/networks/{name}/conntrack-pending/",
            () => Context.Endpoints.FlushAllStaleFlows(name));
        plan.Add("DeleteNetworkRecord", $"rm -r {State.Root}/networks/{name}", () => State.DeleteNetwork(name));
        return plan;
    }

    /// <summary>
    /// Finishes the removal of a network whose record says Removing (its remover was killed half-way): the same steps
    /// as <see cref="RemoveNetwork"/>, each skipping what is gone. Call under the state lock.
    /// </summary>
    internal void FinishRemoval(ContainerNetwork net) => BuildRemoval(net, State.ListEndpoints(net.Name)).Execute();

    private static void CheckOverlap(IPNetwork subnet, IEnumerable<ContainerNetwork> others)
    {
        foreach (var n in others)
            foreach (var s in new[] { n.Subnet, n.SubnetV6 })
                if (s is { } o && AddressMath.Overlaps(o, subnet))
                    throw new ContainerNetworkingException("SubnetOverlap", ErrorKind.AlreadyExists,
                        $"Subnet {subnet} overlaps subnet {o} of network '{n.Name}'. Choose a subnet that overlaps no other network, or omit -Subnet to get a free one.");
    }

    /// <summary>
    /// Each static route: its gateway (or the network's) inside the network's subnet of the destination's family, so
    /// the containers reach it on the link; a default route (/0) only with NoDefaultRoute (it would clash with the gateway's).
    /// </summary>
    private static void CheckRoutes(NetworkSpec spec, AddressPool? pool4, AddressPool? pool6)
    {
        foreach (var r in spec.Routes)
        {
            var v6 = r.Destination.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6;
            var pool = v6 ? pool6 : pool4;
            if (pool is null)
                throw new ContainerNetworkingException("InvalidRoute", ErrorKind.InvalidArgument,
                    v6 ? $"Route {r} is IPv6 but network '{spec.Name}' has no IPv6 subnet. Add -SubnetV6 (or -IPv6), or drop the route."
                       : $"Route {r} is IPv4 but network '{spec.Name}' is IPv6-only. Drop the route, or -DisableIPv4.");
            var gw = r.Gateway ?? pool.Gateway;
            if (gw.AddressFamily != r.Destination.BaseAddress.AddressFamily || !pool.Subnet.Contains(gw))
                throw new ContainerNetworkingException("InvalidRoute", ErrorKind.InvalidArgument,
                    $"The gateway {gw} of route {r} is not inside the network's subnet {pool.Subnet}, so the containers cannot reach it. Give a gateway inside {pool.Subnet}.");
            if (r.Destination.PrefixLength == 0 && !spec.NoDefaultRoute)
                throw new ContainerNetworkingException("InvalidRoute", ErrorKind.InvalidArgument,
                    $"Route {r} is a default route, which the network's containers already get via {pool.Gateway}. Add -NoDefaultRoute to route the default elsewhere.");
        }
        if (spec.Routes.GroupBy(r => r.Destination).FirstOrDefault(g => g.Count() > 1) is { } dup)
            throw new ContainerNetworkingException("InvalidRoute", ErrorKind.InvalidArgument,
                $"Destination {dup.Key} is routed twice. Give each destination once.");
    }

    private static void CheckFamily(IPNetwork n, AddressFamily f, string what)
    {
        if (n.BaseAddress.AddressFamily != f)
            throw new ContainerNetworkingException("InvalidSubnet", ErrorKind.InvalidArgument,
                $"{what} {n} is not an {(f == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} prefix. Give IPv4 in -Subnet and IPv6 in -SubnetV6.");
    }

    internal static void CheckLinkName(string name, string what) => InterfaceName.Validate(name, what, "InvalidName");


}
