using System.Runtime.InteropServices;
using ContainerNetworking.Interop;

namespace ContainerNetworking.Netlink;

/// <summary>
/// A netlink socket as a SafeHandle. It stays bound to the network namespace of the thread that opened it;
/// see <see cref="Namespaces.NetNamespace.OpenSocket"/> for opening one in another namespace.
/// </summary>
public sealed unsafe class NetlinkSocket : SafeHandle
{
    private NetlinkSocket() : base(-1, ownsHandle: true) { }

    public override bool IsInvalid => handle == -1;

    /// <summary>The netlink protocol (NETLINK_ROUTE = 0, NETLINK_NETFILTER = 12).</summary>
    public int Protocol { get; private set; }

    /// <summary>The port id the kernel assigned on bind.</summary>
    public uint PortId { get; private set; }

    /// <summary>
    /// Opens and binds a socket in the calling thread's network namespace, with extended ACK, capped ACKs and
    /// (for rtnetlink) strict checking switched on.
    /// </summary>
    public static NetlinkSocket Open(int protocol)
    {
        var fd = Errno.ThrowIfError(LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, protocol), "socket(AF_NETLINK)");
        var s = new NetlinkSocket { Protocol = protocol };
        s.SetHandle(fd);
        try
        {
            int one = 1;
            Errno.ThrowIfError(LibC.setsockopt(fd, LibC.SOL_NETLINK, LibC.NETLINK_EXT_ACK, &one, sizeof(int)), "setsockopt(NETLINK_EXT_ACK)");
            Errno.ThrowIfError(LibC.setsockopt(fd, LibC.SOL_NETLINK, LibC.NETLINK_CAP_ACK, &one, sizeof(int)), "setsockopt(NETLINK_CAP_ACK)");
            if (protocol == LibC.NETLINK_ROUTE)
                Errno.ThrowIfError(LibC.setsockopt(fd, LibC.SOL_NETLINK, LibC.NETLINK_GET_STRICT_CHK, &one, sizeof(int)), "setsockopt(NETLINK_GET_STRICT_CHK)");
            int buf = 1 << 20;
            // Best effort: large buffers keep big dumps and batches from hitting ENOBUFS.
            if (LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, &buf, sizeof(int)) < 0)
                LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, &buf, sizeof(int));
            if (LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_SNDBUFFORCE, &buf, sizeof(int)) < 0)
                LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_SNDBUF, &buf, sizeof(int));
            var addr = new LibC.sockaddr_nl { nl_family = LibC.AF_NETLINK };
            Errno.ThrowIfError(LibC.bind(fd, &addr, sizeof(LibC.sockaddr_nl)), "bind(AF_NETLINK)");
            int len = sizeof(LibC.sockaddr_nl);
            Errno.ThrowIfError(LibC.getsockname(fd, &addr, &len), "getsockname(AF_NETLINK)");
            s.PortId = addr.nl_pid;
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Sets a receive time-out, so that a kernel that never answers cannot hang the caller forever.</summary>
    public void SetReceiveTimeout(TimeSpan timeout)
    {
        var tv = new LibC.timeval { tv_sec = (long)timeout.TotalSeconds, tv_usec = timeout.Milliseconds * 1000L };
        Errno.ThrowIfError(LibC.setsockopt(Fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, &tv, sizeof(LibC.timeval)), "setsockopt(SO_RCVTIMEO)");
    }

    private int Fd => (int)handle;

    /// <summary>Sends one datagram (one or more netlink messages).</summary>
    public void Send(ReadOnlySpan<byte> data)
    {
        bool added = false;
        DangerousAddRef(ref added);
        try
        {
            fixed (byte* p = data)
            {
                while (true)
                {
                    var n = LibC.send(Fd, p, data.Length, 0);
                    if (n >= 0) return;
                    var e = Errno.Last;
                    if (e == LibC.EINTR) continue;
                    throw new LinuxException(e, "send(netlink)");
                }
            }
        }
        finally { if (added) DangerousRelease(); }
    }

    /// <summary>Receives one datagram into <paramref name="buffer"/>; throws if it did not fit.</summary>
    public int Receive(Span<byte> buffer)
    {
        bool added = false;
        DangerousAddRef(ref added);
        try
        {
            fixed (byte* p = buffer)
            {
                while (true)
                {
                    var n = LibC.recv(Fd, p, buffer.Length, LibC.MSG_TRUNC);
                    if (n < 0)
                    {
                        var e = Errno.Last;
                        if (e == LibC.EINTR) continue;
                        throw new LinuxException(e, "recv(netlink)");
                    }
                    if (n > buffer.Length)
                        throw new NetlinkDecodeException($"netlink datagram of {n} bytes did not fit the {buffer.Length}-byte receive buffer");
                    return (int)n;
                }
            }
        }
        finally { if (added) DangerousRelease(); }
    }

    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
