using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Bench;

/// <summary>The walkthroughs' way: one <c>ip</c> / <c>iptables</c> / <c>sysctl</c> command per step, each its own
/// process (the host is a namespace here, so host commands are <c>ip -n HOST …</c> / <c>ip netns exec HOST …</c>).</summary>
public sealed class SeedsPeer : Impl
{
    public override string Name => "seeds";
    public override string Description => "one ip/iptables command per step (the walkthroughs)";
    public override bool Slow => true;
    public override string? Unavailable =>
        Sh.Which("iptables") is null ? "iptables not installed (build/bench.sh --install-peers)" :
        Sh.Which("sysctl") is null ? "sysctl not installed" : null;

    private static void Ip(params string[] a) => Sh.Run("ip", a);
    private static void Ipt(Topology t, params string[] a) => Sh.InNs(t.Host, "iptables", a);

    public override void SetupNetwork(Topology t)
    {
        Ip("-n", t.Host, "link", "add", Topology.Bridge, "type", "bridge");
        Ip("-n", t.Host, "addr", "add", Topology.Gateway + "/16", "dev", Topology.Bridge);
        Ip("-n", t.Host, "link", "set", Topology.Bridge, "up");
        Sh.InNs(t.Host, "sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
        Ipt(t, "-t", "nat", "-A", "POSTROUTING", "-s", Topology.Subnet, "!", "-o", Topology.Bridge, "-j", "MASQUERADE");
    }

    private static string[] Dnat(int i) =>
        ["-t", "nat", "{op}", "PREROUTING", "!", "-i", Topology.Bridge, "-p", "tcp", "--dport", Topology.HostPort(i).ToString(CultureInfo.InvariantCulture),
         "-j", "DNAT", "--to-destination", $"{Topology.ContainerIp(i)}:{Topology.ContainerPort}"];

    public override void SetupContainers(Topology t, int n)
    {
        for (var i = 0; i < n; i++)
        {
            var c = Topology.ContainerNs(i);
            var vh = Topology.HostVeth(i);
            var vc = "vc" + i;
            Ip("netns", "add", c);
            Ip("-n", t.Host, "link", "add", vh, "type", "veth", "peer", "name", vc);
            Ip("-n", t.Host, "link", "set", vc, "netns", c);
            Ip("-n", c, "link", "set", vc, "name", "eth0");
            Ip("-n", t.Host, "link", "set", vh, "master", Topology.Bridge);
            Ip("-n", t.Host, "link", "set", vh, "up");
            Ip("-n", c, "addr", "add", Topology.ContainerIp(i) + "/16", "dev", "eth0");
            Ip("-n", c, "link", "set", "eth0", "up");
            Ip("-n", c, "link", "set", "lo", "up");
            Ip("-n", c, "route", "add", "default", "via", Topology.Gateway);
            Ipt(t, [.. Dnat(i).Select(x => x == "{op}" ? "-A" : x)]);
        }
    }

    public override void TeardownContainers(Topology t, int n)
    {
        for (var i = 0; i < n; i++)
        {
            Ipt(t, [.. Dnat(i).Select(x => x == "{op}" ? "-D" : x)]);
            Ip("-n", t.Host, "link", "del", Topology.HostVeth(i));
            Ip("netns", "del", Topology.ContainerNs(i));
        }
    }

    public override void TeardownNetwork(Topology t)
    {
        Ipt(t, "-t", "nat", "-D", "POSTROUTING", "-s", Topology.Subnet, "!", "-o", Topology.Bridge, "-j", "MASQUERADE");
        Ip("-n", t.Host, "link", "del", Topology.Bridge);
    }
}

/// <summary>The fastest way with the CLIs: one <c>ip -batch</c> for all namespaces, one for all host-side links,
/// one <c>ip -n C -batch</c> per container (a batch cannot switch namespace per line) and one <c>nft -f</c> with
/// masquerade and one dnat rule per port.</summary>
public sealed class BatchPeer : Impl, IPortPublisher
{
    public string PublishMethod => "one nft -f, one dnat rule per port (via ip netns exec)";

    public void PublishPorts(Topology t, IReadOnlyList<(int HostPort, string Ip, int Port)> ports) =>
        Sh.InNs(t.Host, "nft", ["-f", "-"], DnatRules(ports));

    public override string Name => "batch";
    public override string Description => "ip -batch + ip -n C -batch per container + one nft -f";
    public override string? Unavailable =>
        Sh.Which("nft") is null ? "nft not installed (build/bench.sh --install-peers)" :
        Sh.Which("sysctl") is null ? "sysctl not installed" : null;

    public const string Table = "cnbatch";

    public override void SetupNetwork(Topology t)
    {
        Topology.IpBatch(t.Host, $"""
            link add {Topology.Bridge} type bridge
            addr add {Topology.Gateway}/16 dev {Topology.Bridge}
            link set {Topology.Bridge} up
            """);
        Sh.InNs(t.Host, "sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
        Sh.InNs(t.Host, "nft", ["-f", "-"], $$"""
            table ip {{Table}} {
              chain postrouting { type nat hook postrouting priority srcnat; ip saddr {{Topology.Subnet}} oifname != "{{Topology.Bridge}}" masquerade; }
              chain prerouting { type nat hook prerouting priority dstnat; }
            }
            """);
    }

    /// <summary>The nft text that publishes host ports first…first+count-1, one dnat rule each.</summary>
    public static string DnatRules(IEnumerable<(int HostPort, string Ip, int Port)> ports)
    {
        var sb = new StringBuilder();
        foreach (var (hp, ip, p) in ports)
            sb.Append(CultureInfo.InvariantCulture, $"add rule ip {Table} prerouting iifname != \"{Topology.Bridge}\" tcp dport {hp} dnat to {ip}:{p}\n");
        return sb.ToString();
    }

    public override void SetupContainers(Topology t, int n)
    {
        var ns = new StringBuilder();
        var links = new StringBuilder();
        for (var i = 0; i < n; i++)
        {
            ns.Append("netns add ").Append(Topology.ContainerNs(i)).Append('\n');
            links.Append(CultureInfo.InvariantCulture, $"link add {Topology.HostVeth(i)} type veth peer name eth0 netns {Topology.ContainerNs(i)}\n");
            links.Append(CultureInfo.InvariantCulture, $"link set {Topology.HostVeth(i)} master {Topology.Bridge} up\n");
        }
        // netns add must run without -n: ip -n unshares a mount namespace, and the bind mount would stay in it.
        Sh.Run("ip", ["-batch", "-"], ns.ToString());
        Sh.Run("ip", ["-n", t.Host, "-batch", "-"], links.ToString());
        for (var i = 0; i < n; i++)
            Topology.IpBatch(Topology.ContainerNs(i), $"""
                addr add {Topology.ContainerIp(i)}/16 dev eth0
                link set eth0 addrgenmode none
                link set eth0 up
                link set lo up
                route add default via {Topology.Gateway}
                """);
        Sh.InNs(t.Host, "nft", ["-f", "-"], DnatRules(Enumerable.Range(0, n).Select(i => (Topology.HostPort(i), Topology.ContainerIp(i), Topology.ContainerPort))));
    }

    public override void TeardownContainers(Topology t, int n)
    {
        Sh.InNs(t.Host, "nft", ["flush", "chain", "ip", Table, "prerouting"]);
        var links = new StringBuilder();
        var ns = new StringBuilder();
        for (var i = 0; i < n; i++)
        {
            links.Append("link del ").Append(Topology.HostVeth(i)).Append('\n');
            ns.Append("netns del ").Append(Topology.ContainerNs(i)).Append('\n');
        }
        Sh.Run("ip", ["-n", t.Host, "-batch", "-"], links.ToString());
        Sh.Run("ip", ["-batch", "-"], ns.ToString());
    }

    public override void TeardownNetwork(Topology t)
    {
        Sh.InNs(t.Host, "nft", ["delete", "table", "ip", Table]);
        Topology.IpBatch(t.Host, $"link del {Topology.Bridge}");
    }
}

/// <summary>
/// The CNI reference plugins invoked as a runtime invokes them: the conflist's chain (bridge with host-local IPAM
/// and ipMasq, then portmap) executed in order for ADD with the previous result passed on, in reverse for DEL;
/// CNI_COMMAND/CONTAINERID/NETNS/IFNAME/PATH in the environment, the plugin's config on stdin. The runtime part
/// (creating and deleting the container's namespace) is done in-process, as a runtime would. Plugins run inside the
/// host namespace as a runtime there execs them: through <c>nsenter --net</c> (setns and exec, no mount namespace of
/// their own as <c>ip netns exec</c> makes); host-local keeps its state in a private directory. The plugin executions
/// alone are timed too (<see cref="TakeExecTimes"/>: the "CNI ADD/DEL per container" line).
/// With <c>ours</c>, the same runtime part drives our plugin (./build.ps1 Cni's NativeAOT out/cni/containernetworking)
/// on the same configuration with type "containernetworking": one exec per ADD and DEL instead of three.
/// </summary>
public sealed class CniPeer(bool ours = false) : Impl
{
    private static readonly string[] PluginDirs = ["/usr/lib/cni", "/opt/cni/bin", "/usr/libexec/cni"];
    private readonly string? _dir = ours ? OurPluginDir() : PluginDirs.FirstOrDefault(d => File.Exists(Path.Combine(d, "bridge")) && File.Exists(Path.Combine(d, "portmap")) && File.Exists(Path.Combine(d, "host-local")));
    private readonly Dictionary<int, JsonNode?[]> _results = [];
    private string _dataDir = "";
    private double _addMs, _delMs, _execFloorMs, _vethDelMs;

    /// <summary>
    /// The plugin executions of ADD and of DEL since the last call, all containers together, in ms; for ours also the
    /// DEL floor's two parts: an exec that does nothing, started the same way (nsenter into the host namespace, then
    /// /bin/true), once per container between its DELs, and the kernel's veth deletion alone inside each DEL, as our
    /// plugin's timing log (CONTAINERNETWORKING_CNI_TIMING) reports its DeleteVeth step.
    /// </summary>
    public (double AddMs, double DelMs, double? ExecFloorMs, double? VethDelMs) TakeExecTimes()
    {
        var r = (_addMs, _delMs, ours ? _execFloorMs : (double?)null, ours ? _vethDelMs : (double?)null);
        _addMs = _delMs = _execFloorMs = _vethDelMs = 0;
        return r;
    }

    public override string Name => ours ? "cni-ours" : "cni";
    public override string Description => ours ? "our CNI plugin containernetworking, NativeAOT (ADD/DEL, one exec)" : "CNI plugins bridge+host-local+portmap (ADD/DEL chain)";
    public override bool Slow => !ours;
    public override string? Unavailable =>
        _dir is null ? (ours ? "our CNI plugin is not built (./build.ps1 Cni → out/cni/containernetworking)" : "CNI plugins not installed (containernetworking-plugins; build/bench.sh --install-peers)") :
        !ours && Sh.Which("iptables") is null ? "iptables not installed" : null;

    /// <summary>out/cni of the repository this bench was built from (found upwards from the bench's directory).</summary>
    private static string? OurPluginDir()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "ContainerNetworking.slnx")))
                return File.Exists(Path.Combine(d.FullName, "out", "cni", "containernetworking")) ? Path.Combine(d.FullName, "out", "cni") : null;
        return null;
    }

    private JsonArray Plugins() => ours ? OurPlugins() : ReferencePlugins();

    /// <summary>The reference chain's configuration as one plugin: type changed, portmap's capability on it.</summary>
    private JsonArray OurPlugins()
    {
        var main = (JsonObject)ReferencePlugins()[0]!.DeepClone();
        main["type"] = "containernetworking";
        main["capabilities"] = new JsonObject { ["portMappings"] = true };
        return [main];
    }

    private JsonArray ReferencePlugins() =>
    [
        new JsonObject
        {
            ["type"] = "bridge", ["bridge"] = Topology.Bridge, ["isGateway"] = true, ["ipMasq"] = true, ["hairpinMode"] = true,
            ["ipam"] = new JsonObject
            {
                ["type"] = "host-local",
                ["ranges"] = new JsonArray(new JsonArray(new JsonObject { ["subnet"] = Topology.Subnet, ["gateway"] = Topology.Gateway })),
                ["routes"] = new JsonArray(new JsonObject { ["dst"] = "0.0.0.0/0" }),
                ["dataDir"] = _dataDir,
            },
        },
        new JsonObject { ["type"] = "portmap", ["capabilities"] = new JsonObject { ["portMappings"] = true }, ["snat"] = true },
    ];

    public override void SetupNetwork(Topology t)
    {
        _dataDir = Path.Combine(Cleanup.TempDir, "cni-ipam-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(_dataDir);
        _results.Clear();
        _addMs = _delMs = _execFloorMs = _vethDelMs = 0;
    }

    private JsonNode? Invoke(Topology t, string command, int i, JsonObject plugin, JsonNode? prevResult)
    {
        var conf = (JsonObject)plugin.DeepClone();
        conf["cniVersion"] = "1.0.0";
        conf["name"] = "cnbench";
        if (prevResult is not null) conf["prevResult"] = prevResult.DeepClone();
        if (plugin["capabilities"]?["portMappings"] is not null)
            conf["runtimeConfig"] = new JsonObject
            {
                ["portMappings"] = new JsonArray(new JsonObject
                {
                    ["hostPort"] = Topology.HostPort(i), ["containerPort"] = Topology.ContainerPort, ["protocol"] = "tcp",
                }),
            };
        var env = new Dictionary<string, string>
        {
            ["CNI_COMMAND"] = command, ["CNI_CONTAINERID"] = ContainerId(i), ["CNI_NETNS"] = Topology.ContainerPath(i),
            ["CNI_IFNAME"] = "eth0", ["CNI_PATH"] = _dir!,
        };
        if (ours && command == "DEL") env["CONTAINERNETWORKING_CNI_TIMING"] = "1";
        var type = plugin["type"]!.GetValue<string>();
        var sw = Stopwatch.StartNew();
        var r = Sh.Run("nsenter", ["--net=/run/netns/" + t.Host, Path.Combine(_dir!, type)], conf.ToJsonString(), env, check: false);
        if (command == "ADD") _addMs += sw.Elapsed.TotalMilliseconds;
        else _delMs += sw.Elapsed.TotalMilliseconds;
        if (r.ExitCode != 0) throw new CommandFailedException($"CNI {type} {command} for container {i} failed ({r.ExitCode}): {r.Stdout}{r.Stderr}");
        if (ours && command == "DEL") _vethDelMs += StepMs(r.Stderr, "DeleteVeth");
        return string.IsNullOrWhiteSpace(r.Stdout) ? null : JsonNode.Parse(r.Stdout);
    }

    /// <summary>The milliseconds our plugin's timing log gives a plan step ("containernetworking: timing:   step NAME 1.23 ms").</summary>
    private static double StepMs(string stderr, string step)
    {
        var m = System.Text.RegularExpressions.Regex.Match(stderr, $@"timing: +step {step} ([0-9.]+) ms");
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new CommandFailedException($"our plugin's DEL logged no {step} step time: {stderr}");
    }

    /// <summary>One exec that does nothing, started as the plugin is (nsenter into the host namespace), in ms.</summary>
    private static double ExecFloor(Topology t)
    {
        var sw = Stopwatch.StartNew();
        Sh.Run("nsenter", ["--net=/run/netns/" + t.Host, "/bin/true"], "", new Dictionary<string, string> { ["CNI_COMMAND"] = "DEL" });
        return sw.Elapsed.TotalMilliseconds;
    }

    private static string ContainerId(int i) => "cnbench" + i.ToString("D8", CultureInfo.InvariantCulture);

    public override void SetupContainers(Topology t, int n)
    {
        var plugins = Plugins();
        for (var i = 0; i < n; i++)
        {
            NetNamespace.Create(Topology.ContainerNs(i)).Dispose();
            JsonNode? prev = null;
            var results = new JsonNode?[plugins.Count];
            for (var k = 0; k < plugins.Count; k++)
            {
                var r = Invoke(t, "ADD", i, (JsonObject)plugins[k]!, prev);
                results[k] = r;
                prev = r ?? prev;
            }
            _results[i] = results;
        }
    }

    public override void TeardownContainers(Topology t, int n)
    {
        var plugins = Plugins();
        for (var i = 0; i < n; i++)
        {
            var prev = _results.TryGetValue(i, out var rs) ? rs[^1] ?? rs[0] : null;
            for (var k = plugins.Count - 1; k >= 0; k--) Invoke(t, "DEL", i, (JsonObject)plugins[k]!, prev);
            if (ours) _execFloorMs += ExecFloor(t);
            NetNamespace.Delete(Topology.ContainerNs(i));
            _results.Remove(i);
        }
    }

    public override void TeardownNetwork(Topology t)
    {
        // The bridge plugin never removes its bridge; a runtime leaves it too. Removed here so the host is clean.
        Topology.IpBatch(t.Host, $"link del {Topology.Bridge}");
    }
}

/// <summary>
/// Podman's netavark: <c>netavark --config DIR setup /run/netns/C</c> with the network options JSON on stdin (static
/// IP, one port mapping), <c>teardown</c> likewise; run inside the host namespace via <c>ip netns exec</c>. The
/// container namespace is created in-process, as Podman does. DNS (aardvark) is off.
/// </summary>
public sealed class NetavarkPeer : Impl
{
    private static readonly string[] Candidates = ["/usr/lib/podman/netavark", "/usr/libexec/podman/netavark", "/usr/local/lib/podman/netavark", "/usr/bin/netavark"];
    private readonly string? _exe = Candidates.FirstOrDefault(File.Exists) ?? Sh.Which("netavark");
    private string _config = "";

    public override string Name => "netavark";
    public override string Description => "netavark setup/teardown (Podman)";
    public override bool Slow => true;
    public override string? Unavailable =>
        _exe is null ? "netavark not installed (build/bench.sh --install-peers)" :
        Sh.Which("iptables") is null && Sh.Which("nft") is null ? "neither iptables nor nft installed" : null;

    public override void SetupNetwork(Topology t)
    {
        _config = Path.Combine(Cleanup.TempDir, "netavark-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(_config);
    }

    private static string Options(int i)
    {
        var id = (i + 1).ToString("x", CultureInfo.InvariantCulture).PadLeft(64, 'c');
        var o = new JsonObject
        {
            ["container_id"] = id,
            ["container_name"] = "cnbench" + i,
            ["port_mappings"] = new JsonArray(new JsonObject
            {
                ["host_ip"] = "", ["container_port"] = Topology.ContainerPort, ["host_port"] = Topology.HostPort(i), ["range"] = 1, ["protocol"] = "tcp",
            }),
            ["networks"] = new JsonObject
            {
                ["cnbench"] = new JsonObject
                {
                    ["static_ips"] = new JsonArray(Topology.ContainerIp(i)), ["aliases"] = new JsonArray(), ["interface_name"] = "eth0",
                },
            },
            ["network_info"] = new JsonObject
            {
                ["cnbench"] = new JsonObject
                {
                    ["name"] = "cnbench", ["id"] = new string('b', 64), ["driver"] = "bridge", ["network_interface"] = Topology.Bridge,
                    ["subnets"] = new JsonArray(new JsonObject { ["subnet"] = Topology.Subnet, ["gateway"] = Topology.Gateway }),
                    ["ipv6_enabled"] = false, ["internal"] = false, ["dns_enabled"] = false,
                    ["ipam_options"] = new JsonObject { ["driver"] = "host-local" },
                },
            },
        };
        return o.ToJsonString();
    }

    private void Invoke(Topology t, string command, int i)
    {
        var r = Sh.InNs(t.Host, _exe!, ["--config", _config, command, Topology.ContainerPath(i)], Options(i), check: false);
        if (r.ExitCode != 0) throw new CommandFailedException($"netavark {command} for container {i} failed ({r.ExitCode}): {r.Stdout}{r.Stderr}");
    }

    public override void SetupContainers(Topology t, int n)
    {
        for (var i = 0; i < n; i++)
        {
            NetNamespace.Create(Topology.ContainerNs(i)).Dispose();
            Invoke(t, "setup", i);
        }
    }

    public override void TeardownContainers(Topology t, int n)
    {
        for (var i = 0; i < n; i++)
        {
            Invoke(t, "teardown", i);
            NetNamespace.Delete(Topology.ContainerNs(i));
        }
    }
}
