// The calls, forwarded to Tmds.LibC. Its DllImports capture errno (SetLastError), so Errno.Last reads it as before.
using System.Text;
using Tmds.Linux;
using T = Tmds.Linux.LibC;

namespace ContainerNetworking.Interop;

internal static unsafe partial class LibC
{
    internal static int socket(int domain, int type, int protocol) => T.socket(domain, type, protocol);

    internal static int bind(int sockfd, sockaddr_nl* addr, int addrlen) => T.bind(sockfd, (sockaddr*)addr, addrlen);

    internal static int getsockname(int sockfd, sockaddr_nl* addr, int* addrlen)
    {
        socklen_t len = *addrlen;
        var r = T.getsockname(sockfd, (sockaddr*)addr, &len);
        *addrlen = (int)len;
        return r;
    }

    internal static int setsockopt(int sockfd, int level, int optname, void* optval, int optlen) =>
        T.setsockopt(sockfd, level, optname, optval, optlen);

    internal static int getsockopt(int sockfd, int level, int optname, void* optval, int* optlen)
    {
        socklen_t len = *optlen;
        var r = T.getsockopt(sockfd, level, optname, optval, &len);
        *optlen = (int)len;
        return r;
    }

    internal static nint send(int sockfd, byte* buf, nint len, int flags) => (nint)(long)T.send(sockfd, buf, (size_t)(ulong)len, flags);

    internal static nint recv(int sockfd, byte* buf, nint len, int flags) => (nint)(long)T.recv(sockfd, buf, (size_t)(ulong)len, flags);

    internal static int setns(int fd, int nstype) => T.setns(fd, nstype);

    internal static int unshare(int flags) => T.unshare(flags);

    internal static int mount(string? source, string target, string? filesystemtype, ulong mountflags, nint data)
    {
        fixed (byte* s = Utf8z(source), t = Utf8z(target), f = Utf8z(filesystemtype))
            return T.mount(s, t, f, (ulong_t)mountflags, (void*)data);
    }

    internal static int umount2(string target, int flags)
    {
        fixed (byte* t = Utf8z(target)) return T.umount2(t, flags);
    }

    internal static int open(string pathname, int flags, int mode)
    {
        fixed (byte* p = Utf8z(pathname)) return T.open(p, flags, (ushort)mode);
    }

    internal static int close(int fd) => T.close(fd);

    internal static int unlink(string pathname)
    {
        fixed (byte* p = Utf8z(pathname)) return T.unlink(p);
    }

    internal static int ioctl(int fd, int request) => T.ioctl(fd, request);

    internal static int statx(int dirfd, string pathname, int flags, uint mask, statx_t* statxbuf)
    {
        fixed (byte* p = Utf8z(pathname)) return T.statx(dirfd, p, flags, mask, &statxbuf->Value);
    }

    /// <summary>statx on a NUL-terminated path the caller built (no string conversion: for scans over many paths).</summary>
    internal static int statx(int dirfd, byte* pathname, int flags, uint mask, statx_t* statxbuf) =>
        T.statx(dirfd, pathname, flags, mask, &statxbuf->Value);

    internal static int fsync(int fd) => T.fsync(fd);

    /// <summary>SYNC_FILE_RANGE_WRITE: start writeback of the range without waiting for it.</summary>
    internal const uint SYNC_FILE_RANGE_WRITE = 2;

    internal static int sync_file_range(int fd, long offset, long nbytes, uint flags) => T.sync_file_range(fd, offset, nbytes, flags);

    internal static nint pread(int fd, byte* buf, nuint count, long offset) => (nint)(long)T.pread(fd, buf, (size_t)(ulong)count, offset);

    internal static nint pwrite(int fd, byte* buf, nuint count, long offset) => (nint)(long)T.pwrite(fd, buf, (size_t)(ulong)count, offset);

    internal static int ftruncate(int fd, long length) => T.ftruncate(fd, length);

    /// <summary>A string as libc wants it: UTF-8 with a terminating NUL; null stays null.</summary>
    private static byte[]? Utf8z(string? s)
    {
        if (s is null) return null;
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
