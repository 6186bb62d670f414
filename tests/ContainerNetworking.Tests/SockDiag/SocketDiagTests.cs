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
}
