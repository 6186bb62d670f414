using System.Diagnostics;
using System.Net;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Netfilter;

/// <summary>
/// Seed scenario S000 in throwaway namespaces: "host" with bridge br0 192.168.0.1/24 (fd00:c0::1/64) and an uplink
/// eth0 198.18.0.1/24 (fd00:18::1/64) to "outside" (198.18.0.2, fd00:18::2), which has no route to the containers'
/// subnets; containers are namespaces with eth0 on a veth whose host end is a port of a bridge. Built with the
/// library's rtnetlink client. Listeners are ncat/socat processes inside the namespaces, killed on Dispose.
/// </summary>
public sealed class HostTopology : IDisposable
{
    public readonly TestNamespaces Nss = new();
    private readonly List<Process> _procs = [];
    private int _veth;

    public NetNamespace Host { get; }
    public NetNamespace Outside { get; }
    public string HostName => Host.Name!;
    public string OutsideName => Outside.Name!;
    public const string HostAddress = "198.18.0.1";
    public const string OutsideAddress = "198.18.0.2";
    public const string HostAddress6 = "fd00:18::1";
    public const string OutsideAddress6 = "fd00:18::2";

    public HostTopology(bool ipv6 = false)
    {
        try
        {
            Host = Nss.Create("host");
            Outside = Nss.Create("outside");
            Host.Rtnl.SetLinkUp("lo");
            Outside.Rtnl.SetLinkUp("lo");
            if (ipv6)
            {
                // no DAD delays in the test namespaces
                foreach (var ns in new[] { Host, Outside })
                {
                    ns.WriteSysctl("net.ipv6.conf.default.accept_dad", "0");
                    ns.WriteSysctl("net.ipv6.conf.all.accept_dad", "0");
                }
                Host.WriteSysctl("net.ipv6.conf.all.forwarding", "1");
            }
            Host.Rtnl.CreateVeth("eth0", "eth0", Outside.Handle, new VethOptions { Up = true, PeerUp = true });
            Host.Rtnl.AddAddress("eth0", IPAddress.Parse(HostAddress), 24);
            Outside.Rtnl.AddAddress("eth0", IPAddress.Parse(OutsideAddress), 24);
            if (ipv6)
            {
                Host.Rtnl.AddAddress("eth0", IPAddress.Parse(HostAddress6), 64);
                Outside.Rtnl.AddAddress("eth0", IPAddress.Parse(OutsideAddress6), 64);
            }
            Host.WriteSysctl("net.ipv4.ip_forward", "1");
            _ipv6 = ipv6;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private readonly bool _ipv6;

    /// <summary>A bridge on the host with its gateway address(es), up.</summary>
    public void AddBridge(string name, string cidr4, string? cidr6 = null)
    {
        Host.Rtnl.CreateBridge(name, new BridgeOptions { Up = true });
        var p = IPNetwork.Parse(cidr4);
        Host.Rtnl.AddAddress(name, IPAddress.Parse(cidr4.Split('/')[0]), p.PrefixLength);
        if (cidr6 is not null) Host.Rtnl.AddAddress(name, IPAddress.Parse(cidr6.Split('/')[0]), int.Parse(cidr6.Split('/')[1]));
    }

    /// <summary>A container: a namespace with eth0 (address, default route via the bridge's address) on a port of the bridge.</summary>
    public NetNamespace AddContainer(string bridge, string address4, string gateway4, string? address6 = null, string? gateway6 = null)
    {
        var c = Nss.Create("ctr");
        if (address6 is not null)
        {
            c.WriteSysctl("net.ipv6.conf.default.accept_dad", "0");
            c.WriteSysctl("net.ipv6.conf.all.accept_dad", "0");
        }
        var hostEnd = $"veth{++_veth}_p";
        Host.Rtnl.CreateVeth(hostEnd, "eth0", c.Handle, new VethOptions { Up = true, PeerUp = true, Master = bridge });
        c.Rtnl.SetLinkUp("lo");
        c.Rtnl.AddAddress("eth0", IPAddress.Parse(address4.Split('/')[0]), int.Parse(address4.Split('/')[1]));
        c.Rtnl.AddDefaultRoute(IPAddress.Parse(gateway4));
        if (address6 is not null)
        {
            c.Rtnl.AddAddress("eth0", IPAddress.Parse(address6.Split('/')[0]), int.Parse(address6.Split('/')[1]));
            c.Rtnl.AddDefaultRoute(IPAddress.Parse(gateway6!));
        }
        return c;
    }

    /// <summary>A TCP listener in <paramref name="ns"/> that answers every connection with the peer address it sees.</summary>
    public void ListenTcp(NetNamespace ns, int port, string bind = "0.0.0.0") =>
        Start(ns, "ncat", "-lk", bind, port.ToString(), "--sh-exec", "echo \"$NCAT_REMOTE_ADDR\"");

    public void ListenTcp6(NetNamespace ns, int port) =>
        Start(ns, "ncat", "-6", "-lk", "::", port.ToString(), "--sh-exec", "echo \"$NCAT_REMOTE_ADDR\"");

    /// <summary>A UDP responder that answers every datagram with the peer address it sees.</summary>
    public void ListenUdp(NetNamespace ns, int port) =>
        Start(ns, "socat", $"UDP4-RECVFROM:{port},fork,reuseaddr", "SYSTEM:echo $SOCAT_PEERADDR");

    private void Start(NetNamespace ns, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = ns.StartProcess(psi);
        lock (_procs) _procs.Add(p);
    }

    /// <summary>
    /// Connects from <paramref name="ns"/> to ADDR:PORT and returns what the listener said (the address it saw), or
    /// null when no connection could be made. Retries briefly while a just-started listener comes up.
    /// </summary>
    public static string? ConnectTcp(string ns, string address, int port, int attempts = 10)
    {
        for (var i = 0; i < attempts; i++)
        {
            var r = Cli.InNs(ns, "ncat", "-w", "2", "--recv-only", address, port.ToString());
            if (r.ExitCode == 0 && r.Stdout.Trim().Length > 0) return r.Stdout.Trim();
            Thread.Sleep(200);
        }
        return null;
    }

    /// <summary>Sends one UDP datagram from a fixed source port and returns the answer (the peer address the responder saw), or null.</summary>
    public static string? SendUdp(string ns, string address, int port, int sourcePort, int attempts = 5)
    {
        for (var i = 0; i < attempts; i++)
        {
            var r = Cli.InNs(ns, "sh", "-c", $"echo ping | socat -t 1 - UDP4:{address}:{port},sourceport={sourcePort},reuseaddr");
            if (r.ExitCode == 0 && r.Stdout.Trim().Length > 0) return r.Stdout.Trim();
            Thread.Sleep(200);
        }
        return null;
    }

    public void Dispose()
    {
        lock (_procs)
        {
            foreach (var p in _procs)
            {
                try { if (!p.HasExited) p.Kill(true); p.WaitForExit(2000); } catch (Exception) { }
                p.Dispose();
            }
            _procs.Clear();
        }
        Nss.Dispose();
    }
}
