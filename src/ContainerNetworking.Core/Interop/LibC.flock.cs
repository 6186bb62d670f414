using System.Runtime.InteropServices;
namespace ContainerNetworking.Interop;
internal static partial class LibC
{
    [LibraryImport(Library, SetLastError = true)]
    internal static partial int flock(int fd, int operation);
}
