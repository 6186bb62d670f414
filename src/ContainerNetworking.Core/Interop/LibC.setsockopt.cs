using System.Runtime.InteropServices;
namespace ContainerNetworking.Interop;
internal static unsafe partial class LibC
{
    [LibraryImport(Library, SetLastError = true)]
    internal static partial int setsockopt(int sockfd, int level, int optname, void* optval, int optlen);
}
