using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;

namespace ContainerNetworking.Model;

/// <summary>Diagnosis: an endpoint's path walked hop by hop (Test-ContainerNetwork), each broken hop named with its fix.</summary>
public sealed class DiagnosisService : ModelService
{
    internal DiagnosisService(NetworkContext context) : base(context)
    {
    }

    /// <summary>
    /// Walks the path the walkthroughs walk by hand when a ping fails, hop by hop, and reports each: the
    /// container's namespace, its loopback, its interface (up, addressed), its default route via the gateway
    /// (<c>route -n</c> inside), the veth peer on the host (up, a port of the bridge), the bridge (up, with the
    /// gateway address), forwarding in the host, the network's masquerade and filter rules, the published ports'
    /// map entries, and a foreign forward chain with policy drop (Docker's FORWARD DROP) that would swallow the
    /// traffic. Each hop: Ok, Broken (why, and the fix), Warning, or Skipped (a hop before it is broken).
    /// </summary>
    public IReadOnlyList<DiagnosticHop> Test(string idOrContainer, string? network = null)
    {
        var e = Context.Endpoints.GetEndpoint(idOrContainer, network);
        var net = Context.Networks.GetNetwork(e.Network);
        var hops = new List<DiagnosticHop>();
        void Add(string hop, HopStatus s, string detail, string? fix = null) => hops.Add(new DiagnosticHop(hops.Count + 1, hop, s, detail, fix));
        // Every suggested command names the namespace it acts on: the container's (c), the host's (h).
        var c = e.Namespace;
        var h = Host.Label;
        var repair = FixCommand.Cmdlet("Repair-ContainerNetwork" + StateArgument, h);

        if (e.State != RecordState.Ready)
        {
            Add("Endpoint", HopStatus.Broken, e.State == RecordState.Removing
                ? $"Endpoint {e.Id[..12]} is half-disconnected (state Removing): a Disconnect was interrupted."
                : $"Endpoint {e.Id[..12]} is half-built (state {e.State}).", $"{repair}  # then connect the container again");
            return hops;
        }
        if (e.Mode == EndpointMode.Host)
        {
            Add("Endpoint", HopStatus.Ok, "Host mode: the container uses the host's own namespace; there is no path to test.");
            return hops;
        }

        NetNamespace? ns = null;
        try
        {
            try
            {
                if (NamespaceStillThere(e)) ns = NetNamespace.Open(e.Namespace!);
            }
            catch (ContainerNetworkingException) { }
            if (ns is null)
            {
                Add("Namespace", HopStatus.Broken, $"Namespace '{e.Namespace}' of {e.Container} is gone (or is another namespace now).",
                    $"{repair}  # removes the endpoint; then connect the container again");
                return hops;
            }
            Add("Namespace", HopStatus.Ok, $"Namespace '{e.Namespace}' exists (net:[{ns.Id}]).");

            var inside = ns.Rtnl.GetLinks();
            var lo = inside.FirstOrDefault(l => l.Name == "lo");
            Add("Loopback", lo is { IsUp: true } ? HopStatus.Ok : HopStatus.Broken,
                lo is { IsUp: true } ? "lo is up." : "lo is down: the container cannot reach itself on 127.0.0.1.",
                lo is { IsUp: true } ? null : FixCommand.WithIp("Set-NetLink lo -Up", c, "link set lo up"));
            if (e.Mode == EndpointMode.None) return hops;

            var ifName = e.InterfaceName!;
            var eth = inside.FirstOrDefault(l => l.Name == ifName);
            if (eth is null)
            {
                Add("ContainerInterface", HopStatus.Broken, $"{ifName} does not exist in '{e.Namespace}'.",
                    $"{FixCommand.Cmdlet($"Disconnect-ContainerNetwork -Network {FixCommand.Quote(e.Network)} -Container {FixCommand.Quote(e.Container ?? e.Id)}{StateArgument}", h)}  # then connect it again; or {repair} finds the dead endpoint");
                Skip(hops, "DefaultRoute", "VethPeer", "Bridge", "BridgeAddress", "Forwarding", "NetworkRules", "PublishedPorts");
                return hops;
            }
            // The container's address of its first family: IPv4, or IPv6 on an IPv6-only network.
            var (myAddr, myLen, myFamily) = e.IPv4Address is { } a4 ? (a4, e.PrefixLength, AddressFamily.InterNetwork) : (e.IPv6Address, e.PrefixLengthV6, AddressFamily.InterNetworkV6);
            var addrs = ns.Rtnl.GetAddresses(ifName, myFamily);
            var hasAddr = addrs.Any(a => a.Address.Equals(myAddr) && a.PrefixLength == myLen);
            if (!eth.IsUp)
                Add("ContainerInterface", HopStatus.Broken, $"{ifName} is down.", FixCommand.WithIp($"Set-NetLink {ifName} -Up", c, $"link set {ifName} up"));
            else if (!hasAddr)
                Add("ContainerInterface", HopStatus.Broken, $"{ifName} is up but lacks {myAddr}/{myLen} (has: {string.Join(", ", addrs.Select(a => a.Address + "/" + a.PrefixLength))}).",
                    FixCommand.WithIp($"New-NetIPAddress -InterfaceAlias {ifName} -IPAddress {myAddr}/{myLen}", c, $"addr add {myAddr}/{myLen} dev {ifName}"));
            else
                Add("ContainerInterface", HopStatus.Ok, $"{ifName} is up with {myAddr}/{myLen} ({eth.MacAddress}).");

            if (e.Gateway is { } gw)
            {
                var def = ns.Rtnl.GetRoutes(AddressFamily.InterNetwork).FirstOrDefault(r => r.Destination.PrefixLength == 0);
                if (def is null)
                    Add("DefaultRoute", HopStatus.Broken, "No default route inside: anything outside the subnet is 'Network is unreachable'.",
                        FixCommand.WithIp($"New-NetRoute -DestinationPrefix 0.0.0.0/0 -NextHop {gw}", c, $"route add default via {gw}"));
                else if (!gw.Equals(def.Gateway))
                    Add("DefaultRoute", HopStatus.Broken, $"The default route goes via {def.Gateway?.ToString() ?? "no gateway"} dev {def.OutputInterface}, not via the bridge's {gw}.",
                        FixCommand.WithIp($"New-NetRoute -DestinationPrefix 0.0.0.0/0 -NextHop {gw} -InterfaceAlias {ifName} -Replace", c, $"route replace default via {gw} dev {ifName}"));
                else
                    Add("DefaultRoute", HopStatus.Ok, $"default via {gw} dev {def.OutputInterface}.");
            }
            else Add("DefaultRoute", HopStatus.Skipped, net.Internal ? $"Network '{net.Name}' is internal: no default route by design." : "The endpoint was connected without a default route.");

            var hostLinks = Host.Rtnl.GetLinks();
            var veth = hostLinks.FirstOrDefault(l => l.Name == e.HostInterface);
            var bridge = hostLinks.FirstOrDefault(l => l.Name == net.BridgeName);
            if (veth is null)
                Add("VethPeer", HopStatus.Broken, $"The host end {e.HostInterface} is gone.", $"{repair}  # then connect the container again");
            else if (bridge is null || veth.MasterIndex != bridge.Index)
                Add("VethPeer", HopStatus.Broken, $"{e.HostInterface} is not a port of {net.BridgeName} (master: {veth.Master ?? "none"}).",
                    FixCommand.WithIp($"Add-BridgePort -Bridge {net.BridgeName} -InterfaceAlias {e.HostInterface}", h, $"link set {e.HostInterface} master {net.BridgeName}"));
            else if (!veth.IsUp)
                Add("VethPeer", HopStatus.Broken, $"{e.HostInterface} is down.", FixCommand.WithIp($"Set-NetLink {e.HostInterface} -Up", h, $"link set {e.HostInterface} up"));
            else
                Add("VethPeer", HopStatus.Ok, $"{e.HostInterface} is up, a port of {net.BridgeName}.");

            if (bridge is null)
                Add("Bridge", HopStatus.Broken, $"Bridge {net.BridgeName} is gone.", $"{repair}  # re-creates it");
            else if (!bridge.IsUp)
                Add("Bridge", HopStatus.Broken, $"Bridge {net.BridgeName} is down.", FixCommand.WithIp($"Set-NetLink {net.BridgeName} -Up", h, $"link set {net.BridgeName} up"));
            else
                Add("Bridge", HopStatus.Ok, $"Bridge {net.BridgeName} is up.");

            if (net.ExternalGateway)
                Add("BridgeAddress", HopStatus.Skipped, $"Network '{net.Name}' keeps its gateway {net.Gateway} off the bridge (CNI isGateway false): the host has no address on it.");
            else if (bridge is not null)
            {
                var (gwAddr, gwLen, gwFamily) = net.Subnet is { } s4 ? (net.Gateway, s4.PrefixLength, AddressFamily.InterNetwork) : (net.GatewayV6, net.SubnetV6!.Value.PrefixLength, AddressFamily.InterNetworkV6);
                var bAddrs = Host.Rtnl.GetAddresses(net.BridgeName, gwFamily);
                var ok = bAddrs.Any(a => a.Address.Equals(gwAddr) && a.PrefixLength == gwLen);
                Add("BridgeAddress", ok ? HopStatus.Ok : HopStatus.Broken,
                    ok ? $"{net.BridgeName} has {gwAddr}/{gwLen}." : $"{net.BridgeName} lacks the gateway address {gwAddr}/{gwLen}: the host cannot reach the containers, nor they the outside.",
                    ok ? null : FixCommand.WithIp($"New-NetIPAddress -InterfaceAlias {net.BridgeName} -IPAddress {gwAddr}/{gwLen}", h,
                        $"addr add {gwAddr}/{gwLen} dev {net.BridgeName}"));
            }
            else Skip(hops, "BridgeAddress");

            if (net.Internal) Add("Forwarding", HopStatus.Skipped, "Internal network: nothing is forwarded off the bridge.");
            else if (net.ExternalGateway) Add("Forwarding", HopStatus.Skipped, "The gateway is not on the bridge: the host routes nothing for this network.");
            else
            {
                var v6only = net.Subnet is null;
                var fwd = IpForwarding.IsEnabled(Host, v6only ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork);
                var sysctl = v6only ? "net.ipv6.conf.all.forwarding" : "net.ipv4.ip_forward";
                Add("Forwarding", fwd ? HopStatus.Ok : HopStatus.Broken, fwd ? $"{sysctl} = 1." : $"{sysctl} = 0: the host drops what the container sends outside.",
                    fwd ? null : FixCommand.WithExec(v6only ? "Enable-IpForwarding -AddressFamily IPv6" : "Enable-IpForwarding", h, $"sysctl -w {sysctl}=1"));
            }

            var missingRules = Rules.MissingPieces(net).ToList();
            // The networks it is allowed to talk to: both directions' accept rules.
            foreach (var otherName in net.AllowedNetworks)
                if (Context.Networks.FindNetwork(otherName) is { State: RecordState.Ready, IsPredefined: false } other && !Rules.HasAllowance(net, other))
                    missingRules.Add($"the rules that let networks '{net.Name}' and '{other.Name}' talk ({NetworkRules.DescribeAllowance(net, other)})");
            var rules = missingRules.Count == 0;
            var missingBase = rules ? Rules.Fw.FindMissingBase() : [];
            var allGone = missingRules.Any(m => m.StartsWith("table ", StringComparison.Ordinal) || m.StartsWith("element ", StringComparison.Ordinal));
            Add("NetworkRules", rules && missingBase.Count == 0 ? HopStatus.Ok : HopStatus.Broken,
                !rules ? allGone
                    ? $"The nf_tables rules of network '{net.Name}' are missing (flushed?): {(net.Masquerade ? "no masquerade, so replies from outside never come back" : "no forward filter")}."
                    : $"Rules of network '{net.Name}' are missing (deleted by hand?): {string.Join("; ", missingRules)}."
                : missingBase.Count > 0 ? $"Parts of the ruleset every network relies on are missing: {string.Join("; ", missingBase)}."
                : $"The masquerade and forward rules of {net.BridgeName} are in place.",
                rules && missingBase.Count == 0 ? null : $"{repair}  # re-creates them");

            if (e.Ports.Count > 0)
            {
                var missing = PortPublishing.MissingPorts(e, Ports.ListPorts(net));
                Add("PublishedPorts", missing.Count == 0 ? HopStatus.Ok : HopStatus.Broken,
                    missing.Count == 0 ? $"{string.Join(", ", e.Ports)} map to {string.Join(" and ", new[] { e.IPv4Address, e.IPv6Address }.OfType<IPAddress>())}." : $"{string.Join(", ", missing)} are not in the DNAT map: connections to those host ports go nowhere.",
                    missing.Count == 0 ? null : $"{repair}  # re-creates them");
            }

            var drops = Rules.ForeignDropPolicies();
            Add("ForeignDropPolicy", drops.Count == 0 ? HopStatus.Ok : HopStatus.Warning,
                drops.Count == 0 ? "No other forward chain drops by policy." : $"{string.Join("; ", drops)} drop(s) forwarded packets by policy (like Docker's FORWARD DROP): the container's traffic may be dropped there.",
                drops.Count == 0 ? null : $"Accept the bridge's traffic in that chain, e.g. {FixCommand.Exec(h, "nft insert rule … iifname " + net.BridgeName + " accept")} and {FixCommand.Exec(h, "nft insert rule … oifname " + net.BridgeName + " ct state established,related accept")}.");
            return hops;
        }
        finally
        {
            ns?.Dispose();
        }
    }

    /// <summary>" -StateDirectory DIR" when this manager's state is not in the host's default directory.</summary>
    private string StateArgument => Context.StateArgument;

    private static void Skip(List<DiagnosticHop> hops, params string[] names)
    {
        foreach (var n in names) hops.Add(new DiagnosticHop(hops.Count + 1, n, HopStatus.Skipped, "Not checked: a hop before it is broken."));
    }
}
