using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ContainerNetworking.SockDiag;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.SockDiag;

/// <summary>sock_diag against ss(8): the sockets that hold a port in a throwaway namespace, and the process behind one.</summary>
public sealed class SocketDiagTests : IDisposable
{
    private readonly TestNamespaces _nss = new();
    private readonly Processes _processes = new();

    public void Dispose()
    {
        _processes.Dispose();
        _nss.Dispose();
    }

    private Process Ncat(string ns, params string[] args) => _processes.StartInNs(ns, "ncat", args);

    [Fact]
    public void ListBound_IsWhatSsShows_AndHoldersNamesTheProcess()
    {
        using var ns = _nss.Create("diag");
        ns.Rtnl.SetLinkUp("lo");
        var tcp = Ncat(ns.Name!, "-l", "-k", "127.0.0.1", "7001");
        Ncat(ns.Name!, "-l", "-k", "-6", "::", "7002");
        Ncat(ns.Name!, "-l", "-u", "7003");
        Processes.WaitForSockets(ns.Name!, "-Hltn", 2);
        Processes.WaitForSockets(ns.Name!, "-Hlun");

        var diag = ns.SockDiag;
        var tcp4 = diag.ListBound(6, AddressFamily.InterNetwork);
        var tcp6 = diag.ListBound(6, AddressFamily.InterNetworkV6);
        var udp = diag.ListBound(17, AddressFamily.InterNetwork).Concat(diag.ListBound(17, AddressFamily.InterNetworkV6)).ToList();
        var s = Assert.Single(tcp4);
        Assert.Equal((IPAddress.Loopback, (ushort)7001), (s.Address, s.Port));
        Assert.False(s.OnEveryAddress);
        Assert.Equal((IPAddress.IPv6Any, (ushort)7002), (Assert.Single(tcp6).Address, tcp6[0].Port));
        Assert.True(tcp6[0].OnEveryAddress);
        Assert.All(udp, u => Assert.Equal((ushort)7003, u.Port));
        Assert.Equal(Cli.InNs(ns.Name!, "ss", "-Hlun").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, udp.Count);
        // filtered by port in the kernel
        Assert.Empty(diag.ListBound(6, AddressFamily.InterNetwork, 7002));
        Assert.Single(diag.ListBound(6, AddressFamily.InterNetwork, 7001));
        // the inode leads to ncat
        Assert.Contains((tcp.Id, "ncat"), SocketDiagClient.Holders(s.Inode));
    }

    [Fact]
    public void ListBound_OfBothFamilies_FindsTheSocketsOnThePort_OfEitherFamily_AndNoneOnAnotherPort()
    {
        using var ns = _nss.Create("diag2");
        ns.Rtnl.SetLinkUp("lo");
        // TCP (one dump of both families) and UDP (one request per family, in one datagram): one socket of each family
        // on 7101, one on 7102
        Ncat(ns.Name!, "-l", "-k", "127.0.0.1", "7101");
        Ncat(ns.Name!, "-l", "-k", "-6", "::1", "7101");
        Ncat(ns.Name!, "-l", "-k", "127.0.0.1", "7102");
        Ncat(ns.Name!, "-l", "-u", "127.0.0.1", "7101");
        Ncat(ns.Name!, "-l", "-u", "-6", "::1", "7101");
        Ncat(ns.Name!, "-l", "-u", "-6", "::1", "7102");
        Processes.WaitForSockets(ns.Name!, "-Hltn", 3);
        Processes.WaitForSockets(ns.Name!, "-Hlun", 3);

        var diag = ns.SockDiag;
        foreach (byte protocol in new byte[] { 6, 17 })
        {
            var on7101 = diag.ListBound(protocol, 7101);
            Assert.Equal([(IPAddress.Loopback, (ushort)7101), (IPAddress.IPv6Loopback, (ushort)7101)], on7101.Select(b => (b.Address, b.Port)));
            Assert.All(on7101, b => Assert.Equal(protocol, b.Protocol));
            // the same sockets as the requests of one family each
            Assert.Equal(diag.ListBound(protocol, AddressFamily.InterNetwork, 7101).Concat(diag.ListBound(protocol, AddressFamily.InterNetworkV6, 7101)), on7101);
            Assert.Empty(diag.ListBound(protocol, 7103));
            // without a port, every bound socket, as ss counts them
            var all = diag.ListBound(protocol);
            Assert.Equal(Cli.InNs(ns.Name!, "ss", protocol == 6 ? "-Hltn" : "-Hlun").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, all.Count);
            Assert.Equal([7101, 7101, 7102], all.Select(b => (int)b.Port).Order());
        }
        // the inodes of one family's socket are the ones ss shows for it
        var v6 = Assert.Single(diag.ListBound(6, 7101), b => b.Address.Equals(IPAddress.IPv6Loopback));
        Assert.Contains($"ino:{v6.Inode}", Cli.InNs(ns.Name!, "ss", "-Hltne", "sport = :7101").Stdout);
    }
}
