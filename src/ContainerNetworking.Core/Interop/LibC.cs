// The libc surface the module needs, in Tmds.LibC's style: kernel names are kept as they are,
// every constant lives in this file, and every function lives in a file of its own (LibC.<name>.cs).
// Nothing above the Netlink and Namespaces layers calls into this class.
using System.Runtime.InteropServices;

namespace ContainerNetworking.Interop;

internal static unsafe partial class LibC
{
    internal const string Library = "libc";

    // <sys/socket.h>
    internal const int AF_UNSPEC = 0;
    internal const int AF_INET = 2;
    internal const int AF_BRIDGE = 7;
    internal const int AF_INET6 = 10;
    internal const int AF_NETLINK = 16;
    internal const int SOCK_RAW = 3;
    internal const int SOCK_CLOEXEC = 0x80000;
    internal const int SOL_SOCKET = 1;
    internal const int SO_SNDBUF = 7;
    internal const int SO_RCVBUF = 8;
    internal const int SO_RCVTIMEO = 20;
    internal const int SO_SNDBUFFORCE = 32;
    internal const int SO_RCVBUFFORCE = 33;
    internal const int MSG_PEEK = 0x2;
    internal const int MSG_TRUNC = 0x20;
    internal const int MSG_DONTWAIT = 0x40;

    // <linux/netlink.h> socket options
    internal const int SOL_NETLINK = 270;
    internal const int NETLINK_ADD_MEMBERSHIP = 1;
    internal const int NETLINK_CAP_ACK = 10;
    internal const int NETLINK_EXT_ACK = 11;
    internal const int NETLINK_GET_STRICT_CHK = 12;

    // netlink protocols
    internal const int NETLINK_ROUTE = 0;
    internal const int NETLINK_NETFILTER = 12;

    // <sched.h>
    internal const int CLONE_NEWNS = 0x00020000;
    internal const int CLONE_NEWNET = 0x40000000;

    // <sys/mount.h>
    internal const ulong MS_RDONLY = 1;
    internal const ulong MS_BIND = 4096;
    internal const ulong MS_REC = 16384;
    internal const ulong MS_PRIVATE = 1 << 18;
    internal const ulong MS_SLAVE = 1 << 19;
    internal const ulong MS_SHARED = 1 << 20;
    internal const int MNT_DETACH = 2;

    // <fcntl.h>
    internal const int O_RDONLY = 0;
    internal const int O_WRONLY = 1;
    internal const int O_RDWR = 2;
    internal const int O_CREAT = 0x40;
    internal const int O_EXCL = 0x80;
    internal const int O_CLOEXEC = 0x80000;

    // <sys/file.h> for flock
    internal const int LOCK_SH = 1;
    internal const int LOCK_EX = 2;
    internal const int LOCK_NB = 4;
    internal const int LOCK_UN = 8;

    // <sys/stat.h>, <fcntl.h> for statx
    internal const int AT_EMPTY_PATH = 0x1000;
    internal const uint STATX_INO = 0x100;

    // <linux/nsfs.h>: NS_GET_NSTYPE = _IO(0xb7, 0x3)
    internal const ulong NS_GET_NSTYPE = 0xb703;

    // <errno.h> (the ones the code tests for by name)
    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int ESRCH = 3;
    internal const int EINTR = 4;
    internal const int EAGAIN = 11;
    internal const int EBUSY = 16;
    internal const int EEXIST = 17;
    internal const int ENODEV = 19;
    internal const int EINVAL = 22;
    internal const int ENOBUFS = 105;
    internal const int EOPNOTSUPP = 95;

    [StructLayout(LayoutKind.Sequential)]
    internal struct sockaddr_nl
    {
        public ushort nl_family;
        public ushort nl_pad;
        public uint nl_pid;
        public uint nl_groups;
    }

    /// <summary>struct statx: the same layout on every architecture (256 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    internal struct statx_t
    {
        public uint stx_mask;
        public uint stx_blksize;
        public ulong stx_attributes;
        public uint stx_nlink;
        public uint stx_uid;
        public uint stx_gid;
        public ushort stx_mode;
        public ushort __spare0;
        public ulong stx_ino;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct timeval
    {
        public long tv_sec;
        public long tv_usec;
    }
}
