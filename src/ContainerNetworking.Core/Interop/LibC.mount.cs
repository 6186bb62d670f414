using System.Runtime.InteropServices;
namespace ContainerNetworking.Interop;
internal static partial class LibC
{
    [LibraryImport(Library, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mount(string? source, string target, string? filesystemtype, ulong mountflags, nint data);
}
