using System.Runtime.InteropServices;

namespace ContainerNetworking.Interop;

internal static partial class LibC
{
    // By hand: Tmds.LibC 0.5 has no link (only symlink). The same glibc it binds; SetLastError keeps errno for Errno.Last.
    [LibraryImport("libc.so.6", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int link(string oldpath, string newpath);
}
