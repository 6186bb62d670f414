using System.Runtime.InteropServices;
namespace ContainerNetworking.Interop;
internal static unsafe partial class LibC
{
    [LibraryImport(Library, SetLastError = true)]
    internal static partial int getsockname(int sockfd, sockaddr_nl* addr, int* addrlen);
}
