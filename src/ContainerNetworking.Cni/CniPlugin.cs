using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;
using ContainerNetworking.Values;

namespace ContainerNetworking.Cni;

/// <summary>
/// The plugin: one CNI command against the core's model. An attachment (CNI_CONTAINERID, CNI_IFNAME) is an endpoint
/// of the network named by the config's <c>name</c> (created from the config on first use), with origin "cni" and the
/// container id as its container name, so the cmdlets see and manage it (Get-ContainerEndpoint, Test-, Repair-,
/// Disconnect-ContainerNetwork) and the plugin takes the same state lock they take.
/// </summary>
public sealed class CniPlugin(IReadOnlyDictionary<string, string> env, TextWriter log)
{
    public const string Origin = "cni";

    private string? Env(string name) => env.TryGetValue(name, out var v) && v.Length > 0 ? v : null;

    /// <summary>Runs one command: returns the JSON to write on stdout (null for none) or throws <see cref="CniError"/>.</summary>
    public JsonObject? Run(string stdin)
    {
        var command = Env("CNI_COMMAND") ?? throw new CniError(CniError.InvalidEnvironment, "invalid environment variables", "CNI_COMMAND is not set (ADD, DEL, CHECK, GC, STATUS or VERSION)");
        if (command == "VERSION")
        {
            JsonObject? o = null;
            if (stdin.Trim().Length > 0) o = CniConfig.ParseObject(stdin);
            return new JsonObject
            {
                ["cniVersion"] = CniConfig.VersionOf(o),
                ["supportedVersions"] = new JsonArray(CniConfig.SupportedVersions.Select(v => (JsonNode)v).ToArray()),
            };
        }
        if (command is not ("ADD" or "DEL" or "CHECK" or "GC" or "STATUS"))
            throw new CniError(CniError.InvalidEnvironment, "invalid environment variables", $"CNI_COMMAND={command} is not ADD, DEL, CHECK, GC, STATUS or VERSION");
        var required = command switch
        {
            "ADD" or "CHECK" => new[] { "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME" },
            "DEL" => ["CNI_CONTAINERID", "CNI_IFNAME"],
            "GC" => ["CNI_PATH"],
            _ => [],
        };
        var missing = required.Where(n => Env(n) is null).ToList();
        if (missing.Count > 0)
            throw new CniError(CniError.InvalidEnvironment, "invalid environment variables", $"{string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} not set (required for {command})");
        if (Env("CNI_CONTAINERID") is { } cid && !ValidContainerId(cid))
            throw new CniError(CniError.InvalidEnvironment, "invalid environment variables",
                $"CNI_CONTAINERID '{cid}' is not valid: it must start with a letter or digit, followed by letters, digits, '_', '.' or '-'");
        if (Env("CNI_IFNAME") is { } ifn && !InterfaceName.IsValid(ifn))
            throw new CniError(CniError.InvalidEnvironment, "invalid environment variables",
                $"CNI_IFNAME '{ifn}' is not a Linux interface name (1-15 bytes, no '/', ':' or spaces, not '.' or '..')");
        var args = ParseArgs(Env("CNI_ARGS"));

        var raw = CniConfig.ParseObject(stdin);
        var conf = CniConfig.Parse(raw);
        if (command == "CHECK" && !CniConfig.AtLeast(conf.CniVersion, "0.4.0"))
            throw new CniError(CniError.IncompatibleVersion, "incompatible CNI version", $"CHECK needs cniVersion 0.4.0 or later; the configuration says {conf.CniVersion}");
        if (command is "GC" or "STATUS" && !CniConfig.AtLeast(conf.CniVersion, "1.1.0"))
            throw new CniError(CniError.IncompatibleVersion, "incompatible CNI version", $"{command} needs cniVersion 1.1.0; the configuration says {conf.CniVersion}");

        CniTiming.Mark("environment checked, configuration parsed");
        using var host = OpenHost();
        var manager = new ContainerNetworkManager(host, conf.DataDir ?? StateStore.DefaultRoot(host.Name, host.Id));
        CniTiming.Mark("host namespace opened, manager made");
        try
        {
            return command switch
            {
                "ADD" => Add(manager, conf, args),
                "DEL" => Del(manager, conf),
                "CHECK" => Check(manager, conf),
                "GC" => Gc(manager, conf),
                _ => Status(manager, conf),
            };
        }
        catch (NetNamespaceNotFoundException e) when (command is "ADD" or "CHECK")
        {
            throw new CniError(CniError.UnknownContainer, "container unknown or does not exist", e.Message);
        }
        catch (ContainerNetworkingException e) { throw CniError.From(e); }
    }

    // ---- ADD -----------------------------------------------------------------------------------------------

    private JsonObject Add(ContainerNetworkManager m, CniConfig conf, CniArgs args)
    {
        var net = EnsureNetwork(m, conf);
        CniTiming.Mark("network found");
        var containerId = Env("CNI_CONTAINERID")!;
        var ifName = Env("CNI_IFNAME")!;
        var netns = Env("CNI_NETNS")!;
        IPAddress? ip4 = null, ip6 = null;
        foreach (var ip in args.Ips.Concat(conf.RequestedIps))
        {
            if (ip.AddressFamily == AddressFamily.InterNetwork) ip4 ??= ip;
            else ip6 ??= ip;
        }
        var spec = new EndpointSpec
        {
            Network = net.Name,
            Namespace = netns,
            // The runtime gives the container its /etc/hosts: no /etc/netns/NAME files for a CNI_NETNS under /run/netns.
            NamespaceByPath = true,
            Container = containerId,
            InterfaceName = ifName,
            IPv4Address = ip4,
            IPv6Address = ip6,
            MacAddress = args.Mac ?? conf.Mac,
            Publish = conf.PortMappings.Select(p => p.ToPublishSpec()).ToList(),
            DefaultRoute = conf.WantsDefaultRoute,
            Hairpin = conf.HairpinMode,
            Origin = Origin,
        };
        var ep = m.Connect(spec);
        CniTiming.Mark("Connect");
        log.WriteLine($"containernetworking: ADD {containerId}/{ifName}: endpoint {ep.Id[..12]}, {ep.IPv4Address}/{ep.PrefixLength} on {net.BridgeName}");
        var extra = ExtraRoutes(conf, net);
        try
        {
            if (extra.Count > 0)
            {
                using var ns = NetNamespace.Open(netns);
                foreach (var r in extra) ns.Rtnl.AddRoute(new RouteSpec(r.Destination, r.Gateway, ifName));
            }
            var result = BuildResult(m, conf, net, ep, netns);
            CniTiming.Mark("extra routes, result built");
            return result;
        }
        catch
        {
            try { m.Disconnect(ep.Id, net.Name); } catch (ContainerNetworkingException) { }
            throw;
        }
    }

    /// <summary>The routes of the ipam block that the default route of the core does not cover, with their next hop.</summary>
    private static List<CniRoute> ExtraRoutes(CniConfig conf, ContainerNetwork net)
    {
        var list = new List<CniRoute>();
        foreach (var r in conf.Routes)
        {
            var v4 = r.Destination.BaseAddress.AddressFamily == AddressFamily.InterNetwork;
            var gw = r.Gateway ?? (v4 ? net.Gateway : net.GatewayV6);
            if (r.Destination.PrefixLength == 0 && conf.WantsDefaultRoute && gw is not null && gw.Equals(v4 ? net.Gateway : net.GatewayV6)) continue;
            if (!v4 && net.SubnetV6 is null) continue;
            list.Add(new CniRoute(r.Destination, gw));
        }
        return list;
    }

    private JsonObject BuildResult(ContainerNetworkManager m, CniConfig conf, ContainerNetwork net, ContainerEndpoint ep, string netns)
    {
        var r = CniResult.Start(conf.PrevResult, conf.CniVersion);
        CniResult.AddInterface(r, net.BridgeName!, m.Host.Rtnl.FindLink(net.BridgeName!)?.MacAddress ?? net.BridgeMacAddress, null);
        CniResult.AddInterface(r, ep.HostInterface!, m.Host.Rtnl.FindLink(ep.HostInterface!)?.MacAddress, null);
        var idx = CniResult.AddInterface(r, ep.InterfaceName!, ep.MacAddress, netns);
        CniResult.AddIp(r, conf.CniVersion, ep.IPv4Address!, ep.PrefixLength, net.Gateway, idx);
        if (ep.IPv6Address is { } v6) CniResult.AddIp(r, conf.CniVersion, v6, ep.PrefixLengthV6, net.GatewayV6, idx);
        if (ep.Gateway is { } gw) CniResult.AddRoute(r, new IPNetwork(IPAddress.Any, 0), gw);
        if (ep.GatewayV6 is { } gw6) CniResult.AddRoute(r, new IPNetwork(IPAddress.IPv6Any, 0), gw6);
        foreach (var e in ExtraRoutes(conf, net)) CniResult.AddRoute(r, e.Destination, e.Gateway);
        if (conf.Dns is JsonObject dns && conf.PrevResult is null) r["dns"] = dns.DeepClone();
        return r;
    }

    /// <summary>
    /// The network of the config's name: the one in the state (a network made by New-ContainerNetwork or an earlier
    /// ADD), which must agree with the config on bridge and subnet, or a new one built from the config.
    /// </summary>
    private static ContainerNetwork EnsureNetwork(ContainerNetworkManager m, CniConfig conf)
    {
        var net = m.FindNetwork(conf.Name);
        if (net is null)
        {
            try { net = m.CreateNetwork(conf.ToNetworkSpec()); }
            catch (ContainerNetworkingException e) when (e.ErrorId == "NetworkExists")
            {
                var raced = m.FindNetwork(conf.Name); // another ADD created it a moment ago
                if (raced is null) throw;
                net = raced;
            }
        }
        CheckAgrees(net, conf);
        return net;
    }

    private static void CheckAgrees(ContainerNetwork net, CniConfig conf)
    {
        if (net.IsPredefined)
            throw CniConfig.Invalid($"network name '{conf.Name}' is one of the core's predefined networks (host, none); give the network another name");
        if (net.BridgeName != conf.Bridge || !Equals(net.Subnet, conf.Range4!.Subnet) || net.ExternalGateway == conf.GatewayOnBridge)
            throw CniConfig.Invalid($"network '{conf.Name}' already exists in the state with bridge {net.BridgeName}, subnet {net.Subnet} and isGateway {Lower(!net.ExternalGateway)}, " +
                $"but the configuration says bridge {conf.Bridge}, subnet {conf.Range4!.Subnet} and isGateway {Lower(conf.GatewayOnBridge)}; " +
                $"make them agree, or remove the network (Remove-ContainerNetwork {conf.Name} -Force) so the next ADD builds it from the configuration");
    }

    private static string Lower(bool b) => b ? "true" : "false";

    // ---- DEL -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Removes the attachment from the stored endpoint record, not from live addresses: works after the namespace is
    /// gone, with an empty prevResult, and twice (the second time there is nothing left: success).
    /// </summary>
    private JsonObject? Del(ContainerNetworkManager m, CniConfig conf)
    {
        var net = m.FindNetwork(conf.Name);
        if (net is null || net.IsPredefined) return null;
        // Looked up under the lock, which keeps the records read in memory: Disconnect, taking the lock next, then
        // finds them unchanged (the lock file's change counter) instead of reading every record of the network again.
        ContainerEndpoint? ep;
        using (m.State.LockForReading()) ep = FindAttachment(m, net.Name, Env("CNI_CONTAINERID")!, Env("CNI_IFNAME")!);
        CniTiming.Mark("network and attachment found");
        if (ep is null) return null;
        try { m.Disconnect(ep.Id, net.Name); }
        catch (ContainerNetworkingException e) when (e.ErrorId == "EndpointNotFound") { return null; } // a concurrent DEL won
        CniTiming.Mark("Disconnect");
        m.WaitForTeardown();
        CniTiming.Mark("WaitForTeardown");
        log.WriteLine($"containernetworking: DEL {ep.Container}/{ep.InterfaceName}: endpoint {ep.Id[..12]} removed");
        return null;
    }

    private static ContainerEndpoint? FindAttachment(ContainerNetworkManager m, string network, string containerId, string ifName) =>
        m.State.ListEndpoints(network).FirstOrDefault(e => e.Container == containerId && e.InterfaceName == ifName);

    // ---- CHECK ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Fails (code 101, every finding in details) when anything the attachment made is missing or changed: the
    /// interface, its addresses and routes of the prevResult, the veth on the bridge, the bridge and its address, the
    /// network's rules, the published ports' map entries (the core's Test-ContainerNetwork walk), and the leases.
    /// </summary>
    private JsonObject? Check(ContainerNetworkManager m, CniConfig conf)
    {
        if (conf.PrevResult is null)
            throw CniConfig.Invalid("CHECK needs the prevResult of the ADD (the runtime caches it); the configuration has none");
        var net = m.FindNetwork(conf.Name) ?? throw new CniError(CniError.CheckFailed, "check failed", $"network '{conf.Name}' does not exist in the state");
        var containerId = Env("CNI_CONTAINERID")!;
        var ifName = Env("CNI_IFNAME")!;
        var netns = Env("CNI_NETNS")!;
        var ep = FindAttachment(m, net.Name, containerId, ifName)
            ?? throw new CniError(CniError.CheckFailed, "check failed", $"there is no attachment {containerId}/{ifName} on network '{net.Name}' (it was deleted, or never added)");
        var problems = new List<string>();
        foreach (var hop in m.Test(ep.Id, net.Name).Where(h => h.Status == HopStatus.Broken))
            problems.Add($"{hop.Hop}: {hop.Detail}{(hop.Fix is null ? "" : " Fix: " + hop.Fix)}");
        foreach (var ip in new[] { ep.IPv4Address, ep.IPv6Address }.OfType<IPAddress>())
        {
            var holder = m.State.Leases(net.Name).TryGetValue(ip, out var h) ? h : null;
            if (holder != ep.Id) problems.Add($"Lease: {ip} is {(holder is null ? "not leased" : "leased to another endpoint (" + holder[..Math.Min(12, holder.Length)] + ")")} in {m.State.Root}");
        }

        // What the prevResult says of our container interface: addresses and routes.
        var prev = conf.PrevResult;
        var ifs = prev["interfaces"] as JsonArray ?? [];
        var ours = -1;
        for (var i = 0; i < ifs.Count; i++)
            if (ifs[i] is JsonObject o && CniConfig.Str(o, "name") == ifName && CniConfig.Str(o, "sandbox") is { Length: > 0 }) ours = i;
        if (ours < 0) problems.Add($"prevResult: it lists no interface {ifName} in a sandbox; was it the result of this attachment's ADD?");
        else
        {
            try
            {
                using var ns = NetNamespace.Open(netns);
                var link = ns.Rtnl.FindLink(ifName);
                var mac = CniConfig.Str((JsonObject)ifs[ours]!, "mac");
                if (link is null) problems.Add($"Interface: {ifName} does not exist in {netns}");
                else
                {
                    if (mac is not null && !string.Equals(link.MacAddress, mac, StringComparison.OrdinalIgnoreCase))
                        problems.Add($"Interface: {ifName} has MAC {link.MacAddress}, the ADD gave it {mac}");
                    var addrs = ns.Rtnl.GetAddresses(ifName);
                    foreach (var n in prev["ips"] as JsonArray ?? [])
                    {
                        if (n is not JsonObject ipo || (ipo["interface"] is JsonValue iv && iv.TryGetValue<int>(out var ix) ? ix : -1) != ours) continue;
                        var text = CniConfig.Str(ipo, "address") ?? "";
                        var a = CniConfig.AddressOrCidr(text, "prevResult.ips[].address");
                        if (!addrs.Any(x => x.Address.Equals(a)))
                            problems.Add($"Address: {text} is missing from {ifName} in {netns}. Fix: DEL and ADD the attachment again");
                    }
                    var routes = ns.Rtnl.GetRoutes();
                    foreach (var n in prev["routes"] as JsonArray ?? [])
                    {
                        if (n is not JsonObject ro || CniConfig.Str(ro, "dst") is not { } dst) continue;
                        var d = IPNetwork.Parse(dst);
                        var gw = CniConfig.Str(ro, "gw") is { } g ? IPAddress.Parse(g) : null;
                        if (!routes.Any(x => x.Destination.Equals(d) && (gw is null || gw.Equals(x.Gateway))))
                            problems.Add($"Route: {dst}{(gw is null ? "" : " via " + gw)} is missing in {netns}. Fix: DEL and ADD the attachment again");
                    }
                }
            }
            catch (NetNamespaceNotFoundException) { problems.Add($"Namespace: {netns} does not exist"); }
        }
        if (problems.Count > 0)
            throw new CniError(CniError.CheckFailed, $"check of {containerId}/{ifName} on {net.Name} failed", string.Join("; ", problems));
        return null;
    }

    // ---- GC ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Removes the attachments of this network that the plugin made (origin "cni") and that are not in
    /// cni.dev/valid-attachments (or the legacy cni.dev/attachments): their ports, veth, leases and records; then any
    /// lease of the network that no endpoint holds. Continues past failures and reports them together.
    /// </summary>
    private JsonObject? Gc(ContainerNetworkManager m, CniConfig conf)
    {
        var net = m.FindNetwork(conf.Name);
        if (net is null || net.IsPredefined) return null;
        var valid = (conf.ValidAttachments ?? []).ToHashSet();
        var errors = new List<string>();
        foreach (var ep in m.State.ListEndpoints(net.Name))
        {
            if (ep.Origin != Origin || valid.Contains((ep.Container, ep.InterfaceName ?? ""))) continue;
            try
            {
                m.Disconnect(ep.Id, net.Name);
                log.WriteLine($"containernetworking: GC removed {ep.Container}/{ep.InterfaceName} (endpoint {ep.Id[..12]})");
            }
            catch (ContainerNetworkingException e) when (e.ErrorId != "EndpointNotFound") { errors.Add($"{ep.Container}/{ep.InterfaceName}: {e.Message}"); }
        }
        m.WaitForTeardown();
        using (m.State.Lock())
        {
            var held = m.State.ListEndpoints(net.Name).Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var (ip, holder) in m.State.Leases(net.Name))
                if (!held.Contains(holder))
                {
                    m.State.NoteStaleFlows(net.Name, [ip], []); // flushed before the address is used again
                    m.State.ReleaseLease(net.Name, ip, holder);
                    log.WriteLine($"containernetworking: GC released {ip} (held by {holder}, which has no endpoint)");
                }
        }
        if (errors.Count > 0) throw new CniError(CniError.OperationFailed, "garbage collection left resources behind", string.Join("; ", errors));
        return null;
    }

    // ---- STATUS --------------------------------------------------------------------------------------------

    /// <summary>Ready (exit 0) unless the network's address range has no free address left (code 50).</summary>
    private static JsonObject? Status(ContainerNetworkManager m, CniConfig conf)
    {
        var net = m.FindNetwork(conf.Name);
        if (net is null) return null; // ADD will build it from the configuration
        CheckAgrees(net, conf);
        using (m.State.LockForReading())
        {
            try { net.Pool4()!.Allocate(a => m.State.IsLeased(net.Name, a), m.State.LastReserved(net.Name, AddressFamily.InterNetwork)); }
            catch (ContainerNetworkingException e) when (e.ErrorId == "AddressRangeExhausted")
            {
                throw new CniError(CniError.NotAvailable, "no free address left: ADD cannot be served", e.Message);
            }
        }
        return null;
    }

    // ---- host namespace, environment -----------------------------------------------------------------------

    /// <summary>
    /// The namespace the plugin runs in, which plays the host. When it has a name under /run/netns (the plugin runs
    /// under <c>ip netns exec HOST</c>), that name keys the state directory, so <c>Get-ContainerEndpoint -NetNamespace
    /// HOST</c> sees the attachments.
    /// </summary>
    private static NetNamespace OpenHost()
    {
        var self = NetNamespace.CurrentId();
        foreach (var name in NetNamespace.ListNames())
        {
            // One statx per name, and only the match opened: /run/netns holds every container's namespace too, and
            // opening each of them cost every exec a few ms at a hundred containers.
            if (NetNamespace.NamedId(name) != self) continue;
            NetNamespace? ns = null;
            try
            {
                ns = NetNamespace.Open(name);
                if (ns.Id == self) return ns;
            }
            catch (Exception e) when (e is ContainerNetworkingException or IOException or UnauthorizedAccessException or ArgumentException) { } // being created or deleted right now
            ns?.Dispose();
        }
        return NetNamespace.OpenCurrent();
    }

    private static bool ValidContainerId(string id) =>
        char.IsAsciiLetterOrDigit(id[0]) && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    /// <summary>CNI_ARGS as the reference plugins read it: K=V pairs separated by ';'; IP= and MAC= used; others need IgnoreUnknown.</summary>
    public sealed record CniArgs(IReadOnlyList<IPAddress> Ips, string? Mac);

    internal static CniArgs ParseArgs(string? text)
    {
        var ips = new List<IPAddress>();
        string? mac = null;
        if (string.IsNullOrEmpty(text)) return new CniArgs(ips, mac);
        var pairs = new List<(string K, string V)>();
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) throw new CniError(CniError.InvalidEnvironment, "invalid environment variables", $"CNI_ARGS: '{part}' is not KEY=VALUE (pairs are separated by ';')");
            pairs.Add((part[..eq], part[(eq + 1)..]));
        }
        var ignoreUnknown = pairs.Any(p => p.K == "IgnoreUnknown" && (p.V == "1" || p.V.Equals("true", StringComparison.OrdinalIgnoreCase)));
        foreach (var (k, v) in pairs)
        {
            switch (k)
            {
                case "IgnoreUnknown": break;
                case "IP":
                    foreach (var a in v.Split(',', StringSplitOptions.RemoveEmptyEntries))
                        ips.Add(IPAddress.TryParse(a.Split('/')[0], out var ip) ? ip
                            : throw new CniError(CniError.InvalidEnvironment, "invalid environment variables", $"CNI_ARGS: IP={v}: '{a}' is not an IP address"));
                    break;
                case "MAC": mac = v; break;
                default:
                    if (!ignoreUnknown)
                        throw new CniError(CniError.InvalidEnvironment, "invalid environment variables",
                            $"CNI_ARGS: unknown key '{k}' (this plugin reads IP and MAC); add IgnoreUnknown=1 to pass others");
                    break;
            }
        }
        return new CniArgs(ips, mac);
    }
}
