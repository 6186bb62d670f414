using System.Diagnostics;
using System.Net;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Route;

namespace ContainerNetworking.Bench;

/// <summary>
/// --profile N: where one "ours" container's time goes, step by step (summed over N containers), beside the floor's
/// total. Each step is one library call.
/// </summary>
public static class Profile
{
    public static void Run(int n)
    {
        using var t = new Topology();
        var ours = new OursLowLevel();
        ours.SetupNetwork(t);
        var host = t.HostNs.Rtnl;
        var fw = new ContainerFirewall(t.HostNs);
        var steps = new Dictionary<string, double>();
        var order = new List<string>();
        void Step(string name, Action a)
        {
            var sw = Stopwatch.StartNew();
            a();
            var ms = sw.Elapsed.TotalMilliseconds;
            if (!steps.TryAdd(name, ms)) steps[name] += ms;
            else order.Add(name);
        }
        var gw = IPAddress.Parse(Topology.Gateway);
        var veth = new VethOptions { Up = true, Master = Topology.Bridge };
        var nss = new List<NetNamespace>();
        var total = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            NetNamespace c = null!;
            Step("NetNamespace.Create (thread + unshare + bind mount + socket)", () => c = NetNamespace.Create(Topology.ContainerNs(i)));
            nss.Add(c);
            Step("host.CreateVeth (master lookup, create, read back)", () => host.CreateVeth(Topology.HostVeth(i), "eth0", c.Handle, veth));
            var r = c.Rtnl;
            Step("c.SetLinkUp(lo)", () => r.SetLinkUp("lo"));
            Step("c.SetLinkUp(eth0)", () => r.SetLinkUp("eth0"));
            Step("c.AddAddress(eth0)", () => r.AddAddress("eth0", IPAddress.Parse(Topology.ContainerIp(i)), Topology.PrefixLength));
            Step("c.AddDefaultRoute", () => r.AddDefaultRoute(gw, "eth0"));
            Step("fw.Publish(1 port)", () => fw.Publish(new PortMappingSpec(PortProtocol.Tcp, Topology.HostPort(i), IPAddress.Parse(Topology.ContainerIp(i)), Topology.ContainerPort)));
        }
        var setup = total.Elapsed.TotalMilliseconds;
        total.Restart();
        for (var i = 0; i < n; i++)
        {
            Step("fw.Unpublish (teardown)", () => fw.Unpublish(PortProtocol.Tcp, Topology.HostPort(i)));
            Step("host.DeleteLink(veth) (teardown)", () => host.DeleteLink(Topology.HostVeth(i)));
            Step("NetNamespace.Delete (teardown)", () => { nss[i].Dispose(); NetNamespace.Delete(Topology.ContainerNs(i)); });
        }
        var teardown = total.Elapsed.TotalMilliseconds;
        ours.TeardownNetwork(t);
        Console.WriteLine($"profile of ours, N={n} (ms per container, load {File.ReadAllText("/proc/loadavg").Trim()}):");
        foreach (var k in order) Console.WriteLine($"  {steps[k] / n,8:F3}  {k}");
        Console.WriteLine($"  setup {setup / n:F3} ms/container, teardown {teardown / n:F3} ms/container");
    }
}
