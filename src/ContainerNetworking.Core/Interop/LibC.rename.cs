using System.Runtime.InteropServices;

namespace ContainerNetworking.Interop;

internal static partial class LibC
{
    // By hand: Tmds.LibC 0.5 has no rename. .NET's File.Move copies and deletes across file systems (EXDEV), which makes
    // a new inode; the state store's spares must be moved or not at all.
    [LibraryImport("libc.so.6", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rename(string oldpath, string newpath);
}
