using System.Runtime.InteropServices;
namespace ContainerNetworking.Interop;
internal static unsafe partial class LibC
{
    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int statx(int dirfd, string pathname, int flags, uint mask, statx_t* statxbuf);
}
