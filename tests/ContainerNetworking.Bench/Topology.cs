using System.Net;
using System.Net.Sockets;
using System.Text;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Bench;

/// <summary>
/// The world of one measurement, all in namespaces this run created: "host" (where the bridge, NAT and published
/// ports live), "outside" (a machine beyond the host's uplink, reached only through masquerade) and "client" (a
/// machine that connects to the host's published ports). Containers are "cnb-PID-ctrI". The harness builds this
/// scaffolding with iproute2 (untimed), so it does not depend on the code under test.
/// </summary>
public sealed class Topology : IDisposable
{
    public const string Bridge = "cnbr0";
    public const string Subnet = "10.123.0.0/16";
    public const int PrefixLength = 16;
    public const string Gateway = "10.123.0.1";
    public const string HostUplinkAddress = "198.18.0.1";   // the host's address as the outside sees it
    public const string OutsideAddress = "198.18.0.2";
    public const string HostClientAddress = "198.18.1.1";   // where the client connects to published ports
    public const string ClientAddress = "198.18.1.2";
    public const int ContainerPort = 80;
    public const int OutsidePort = 7000;

    public string Host { get; } = Cleanup.Name("host");
    public string Outside { get; } = Cleanup.Name("outside");
    public string Client { get; } = Cleanup.Name("client");
    public string HostPath => NetNamespace.RunDirectory + "/" + Host;

    private NetNamespace? _hostNs;

    public static string ContainerNs(int i) => Cleanup.Name("ctr" + i);
    public static string ContainerPath(int i) => NetNamespace.RunDirectory + "/" + ContainerNs(i);
    public static string ContainerIp(int i) => $"10.123.{(i + 2) / 256}.{(i + 2) % 256}";
    public static int HostPort(int i) => 20000 + i;
    public static string HostVeth(int i) => "vh" + i;

    /// <summary>The host namespace, opened through the library (for "ours").</summary>
    public NetNamespace HostNs => _hostNs ??= NetNamespace.Open(Host);

    public Topology()
    {
        // Leftovers of an aborted measurement of this run go first.
        Cleanup.SweepRole("ctr");
        foreach (var n in new[] { Host, Outside, Client })
            if (NetNamespace.Exists(n)) NetNamespace.Delete(n);
        foreach (var n in new[] { Host, Outside, Client }) NetNamespace.Create(n).Dispose();
        IpBatch(Host, $"""
            link set lo up
            link add up0 type veth peer name eth0 netns {Outside}
            link add cl0 type veth peer name eth0 netns {Client}
            addr add {HostUplinkAddress}/24 dev up0
            addr add {HostClientAddress}/24 dev cl0
            link set up0 up
            link set cl0 up
            """);
        IpBatch(Outside, $"""
            link set lo up
            addr add {OutsideAddress}/24 dev eth0
            link set eth0 up
            """);
        IpBatch(Client, $"""
            link set lo up
            addr add {ClientAddress}/24 dev eth0
            link set eth0 up
            route add default via {HostClientAddress}
            """);
    }

    public static void IpBatch(string ns, string commands) => Sh.Run("ip", ["-n", ns, "-batch", "-"], commands + "\n");

    /// <summary>The container veths still attached to the host's bridge (a post-setup and post-teardown check).</summary>
    public int BridgePorts()
    {
        var r = Sh.Run("ip", ["-n", Host, "-o", "link", "show", "master", Bridge], check: false);
        return r.ExitCode != 0 ? 0 : r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    /// <summary>
    /// Waits until the bridge has no ports left (namespace deletion removes the veths in the kernel asynchronously), at
    /// most <paramref name="limit"/> counted on <paramref name="clock"/> (from now when none is given).
    /// </summary>
    public void WaitForEmptyBridge(TimeSpan limit, System.Diagnostics.Stopwatch? clock = null)
    {
        clock ??= System.Diagnostics.Stopwatch.StartNew();
        while (BridgePorts() != 0 && clock.Elapsed < limit) Thread.Sleep(10);
    }

    public static int ContainerNamespaces() =>
        NetNamespace.ListNames().Count(n => n.StartsWith(Cleanup.Own + "ctr", StringComparison.Ordinal));

    public void Dispose()
    {
        _hostNs?.Dispose();
        _hostNs = null;
        Cleanup.SweepRole("ctr");
        foreach (var n in new[] { Host, Outside, Client })
            if (NetNamespace.Exists(n)) NetNamespace.Delete(n);
    }
}

/// <summary>TCP helpers that keep every socket inside a bench namespace: a socket is created on a thread that is
/// in the namespace (NetNamespace.Run) and stays there; connect/accept then happen from any thread.</summary>
public static class Net
{
    public static Socket SocketIn(string ns)
    {
        using var n = NetNamespace.Open(ns);
        return n.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
    }

    public static List<Socket> SocketsIn(string ns, int count)
    {
        using var n = NetNamespace.Open(ns);
        return n.Run(() =>
        {
            var l = new List<Socket>(count);
            for (var i = 0; i < count; i++) l.Add(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
            return l;
        });
    }

    /// <summary>A listener in <paramref name="ns"/> that answers each connection with <paramref name="reply"/>(remote
    /// address) and closes it. Dispose stops it.</summary>
    public sealed class Listener : IDisposable
    {
        private readonly Socket _s;
        private readonly Thread _t;

        public Listener(string ns, string address, int port, Func<IPEndPoint, string> reply)
        {
            _s = SocketIn(ns);
            _s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _s.Bind(new IPEndPoint(IPAddress.Parse(address), port));
            _s.Listen(4096);
            _t = new Thread(() =>
            {
                while (true)
                {
                    Socket c;
                    try { c = _s.Accept(); } catch (Exception) { return; }
                    try
                    {
                        c.Send(Encoding.ASCII.GetBytes(reply((IPEndPoint)c.RemoteEndPoint!)));
                        c.Shutdown(SocketShutdown.Both);
                    }
                    catch (Exception) { }
                    c.Dispose();
                }
            }) { IsBackground = true, Name = "bench listener" };
            _t.Start();
        }

        public void Dispose()
        {
            try { _s.Shutdown(SocketShutdown.Both); } catch (Exception) { }
            _s.Dispose();
            _t.Join(2000);
        }
    }

    /// <summary>Connects from <paramref name="ns"/> and returns what the far side says (or throws).</summary>
    public static string Ask(string ns, string address, int port, int timeoutMs = 3000)
    {
        using var s = SocketIn(ns);
        s.ReceiveTimeout = timeoutMs;
        var ar = s.BeginConnect(new IPEndPoint(IPAddress.Parse(address), port), null, null);
        if (!ar.AsyncWaitHandle.WaitOne(timeoutMs)) throw new TimeoutException($"connect {address}:{port} from {ns} timed out");
        s.EndConnect(ar);
        var buf = new byte[256];
        var sb = new StringBuilder();
        int k;
        while ((k = s.Receive(buf)) > 0) sb.Append(Encoding.ASCII.GetString(buf, 0, k));
        return sb.ToString();
    }

    public static bool Ping(string fromNs, string address) =>
        Sh.Run("ip", ["netns", "exec", fromNs, "ping", "-c", "1", "-W", "2", "-q", address], check: false).ExitCode == 0;
}
