using System.Runtime.InteropServices;
namespace ContainerNetworking.Interop;
internal static partial class LibC
{
    [LibraryImport(Library, SetLastError = true)]
    internal static unsafe partial nint pwrite(int fd, byte* buf, nuint count, long offset);
}
