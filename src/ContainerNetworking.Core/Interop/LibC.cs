// The libc surface the module needs, as one small facade over Tmds.LibC (Tmds.Linux.LibC): the calls and the
// constants it has come from it, with its per-architecture values and layouts (its assembly is built per
// architecture); the facade keeps the signatures the layers above were written against (strings for paths, plain
// integers), so no Tmds type shows outside Interop. Kernel names are kept as they are. What Tmds.LibC lacks is
// written here by hand, each with the reason. Errno values become exceptions in one place: Errno.cs.
// Nothing above the Netlink and Namespaces layers calls into this class.
using System.Runtime.InteropServices;
using T = Tmds.Linux.LibC;

namespace ContainerNetworking.Interop;

internal static unsafe partial class LibC
{
    // <sys/socket.h>
    internal static ushort AF_NETLINK => (ushort)(int)T.AF_NETLINK; // ushort: it also fills sockaddr_nl.nl_family
    internal static int SOCK_RAW => T.SOCK_RAW;
    internal static int SOCK_CLOEXEC => T.SOCK_CLOEXEC;
    internal static int SOL_SOCKET => T.SOL_SOCKET;
    internal static int SO_SNDBUF => T.SO_SNDBUF;
    internal static int SO_RCVBUF => T.SO_RCVBUF;
    internal static int SO_RCVTIMEO => T.SO_RCVTIMEO;
    internal static int SO_SNDBUFFORCE => T.SO_SNDBUFFORCE;
    internal static int SO_RCVBUFFORCE => T.SO_RCVBUFFORCE;
    internal static int MSG_TRUNC => T.MSG_TRUNC;
    internal static int MSG_PEEK => T.MSG_PEEK;
    internal static int MSG_DONTWAIT => T.MSG_DONTWAIT;
    internal static int SOL_NETLINK => T.SOL_NETLINK;

    // <linux/netlink.h>: by hand, Tmds.LibC 0.5 has no netlink header (socket options and protocols).
    internal const int NETLINK_CAP_ACK = 10;
    internal const int NETLINK_EXT_ACK = 11;
    internal const int NETLINK_GET_STRICT_CHK = 12;
    internal const int NETLINK_ROUTE = 0;
    internal const int NETLINK_NETFILTER = 12;

    // <sched.h>
    internal static int CLONE_NEWNET => T.CLONE_NEWNET;
    internal static int CLONE_NEWNS => T.CLONE_NEWNS;

    // <sys/mount.h>
    internal static ulong MS_BIND => T.MS_BIND;
    internal static ulong MS_REC => T.MS_REC;
    internal static ulong MS_SHARED => T.MS_SHARED;
    internal static ulong MS_SLAVE => T.MS_SLAVE;
    internal static int MNT_DETACH => T.MNT_DETACH;

    // <fcntl.h>
    internal static int O_RDONLY => T.O_RDONLY;
    internal static int O_RDWR => T.O_RDWR;
    internal static int O_WRONLY => T.O_WRONLY;
    internal static int O_TRUNC => T.O_TRUNC;
    internal static int O_DIRECTORY => T.O_DIRECTORY;
    internal static int O_CREAT => T.O_CREAT;
    internal static int O_EXCL => T.O_EXCL;
    internal static int O_CLOEXEC => T.O_CLOEXEC;
    internal static int AT_EMPTY_PATH => T.AT_EMPTY_PATH;
    internal static int AT_FDCWD => T.AT_FDCWD;

    // <sys/stat.h>
    internal static uint STATX_INO => T.STATX_INO;
    internal static uint STATX_SIZE => T.STATX_SIZE;
    internal static uint STATX_TYPE => T.STATX_TYPE;
    internal static uint STATX_NLINK => T.STATX_NLINK;
    internal static int AT_SYMLINK_NOFOLLOW => T.AT_SYMLINK_NOFOLLOW;
    internal const int S_IFMT = 0xF000;
    internal const int S_IFREG = 0x8000;
    internal const int S_IFLNK = 0xA000;
    internal static uint STATX_MTIME => T.STATX_MTIME;
    internal static uint STATX_CTIME => T.STATX_CTIME;

    // <sys/file.h>: by hand, Tmds.LibC 0.5 has no flock (see LibC.flock.cs).
    internal const int LOCK_EX = 2;
    internal const int LOCK_NB = 4;

    // <linux/nsfs.h>: by hand, Tmds.LibC 0.5 has no nsfs ioctls. NS_GET_NSTYPE = _IO(0xb7, 0x3).
    internal const int NS_GET_NSTYPE = 0xb703;

    // <errno.h>, the ones the code tests for by name: const by hand, not Tmds.LibC's properties, because callers
    // match on them in patterns and switch arms (the numbers are the same on x64, arm64 and arm).
    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int ESRCH = 3;
    internal const int EINTR = 4;
    internal const int EAGAIN = 11; // = EWOULDBLOCK
    internal const int EBUSY = 16;
    internal const int EEXIST = 17;
    internal const int EXDEV = 18;
    internal const int ENODEV = 19;
    internal const int EINVAL = 22;
    internal const int EMLINK = 31;
    internal const int EOPNOTSUPP = 95;
    internal const int ENOBUFS = 105;

    /// <summary>struct sockaddr_nl, by hand: Tmds.LibC 0.5 has no netlink address.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct sockaddr_nl
    {
        public ushort nl_family;
        public ushort nl_pad;
        public uint nl_pid;
        public uint nl_groups;
    }

    /// <summary>struct timeval, by hand over Tmds.LibC's time_t and long (their width is the architecture's): it has no timeval.</summary>
    internal struct timeval
    {
        private Tmds.Linux.time_t _sec;
        private Tmds.Linux.long_t _usec;
        public long tv_sec { readonly get => _sec; set => _sec = value; }
        public long tv_usec { readonly get => _usec; set => _usec = (Tmds.Linux.long_t)value; }
    }

    /// <summary>Tmds.LibC's struct statx, with the fields the callers read.</summary>
    internal struct statx_t
    {
        internal Tmds.Linux.statx Value;
        public readonly ulong stx_ino => Value.stx_ino;
        public readonly ulong stx_size => Value.stx_size;
        public readonly ushort stx_mode => Value.stx_mode;
        public readonly uint stx_nlink => Value.stx_nlink;
        public readonly uint stx_dev_major => Value.stx_dev_major;
        public readonly uint stx_dev_minor => Value.stx_dev_minor;
        public readonly long stx_mtime_sec => Value.stx_mtime.tv_sec;
        public readonly uint stx_mtime_nsec => Value.stx_mtime.tv_nsec;
        public readonly long stx_ctime_sec => Value.stx_ctime.tv_sec;
        public readonly uint stx_ctime_nsec => Value.stx_ctime.tv_nsec;
    }
}
