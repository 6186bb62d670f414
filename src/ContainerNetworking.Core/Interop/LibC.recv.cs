using System.Runtime.InteropServices;
namespace ContainerNetworking.Interop;
internal static unsafe partial class LibC
{
    [LibraryImport(Library, SetLastError = true)]
    internal static partial nint recv(int sockfd, byte* buf, nint len, int flags);
}
