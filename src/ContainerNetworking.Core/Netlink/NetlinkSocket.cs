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

    /// <summary>
    /// The buffer every receive peeks into (per thread, not per socket: a process with hundreds of namespaces holds no
    /// receive buffer per connection). Its length is what the kernel sizes dump datagrams by (it remembers the largest
    /// buffer a socket has read with, up to 32 KiB), so dumps still arrive in few datagrams.
    /// </summary>
    [ThreadStatic] private static byte[]? _peek;
    private const int PeekSize = 32 * 1024;

    /// <summary>
    /// Receives one datagram, whatever its size, into an array of exactly its length; with <paramref name="dontWait"/>
    /// null when none is queued. The datagram is peeked at first (MSG_PEEK | MSG_TRUNC gives its real length, as iproute2
    /// and mdlayher/netlink do), so one larger than any buffer is never cut. Throws <see cref="LinuxException"/> with
    /// ENOBUFS when the kernel had to drop messages for this socket (its receive queue was full) since the last receive.
    /// </summary>
    public byte[]? ReceiveDatagram(bool dontWait = false)
    {
        bool added = false;
        DangerousAddRef(ref added);
        try
        {
            var peek = _peek ??= new byte[PeekSize];
            var flags = dontWait ? LibC.MSG_DONTWAIT : 0;
            nint n;
            fixed (byte* p = peek)
            {
                while ((n = LibC.recv(Fd, p, peek.Length, LibC.MSG_PEEK | LibC.MSG_TRUNC | flags)) < 0)
                {
                    var e = Errno.Last;
                    if (e == LibC.EINTR) continue;
                    if (dontWait && e == LibC.EAGAIN) return null;
                    throw new LinuxException(e, "recv(netlink)");
                }
            }
            var datagram = new byte[n];
            fixed (byte* p = datagram)
            {
                while (true)
                {
                    // The datagram peeked at is first in the queue: this reads it (no other thread reads this socket).
                    var m = LibC.recv(Fd, p, datagram.Length, LibC.MSG_TRUNC | LibC.MSG_DONTWAIT);
                    if (m >= 0)
                    {
                        if (m != n) throw new NetlinkDecodeException($"netlink datagram of {m} bytes, {n} peeked at");
                        return datagram;
                    }
                    var e = Errno.Last;
                    if (e == LibC.EINTR) continue;
                    throw new LinuxException(e, "recv(netlink)");
                }
            }
        }
        finally { if (added) DangerousRelease(); }
    }

    /// <summary>The kernel's receive-queue limit of this socket in bytes (SO_RCVBUF: twice what was asked for).</summary>
    public int ReceiveBufferLimit
    {
        get
        {
            int value = 0, len = sizeof(int);
            Errno.ThrowIfError(LibC.getsockopt(Fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, &value, &len), "getsockopt(SO_RCVBUF)");
            return value;
        }
    }

    /// <summary>
    /// Makes the receive queue hold at least <paramref name="bytes"/> (kernel accounting: each queued message costs its
    /// buffer's true size, some 700 bytes for an ACK): SO_RCVBUFFORCE (CAP_NET_ADMIN), else SO_RCVBUF up to
    /// net.core.rmem_max, as nft does before a large batch. Only grows; best effort.
    /// </summary>
    public void EnsureReceiveBuffer(int bytes)
    {
        if (ReceiveBufferLimit >= bytes) return;
        // the kernel doubles the value (for its bookkeeping overhead); ask for half
        var ask = Math.Max(bytes / 2, 1);
        if (LibC.setsockopt(Fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, &ask, sizeof(int)) < 0)
            LibC.setsockopt(Fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, &ask, sizeof(int));
    }

    /// <summary>Sets the receive-queue limit exactly (SO_RCVBUFFORCE), for tests that need a small one.</summary>
    internal void SetReceiveBuffer(int bytes)
    {
        var ask = bytes / 2;
        Errno.ThrowIfError(LibC.setsockopt(Fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, &ask, sizeof(int)), "setsockopt(SO_RCVBUFFORCE)");
    }

    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
