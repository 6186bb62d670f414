using ContainerNetworking.Netlink;
using Microsoft.Win32.SafeHandles;
using static ContainerNetworking.Route.RtnlConstants;

namespace ContainerNetworking.Route;

// Namespace ids: how this namespace knows another one (a veth's peer) (ip netns list-id).
public sealed partial class RouteClient
{
    /// <summary>
    /// The id by which this namespace knows <paramref name="otherNamespace"/> (RTM_GETNSID with NETNSA_FD), as
    /// <c>ip netns list-id</c> / <c>ip netns identify</c> show it; null when none has been assigned. Use it to match a
    /// veth's <see cref="LinkInfo.PeerNetNsId"/> to a namespace. Reads only; never allocates an id.
    /// </summary>
    public int? GetNetNsId(SafeFileHandle otherNamespace)
    {
        ArgumentNullException.ThrowIfNull(otherNamespace);
        var replies = WithFd(otherNamespace, fd => _conn.Request(RTM_GETNSID, 0, w => WriteGetNsId(w, fd!.Value), "get the id of a namespace"));
        foreach (var m in replies)
        {
            if (m.Type != RTM_NEWNSID) continue;
            var r = m.Attributes<rtgenmsg>();
            while (r.Next())
            {
                if (r.Type == NETNSA_NSID)
                {
                    var id = r.GetS32();
                    return id < 0 ? null : id;
                }
            }
        }
        return null;
    }

    internal static void WriteGetNsId(NetlinkWriter w, int fd)
    {
        w.Write(new rtgenmsg { rtgen_family = AF_UNSPEC });
        w.AttrU32(NETNSA_FD, (uint)fd);
    }
}
