using System.Runtime.InteropServices;
namespace ContainerNetworking.Interop;
internal static partial class LibC
{
    [LibraryImport(Library)]
    internal static partial int gettid();
}
