using System.Net;
using ContainerNetworking.Netlink;
using ContainerNetworking.Route;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Route.RtnlConstants;

namespace ContainerNetworking.Tests.Netlink;

/// <summary>
/// Several requests in one datagram (<see cref="NetlinkConnection.QueryMany"/>) against the kernel, over rtnetlink in a
/// throwaway namespace: each answer is what the request alone gets, a dump the kernel refused because another was still
/// running is sent again, and a refused get is that request's error only.
/// </summary>
public sealed class QueryManyTests : IDisposable
{
    private readonly TestNamespaces _nss = new();
    public void Dispose() => _nss.Dispose();

    [Fact]
    public void GetsAndDumpsInOneDatagram_AnswerAsEachAlone_ADumpRefusedWhileAnotherRuns_IsSentAgain()
    {
        using var ns = _nss.Create("query");
        ns.Rtnl.SetLinkUp("lo");
        ns.Rtnl.CreateBridge("br9");
        ns.Rtnl.AddAddress("br9", IPAddress.Parse("10.99.0.1"), 24);
        var conn = ns.RouteConnection;
        static NetlinkQuery Links() => new(RTM_GETLINK, Dump: true, w => w.Write(new ifinfomsg()), "list links");
        static NetlinkQuery Addresses() => new(RTM_GETADDR, Dump: true, w => w.Write(new ifaddrmsg()), "list addresses");
        static NetlinkQuery Get(string name) => new(RTM_GETLINK, Dump: false, w =>
        {
            w.Write(new ifinfomsg());
            w.AttrString(IFLA_IFNAME, name);
        }, "get link " + name);
        var links = conn.Dump(RTM_GETLINK, w => w.Write(new ifinfomsg()), "list links");
        var addresses = conn.Dump(RTM_GETADDR, w => w.Write(new ifaddrmsg()), "list addresses");
        Assert.Equal(2, links.Count); // lo, br9
        Assert.True(addresses.Count >= 3, $"{addresses.Count} addresses"); // 127.0.0.1, ::1, 10.99.0.1

        var before = conn.MessagesReceived;
        var answers = conn.QueryMany([Get("br9"), Links(), Addresses(), Get("nosuch0"), Links()]);
        var received = conn.MessagesReceived - before;

        Assert.Equal(5, answers.Length);
        var br = Assert.Single(answers[0].Replies);
        Assert.Null(answers[0].Error);
        Assert.Equal(RTM_NEWLINK, br.Type);
        Assert.Equal(ns.Rtnl.GetLink("br9")!.Index, br.ReadHeader<ifinfomsg>().ifi_index);
        foreach (var i in new[] { 1, 4 })
        {
            Assert.Null(answers[i].Error);
            Assert.Equal(links.Select(m => m.ReadHeader<ifinfomsg>().ifi_index), answers[i].Replies.Select(m => m.ReadHeader<ifinfomsg>().ifi_index));
        }
        Assert.Null(answers[2].Error);
        Assert.Equal(addresses.Count, answers[2].Replies.Count);
        Assert.All(answers[2].Replies, m => Assert.Equal(RTM_NEWADDR, m.Type));
        var refused = answers[3].Error;
        Assert.NotNull(refused);
        Assert.Equal(Interop.LibC.ENODEV, refused.ErrorNumber);
        Assert.Contains("get link nosuch0", refused.Message);
        Assert.Empty(answers[3].Replies);
        // A socket runs one dump at a time, and a dump with answers has more to send (its DONE) after the sendmsg: the
        // kernel refused the second and third dumps (EBUSY, one message each), then the third again when they were sent
        // again together, and answered each when its turn came.
        var unrefused = 2 + (links.Count + 1) * 2 + addresses.Count + 1 + 1; // get: reply and ACK; dumps: replies and DONE; error
        Assert.Equal(unrefused + 3, received);
    }
}
