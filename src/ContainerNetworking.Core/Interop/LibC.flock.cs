using System.Runtime.InteropServices;
namespace ContainerNetworking.Interop;
internal static partial class LibC
{
    // By hand: Tmds.LibC 0.5 has no flock. The same glibc it binds (libc.so.6); SetLastError keeps errno for Errno.Last.
    [LibraryImport("libc.so.6", SetLastError = true)]
    internal static partial int flock(int fd, int operation);
}
