using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using ContainerNetworking.Model;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Cni;

/// <summary>
/// The plugin executed as libcni executes it (<see cref="CniRuntime"/>), inside a namespace that plays the host:
/// every command at every version, every error code, DEL twice and after the namespace is gone, CHECK catching
/// what was removed, GC, STATUS, parallel ADDs, chaining, and the cmdlets' model seeing the attachments.
/// </summary>
public sealed class CniPluginTests : IDisposable
{
    private readonly CniFixture _f = new();
    public void Dispose() => _f.Dispose();

    private string Nft() => Cli.InNs(_f.HostName, "nft", "list", "ruleset").Ok().Stdout;
    private static string? Addr(string nsPath, string ifName = "eth0") =>
        Cli.Run("ip", "-n", Path.GetFileName(nsPath), "-j", "addr", "show", ifName).ExitCode != 0 ? null
            : System.Text.Json.JsonDocument.Parse(Cli.Run("ip", "-n", Path.GetFileName(nsPath), "-j", "addr", "show", ifName).Stdout).RootElement[0]
                .GetProperty("addr_info").EnumerateArray().Where(a => a.GetProperty("family").GetString() == "inet").Select(a => a.GetProperty("local").GetString()).FirstOrDefault();

    [Theory]
    [InlineData("0.3.1")]
    [InlineData("0.4.0")]
    [InlineData("1.0.0")]
    [InlineData("1.1.0")]
    public void Add_Check_Del_AtEveryVersion_ResultInThatVersion_DelTwice_NothingLeft(string version)
    {
        var list = CniFixture.List(version, "net" + version.Replace(".", ""), "cni" + version.Replace(".", ""), "10.77.0.0/24");
        var ns = _f.Container();
        var rt = CniFixture.Ports(new RuntimeConf("c1", ns), (8080, 80));
        var r = _f.Runtime.Add(list, rt);

        Assert.Equal(version, (string)r["cniVersion"]!);
        var ifs = r["interfaces"]!.AsArray();
        Assert.Equal(3, ifs.Count);
        Assert.Equal("cni" + version.Replace(".", ""), (string)ifs[0]!["name"]!);
        Assert.Equal(ns, (string)ifs[2]!["sandbox"]!);
        Assert.Equal("eth0", (string)ifs[2]!["name"]!);
        var ip = r["ips"]!.AsArray()[0]!.AsObject();
        Assert.Equal("10.77.0.2/24", (string)ip["address"]!);
        Assert.Equal("10.77.0.1", (string)ip["gateway"]!);
        Assert.Equal(2, (int)ip["interface"]!);
        if (version is "0.3.1" or "0.4.0") Assert.Equal("4", (string)ip["version"]!);
        else Assert.False(ip.ContainsKey("version"));
        Assert.Equal("0.0.0.0/0", (string)r["routes"]!.AsArray()[0]!["dst"]!);

        // The kernel has it: the address and default route inside, the veth on the bridge, the port in the map.
        Assert.Equal("10.77.0.2", Addr(ns));
        Assert.Contains("default via 10.77.0.1", Cli.Run("ip", "-n", Path.GetFileName(ns), "route").Ok().Stdout);
        var veth = (string)ifs[1]!["name"]!;
        Assert.Equal("cni" + version.Replace(".", ""), Cli.IpJson(_f.HostName, "link", "show", veth)[0].GetProperty("master").GetString());
        Assert.Contains("10.77.0.2 . 80", Nft());

        if (version != "0.3.1") _f.Runtime.Check(list, rt).Ok();
        else Assert.Equal(1, _f.Runtime.Check(list, rt).ErrorCode); // CHECK came with 0.4.0

        _f.Runtime.Del(list, rt).Ok();
        _f.Runtime.Del(list, rt).Ok(); // twice: nothing left to do is success
        Assert.Null(Addr(ns));
        Assert.Empty(Cli.IpJson(_f.HostName, "link", "show", "type", "veth").EnumerateArray());
        Assert.DoesNotContain("10.77.0.2 . 80", Nft());
        Assert.Empty(_f.Manager.GetEndpoints(list["name"]!.ToString()));
        Assert.Empty(_f.Manager.State.Leases(list["name"]!.ToString()));
    }

    [Fact]
    public void Version_ListsEverySupportedVersion()
    {
        var r = _f.Runtime.Exec("containernetworking", "VERSION", new JsonObject { ["cniVersion"] = "1.1.0" }, null).Ok().Json;
        Assert.Equal("1.1.0", (string)r["cniVersion"]!);
        Assert.Equal(["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"], r["supportedVersions"]!.AsArray().Select(v => (string)v!));
    }

    /// <summary>Raw execs with a hand-made environment, as a broken runtime would call the plugin.</summary>
    private PluginRun Raw(Dictionary<string, string> env, string stdin)
    {
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", _f.HostName }.Concat(_f.PluginCommand)) psi.ArgumentList.Add(a);
        foreach (var k in psi.Environment.Keys.Where(k => k.StartsWith("CNI_", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(k);
        foreach (var (k, v) in env.Concat(_f.Env)) psi.Environment[k] = v;
        return CniRuntime.Run(psi, stdin);
    }

    [Fact]
    public void Errors_HaveTheSpecsCodes_OnStdout_WithNonZeroExit_AndChangeNothing()
    {
        var list = CniFixture.List("1.1.0", "errs", "cnierr0", "10.78.0.0/24");
        var conf = CniRuntime.BuildOne(list, list["plugins"]![0]!.AsObject(), null, null).ToJsonString();
        var ns = _f.Container();
        Dictionary<string, string> Env(string cmd, string ifName = "eth0", string? args = null)
        {
            var d = new Dictionary<string, string> { ["CNI_COMMAND"] = cmd, ["CNI_CONTAINERID"] = "e1", ["CNI_NETNS"] = ns, ["CNI_IFNAME"] = ifName, ["CNI_PATH"] = "/usr/lib/cni" };
            if (args is not null) d["CNI_ARGS"] = args;
            return d;
        }
        void Expect(int code, PluginRun run, params string[] inDetails)
        {
            Assert.NotEqual(0, run.ExitCode);
            var j = run.Json;
            Assert.Equal(code, (int)j["code"]!);
            Assert.False(string.IsNullOrEmpty((string?)j["msg"]));
            Assert.NotNull(j["cniVersion"]);
            foreach (var s in inDetails) Assert.Contains(s, (string)j["details"]!);
        }

        Expect(4, Raw(new() { ["CNI_COMMAND"] = "ADD" }, conf), "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME");
        Expect(4, Raw(new(), conf), "CNI_COMMAND");
        Expect(4, Raw(new() { ["CNI_COMMAND"] = "FROB" }, conf), "FROB");
        Expect(4, Raw(Env("ADD", ifName: "a234567890123456"), conf), "CNI_IFNAME");
        Expect(4, Raw(Env("ADD", args: "FOO=bar"), conf), "FOO", "IgnoreUnknown");
        Expect(4, Raw(Env("ADD", args: "novalue"), conf), "CNI_ARGS");
        Expect(6, Raw(Env("ADD"), "{not json"));
        Expect(1, Raw(Env("ADD"), conf.Replace("\"1.1.0\"", "\"0.2.0\"")), "0.2.0");
        Expect(2, Raw(Env("ADD"), conf.Replace("\"host-local\"", "\"dhcp\"")), "ipam.type=dhcp");
        Expect(7, Raw(Env("ADD"), conf.Replace("10.78.0.0/24", "10.78.0.0/99")), "subnet");
        Expect(7, Raw(Env("ADD"), conf.Replace("\"name\":\"errs\",", "")), "name");
        Expect(1, Raw(Env("GC"), conf.Replace("\"1.1.0\"", "\"1.0.0\"")), "GC");
        Expect(1, Raw(Env("STATUS"), conf.Replace("\"1.1.0\"", "\"1.0.0\"")), "STATUS");
        var noNs = Env("ADD");
        noNs["CNI_NETNS"] = "/run/netns/does-not-exist-" + Environment.ProcessId;
        Expect(3, Raw(noNs, conf));
        Expect(7, Raw(Env("CHECK"), conf), "prevResult");
        // Nothing was built by any of them: no bridge, no endpoint.
        Assert.Empty(Cli.IpJson(_f.HostName, "link", "show", "type", "veth").EnumerateArray());
        Assert.Empty(_f.Manager.State.ListAllEndpoints());

        // CNI_ARGS as Podman sends it: IgnoreUnknown, IP= picks the address, MAC= the MAC.
        var ok = Raw(Env("ADD", args: "IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.78.0.50;MAC=02:00:00:00:00:42"), conf).Ok().Json;
        Assert.Equal("10.78.0.50/24", (string)ok["ips"]![0]!["address"]!);
        Assert.Equal("02:00:00:00:00:42", (string)ok["interfaces"]![2]!["mac"]!);
        Assert.Equal("10.78.0.50", Addr(ns));
        // The same attachment twice is refused (the interface exists).
        Assert.NotEqual(0, Raw(Env("ADD"), conf).ExitCode);
        Raw(Env("DEL"), conf).Ok();
    }

    [Fact]
    public void Add_RefusesAConfigThatDisagreesWithTheNetwork_OnIsGateway_AndChangesNothing()
    {
        var list = CniFixture.List("1.1.0", "agree", "cniagree0", "10.76.0.0/24");
        var first = new RuntimeConf("a1", _f.Container());
        _f.Runtime.Add(list, first);
        var noGateway = CniFixture.List("1.1.0", "agree", "cniagree0", "10.76.0.0/24", p => p["isGateway"] = false);
        var other = new RuntimeConf("a2", _f.Container());
        var run = _f.Runtime.Exec("containernetworking", "ADD", CniRuntime.BuildOne(noGateway, noGateway["plugins"]![0]!.AsObject(), null, other), other);
        Assert.Equal(7, run.ErrorCode);
        Assert.Contains("isGateway", (string)run.Json["details"]!);
        Assert.Null(Addr(other.NetNs!));
        Assert.Single(_f.Manager.GetEndpoints("agree"));
        Assert.Contains(Cli.IpJson(_f.HostName, "addr", "show", "dev", "cniagree0")[0].GetProperty("addr_info").EnumerateArray(), a => a.GetProperty("local").GetString() == "10.76.0.1");
        _f.Runtime.Del(list, first).Ok();
    }

    [Fact]
    public void Del_AfterTheNamespaceIsGone_AndWithoutPrevResult_FreesLeaseAndRule_FromStoredState()
    {
        var list = CniFixture.List("1.1.0", "gone", "cnigone0", "10.79.0.0/24");
        var ns = _f.Container();
        var rt = CniFixture.Ports(new RuntimeConf("g1", ns), (8081, 80));
        _f.Runtime.Add(list, rt);
        // The runtime deletes the namespace (container died), and even flushes the addresses first: our DEL does not read them.
        Cli.Run("ip", "-n", Path.GetFileName(ns), "addr", "flush", "dev", "eth0").Ok();
        Cli.Run("ip", "netns", "del", Path.GetFileName(ns)).Ok();
        _f.Runtime.Del(list, rt with { NetNs = null }, useCache: false).Ok();
        Assert.DoesNotContain("10.79.0.2 . 80", Nft());
        Assert.Empty(_f.Manager.State.Leases("gone"));
        Assert.Empty(_f.Manager.GetEndpoints("gone"));
        _f.Runtime.Del(list, rt with { NetNs = null }, useCache: false).Ok();
        // The address is free again for the next ADD.
        var again = _f.Runtime.Add(list, new RuntimeConf("g2", _f.Container()));
        Assert.StartsWith("10.79.0.", (string)again["ips"]![0]!["address"]!);
        Assert.Single(_f.Manager.GetEndpoints("gone"));
    }

    [Fact]
    public void Check_Fails_WhenAnAddressRuleOrLeaseIsMissing()
    {
        var list = CniFixture.List("1.1.0", "chk", "cnichk0", "10.80.0.0/24");
        var ns = _f.Container();
        var rt = CniFixture.Ports(new RuntimeConf("k1", ns), (8082, 80));
        _f.Runtime.Add(list, rt);
        _f.Runtime.Check(list, rt).Ok();

        Cli.Run("ip", "-n", Path.GetFileName(ns), "addr", "del", "10.80.0.2/24", "dev", "eth0").Ok();
        var bad = _f.Runtime.Check(list, rt);
        Assert.Equal(101, bad.ErrorCode);
        Assert.Contains("10.80.0.2", (string)bad.Json["details"]!);
        Cli.Run("ip", "-n", Path.GetFileName(ns), "addr", "add", "10.80.0.2/24", "dev", "eth0").Ok();
        Cli.Run("ip", "-n", Path.GetFileName(ns), "route", "add", "default", "via", "10.80.0.1").Ok();
        _f.Runtime.Check(list, rt).Ok();

        // The published port's map element.
        Cli.InNs(_f.HostName, "nft", "delete", "element", "inet", "containernetworking", "ports4", "{ tcp . 8082 }").Ok();
        bad = _f.Runtime.Check(list, rt);
        Assert.Equal(101, bad.ErrorCode);
        Assert.Contains("8082", (string)bad.Json["details"]!);
        _f.Runtime.Del(list, rt).Ok();
        _f.Runtime.Add(list, rt);

        // The lease.
        var lease = Path.Combine(_f.StateDir, _f.HostName, "networks", "chk", "leases", "10.80.0.3");
        Assert.True(File.Exists(lease), "ADD leased " + lease);
        File.Delete(lease);
        bad = _f.Runtime.Check(list, rt);
        Assert.Equal(101, bad.ErrorCode);
        Assert.Contains("Lease", (string)bad.Json["details"]!);
        _f.Runtime.Del(list, rt).Ok();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gc_FreesWhatIsNotListed_AndLeavesTheCmdletsEndpointsAlone(bool legacyKey)
    {
        var list = CniFixture.List("1.1.0", "gc", "cnigc0", "10.81.0.0/24");
        var keep = CniFixture.Ports(new RuntimeConf("keep", _f.Container()), (8083, 80));
        var drop = CniFixture.Ports(new RuntimeConf("drop", _f.Container()), (8084, 80));
        _f.Runtime.Add(list, keep);
        _f.Runtime.Add(list, drop);
        var byCmdlet = _f.Manager.Connect(new EndpointSpec { Network = "gc", Namespace = _f.Container("cmd") });
        // A lease nobody holds (a process killed between lease and record).
        File.WriteAllText(Path.Combine(_f.StateDir, _f.HostName, "networks", "gc", "leases", "10.81.0.200"), "deadbeef");

        foreach (var run in _f.Runtime.Gc(list, [keep], legacyKey)) run.Ok();

        var left = _f.Manager.GetEndpoints("gc");
        Assert.Equal(new[] { "keep", byCmdlet.Container }.Order(StringComparer.Ordinal), left.Select(e => e.Container).Order(StringComparer.Ordinal));
        Assert.Contains("10.81.0.2 . 80", Nft());
        Assert.DoesNotContain("10.81.0.3 . 80", Nft());
        Assert.DoesNotContain(IPAddress.Parse("10.81.0.3"), _f.Manager.State.Leases("gc").Keys);
        Assert.DoesNotContain(IPAddress.Parse("10.81.0.200"), _f.Manager.State.Leases("gc").Keys);
        _f.Runtime.Check(list, keep).Ok();
        _f.Runtime.Del(list, keep).Ok();
        _f.Runtime.Del(list, drop).Ok(); // DEL after GC took it: success
    }

    [Fact]
    public void Status_Is50_WhenThePoolIsExhausted()
    {
        var list = CniFixture.List("1.1.0", "st", "cnist0", "10.82.0.0/24", rangeStart: "10.82.0.10", rangeEnd: "10.82.0.11");
        _f.Runtime.Status(list).Ok(); // the network does not exist yet: ADD can build it
        var a = new RuntimeConf("s1", _f.Container());
        var b = new RuntimeConf("s2", _f.Container());
        Assert.Equal("10.82.0.10/24", (string)_f.Runtime.Add(list, a)["ips"]![0]!["address"]!);
        _f.Runtime.Status(list).Ok();
        Assert.Equal("10.82.0.11/24", (string)_f.Runtime.Add(list, b)["ips"]![0]!["address"]!);
        var st = _f.Runtime.Status(list);
        Assert.Equal(50, st.ErrorCode);
        Assert.NotEqual(0, st.ExitCode);
        _f.Runtime.Del(list, a).Ok();
        _f.Runtime.Status(list).Ok();
        _f.Runtime.Del(list, b).Ok();
    }

    [Fact]
    public void TwentyParallelAdds_GetDistinctAddresses_UnderTheStateLock()
    {
        var list = CniFixture.List("1.1.0", "par", "cnipar0", "10.83.0.0/24");
        var rts = Enumerable.Range(0, 20).Select(i => new RuntimeConf("p" + i, _f.Container())).ToList();
        var results = new JsonObject[20];
        Parallel.For(0, 20, new ParallelOptions { MaxDegreeOfParallelism = 20 }, i =>
        {
            var conf = CniRuntime.BuildOne(list, list["plugins"]![0]!.AsObject(), null, rts[i]);
            results[i] = _f.Runtime.Exec("containernetworking", "ADD", conf, rts[i]).Ok().Json;
        });
        var addrs = results.Select(r => (string)r["ips"]![0]!["address"]!).ToList();
        Assert.Equal(20, addrs.Distinct().Count());
        Assert.Equal(20, _f.Manager.GetEndpoints("par").Count);
        for (var i = 0; i < 20; i++) Assert.Equal(addrs[i].Split('/')[0], Addr(rts[i].NetNs!));
        Assert.True(Cli.Ping(Path.GetFileName(rts[0].NetNs!), addrs[19].Split('/')[0]));
        Parallel.For(0, 20, i => _f.Runtime.Del(list, rts[i], useCache: false).Ok());
        Assert.Empty(_f.Manager.GetEndpoints("par"));
        Assert.Empty(_f.Manager.State.Leases("par"));
    }

    [Fact]
    public void Chained_AfterLoopback_KeepsItsPrevResult_AndTheCmdletsSeeAndManageTheAttachment()
    {
        var list = CniFixture.List("1.0.0", "chain", "cnichain0", "10.84.0.0/24");
        list["plugins"]!.AsArray().Insert(0, new JsonObject { ["type"] = "loopback" });
        var ns = _f.Container();
        var rt = new RuntimeConf("ch1", ns);
        var r = _f.Runtime.Add(list, rt);
        var ifs = r["interfaces"]!.AsArray();
        Assert.Equal("lo", (string)ifs[0]!["name"]!);
        Assert.Equal(4, ifs.Count);
        Assert.Contains(r["ips"]!.AsArray(), ip => (string)ip!["address"]! == "127.0.0.1/8");
        Assert.Contains(r["ips"]!.AsArray(), ip => (string)ip!["address"]! == "10.84.0.2/24" && (int)ip["interface"]! == 3);
        _f.Runtime.Check(list, rt).Ok();

        // One model: the cmdlets' manager sees the endpoint, tests its path, and may disconnect it; DEL then succeeds.
        var m = _f.Manager;
        var ep = Assert.Single(m.GetEndpoints("chain"));
        Assert.Equal("ch1", ep.Container);
        Assert.Equal("cni", ep.Origin);
        Assert.DoesNotContain(m.Test(ep.Id, "chain"), h => h.Status == HopStatus.Broken);
        m.Disconnect(ep.Id, "chain");
        Assert.Null(Addr(ns));
        _f.Runtime.Del(list, rt).Ok();
    }
}
