// The main job: Docker's bridge network (scenario S001) with the seed's NAT and published port (S000), built by the
// library in namespaces this program creates — one plays "the host", one "the outside world", one "a client machine" —
// checked with real packets, drawn, and removed again (also on Ctrl-C or a failure). The root namespace is never changed.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;
using ContainerNetworking.Topology;

var suffix = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
string N(string role) => $"demo-{role}-{suffix}";
var created = new List<string>();
var stateDir = Directory.CreateTempSubdirectory("cn-demo-state-").FullName;
var failures = 0;
var clock = Stopwatch.StartNew();

void Step(string text) => Console.WriteLine($"[{clock.Elapsed.TotalMilliseconds,8:F1} ms] {text}");

void Check(string what, Func<string> probe)
{
    try
    {
        var detail = probe();
        Console.WriteLine($"  ✔ {what}: {detail}");
    }
    catch (Exception e)
    {
        failures++;
        Console.WriteLine($"  ✘ {what}: {e.Message}");
    }
}

void Cleanup()
{
    foreach (var name in created.AsEnumerable().Reverse())
    {
        try { if (NetNamespace.Exists(name)) NetNamespace.Delete(name); } catch (Exception e) { Console.Error.WriteLine($"cleanup {name}: {e.Message}"); }
    }
    created.Clear();
    try { Directory.Delete(stateDir, true); } catch (IOException) { }
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => { Cleanup(); Environment.Exit(130); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => { Cleanup(); Environment.Exit(143); });

NetNamespace Create(string role)
{
    var ns = NetNamespace.Create(N(role));
    created.Add(ns.Name!);
    return ns;
}

try
{
    Step("Namespaces: one plays the host, one the outside world, one a client machine on the host's LAN");
    using var host = Create("host");
    using var outside = Create("outside");
    using var client = Create("client");
    foreach (var ns in new[] { host, outside, client }) ns.Rtnl.SetLinkUp("lo");

    // The host's uplink to "the internet" (outside) and its LAN to a client machine.
    host.Rtnl.CreateVeth("uplink0", "eth0", outside.Handle, new VethOptions { Up = true });
    outside.Rtnl.SetLinkUp("eth0");
    host.Rtnl.AddAddress("uplink0", IPAddress.Parse("10.200.0.1"), 24);
    outside.Rtnl.AddAddress("eth0", IPAddress.Parse("10.200.0.2"), 24);
    host.Rtnl.AddDefaultRoute(IPAddress.Parse("10.200.0.2"));
    host.Rtnl.CreateVeth("lan0", "eth0", client.Handle, new VethOptions { Up = true });
    client.Rtnl.SetLinkUp("eth0");
    host.Rtnl.AddAddress("lan0", IPAddress.Parse("10.201.0.1"), 24);
    client.Rtnl.AddAddress("eth0", IPAddress.Parse("10.201.0.2"), 24);
    client.Rtnl.AddDefaultRoute(IPAddress.Parse("10.201.0.1"));

    Step("New-ContainerNetwork: bridge docker0 172.17.0.1/16, forwarding, masquerade, Docker's filter rules (one nf_tables batch)");
    var manager = new ContainerNetworkManager(host, stateDir);
    var network = manager.CreateNetwork(new NetworkSpec
    {
        Name = "bridge",
        BridgeName = "docker0",
        Subnet = IPNetwork.Parse("172.17.0.0/16"),
    });

    Step("Connect-ContainerNetwork: two containers, c1 publishing host port 8088 to its port 80 (docker run -p 8088:80)");
    var sw = Stopwatch.StartNew();
    var c1 = manager.Connect(new EndpointSpec { Network = network.Name, Namespace = N("c1"), CreateNamespace = true, Publish = ["8088:80"] });
    created.Add(N("c1"));
    var c2 = manager.Connect(new EndpointSpec { Network = network.Name, Namespace = N("c2"), CreateNamespace = true });
    created.Add(N("c2"));
    Step($"  attached {c1.Container} {c1.IPv4Address} ({c1.MacAddress}) and {c2.Container} {c2.IPv4Address} ({c2.MacAddress}) in {sw.Elapsed.TotalMilliseconds:F1} ms");

    using var ns1 = NetNamespace.Open(N("c1"));
    using var ns2 = NetNamespace.Open(N("c2"));

    // A web server in c1 on port 80 and a listener in the outside world that reports who connected.
    using var web = Listen(ns1, IPAddress.Any, 80, "hello from c1");
    using var world = Listen(outside, IPAddress.Any, 7000, null);

    Step("Checks with real packets");
    Check($"c1 → c2 ({c2.IPv4Address}) ping", () => Ping(ns1, c2.IPv4Address!));
    Check($"c2 → gateway ({network.Gateway}) ping", () => Ping(ns2, network.Gateway!));
    Check($"host → c1 ({c1.IPv4Address}) ping", () => Ping(host, c1.IPv4Address!));
    Check("c1 → outside 10.200.0.2:7000, source seen by the far side", () =>
    {
        var seen = Connect(ns1, IPAddress.Parse("10.200.0.2"), 7000);
        return seen.StartsWith("10.200.0.1:", StringComparison.Ordinal) ? $"{seen} (the host's address: masqueraded)" : throw new InvalidOperationException($"far side saw {seen}, not the host's address 10.200.0.1");
    });
    Check("client → host 10.201.0.1:8088 → c1:80", () => Expect(Connect(client, IPAddress.Parse("10.201.0.1"), 8088), "hello from c1"));
    Check("host → 127.0.0.1:8088 → c1:80", () => Expect(Connect(host, IPAddress.Loopback, 8088), "hello from c1"));
    Check("c2 → host 10.201.0.1:8088 → c1:80 (hairpin)", () => Expect(Connect(ns2, IPAddress.Parse("10.201.0.1"), 8088), "hello from c1"));
    Check("c1's eth0 is one end of the veth whose other end is on docker0", () =>
    {
        var eth0 = ns1.Rtnl.GetLink("eth0");
        var peer = host.Rtnl.GetLink(eth0.PeerIndex ?? 0);
        return peer.Master == "docker0" ? $"eth0@if{eth0.PeerIndex} ⇄ {peer.Name} master docker0" : throw new InvalidOperationException($"peer {peer.Name} is not on docker0");
    });
    Check("Test-ContainerNetwork walks the path of c1", () =>
    {
        var hops = manager.Test(c1.Id);
        var broken = hops.Where(h => h.Status == HopStatus.Broken).ToList();
        return broken.Count == 0 ? $"{hops.Count} hops ok" : throw new InvalidOperationException(string.Join("; ", broken.Select(b => $"{b.Hop}: {b.Detail}")));
    });

    Step("Get-NetTopology");
    Console.WriteLine();
    Console.Write(NetworkTopology.Read([host, ns1, ns2, outside, client], NetworkTopology.ReadPublishedPorts).ToText());
    Console.WriteLine();

    // Stop the "containers" first, as a runtime does: nothing inside them may pin their namespaces any more.
    web.Dispose();
    world.Dispose();
    ns1.Dispose();
    ns2.Dispose();

    Step("Disconnect-ContainerNetwork, Remove-ContainerNetwork");
    sw.Restart();
    manager.Disconnect(c2.Id);
    manager.Disconnect(c1.Id);
    created.Remove(N("c1"));
    created.Remove(N("c2"));
    manager.RemoveNetwork(network.Name);
    Step($"  removed in {sw.Elapsed.TotalMilliseconds:F1} ms");
    Check("nothing left: no container namespace, no veth, no bridge, no rules", () =>
    {
        if (NetNamespace.Exists(N("c1")) || NetNamespace.Exists(N("c2"))) throw new InvalidOperationException("a container namespace is still there");
        var left = host.Rtnl.GetLinks().Where(l => l.Kind is "veth" or "bridge" && l.Name is not ("uplink0" or "lan0")).Select(l => l.Name).ToList();
        if (left.Count > 0) throw new InvalidOperationException("links left: " + string.Join(", ", left));
        if (new ContainerNetworking.Netfilter.ContainerFirewall(host).GetPublishedPorts().Count > 0) throw new InvalidOperationException("published ports left");
        return "clean";
    });
}
catch (Exception e)
{
    failures++;
    Console.Error.WriteLine($"demo failed: {e}");
}
finally
{
    Cleanup();
}

Console.WriteLine(failures == 0 ? $"demo: all checks passed in {clock.Elapsed.TotalSeconds:F2} s" : $"demo: {failures} check(s) failed");
return failures == 0 ? 0 : 1;

// ---- traffic, made in C# with sockets opened inside each namespace ------------------------------------------

static string Ping(NetNamespace ns, IPAddress target)
{
    var reply = ns.Run(() =>
    {
        using var p = new Ping();
        return p.Send(target, 2000);
    });
    return reply.Status == IPStatus.Success ? $"reply in {reply.RoundtripTime} ms" : throw new InvalidOperationException(reply.Status.ToString());
}

static string Connect(NetNamespace ns, IPAddress address, int port)
{
    using var socket = ns.Run(() => new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
    socket.ReceiveTimeout = 3000;
    var connect = socket.ConnectAsync(address, port);
    if (!connect.Wait(TimeSpan.FromSeconds(3))) throw new TimeoutException($"no answer from {address}:{port}");
    var buffer = new byte[256];
    var n = socket.Receive(buffer);
    return Encoding.UTF8.GetString(buffer, 0, n).Trim();
}

static string Expect(string got, string wanted) => got == wanted ? $"\"{got}\"" : throw new InvalidOperationException($"got \"{got}\", expected \"{wanted}\"");

static Listener Listen(NetNamespace ns, IPAddress address, int port, string? reply)
{
    var socket = ns.Run(() =>
    {
        var s = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        s.Bind(new IPEndPoint(address, port));
        s.Listen(16);
        return s;
    });
    return new Listener(socket, reply);
}

/// <summary>Answers every connection with a fixed text, or with the address the connection came from.</summary>
sealed class Listener : IDisposable
{
    private readonly Socket _socket;
    private readonly Task _loop;

    public Listener(Socket socket, string? reply)
    {
        _socket = socket;
        _loop = Task.Run(async () =>
        {
            while (true)
            {
                Socket c;
                try { c = await _socket.AcceptAsync(); }
                catch (Exception) { return; }
                using (c)
                {
                    var text = reply ?? c.RemoteEndPoint?.ToString() ?? "?";
                    try { c.Send(Encoding.UTF8.GetBytes(text + "\n")); c.Shutdown(SocketShutdown.Both); } catch (SocketException) { }
                }
            }
        });
    }

    public void Dispose()
    {
        _socket.Dispose();
        _loop.Wait(1000);
    }
}
