namespace ContainerNetworking.Interop;

/// <summary>
/// Writes that survive a power cut: a file's content fsync'ed before it is renamed into place (else the journal may
/// commit the rename before the data, leaving the name on an empty file), and the directory fsync'ed after (else the
/// rename itself may be lost). What the state store's atomic writes are made of.
/// </summary>
internal static class DurableFile
{
    /// <summary>Writes <paramref name="path"/> (created or truncated, mode 0644) and fsyncs it.</summary>
    public static unsafe void Write(string path, byte[] bytes)
    {
        var fd = Errno.ThrowIfError(LibC.open(path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_TRUNC | LibC.O_CLOEXEC, 0x1A4), $"open {path}");
        try
        {
            fixed (byte* p = bytes)
            {
                for (var done = 0; done < bytes.Length;)
                {
                    var n = LibC.pwrite(fd, p + done, (nuint)(bytes.Length - done), done);
                    if (n < 0)
                    {
                        var e = Errno.Last;
                        if (e == LibC.EINTR) continue;
                        throw new LinuxException(e, $"write {path}");
                    }
                    done += (int)n;
                }
            }
            Errno.ThrowIfError(LibC.fsync(fd), $"fsync {path}");
        }
        finally { LibC.close(fd); }
    }

    /// <summary>fsyncs a directory, so that the renames, creations and deletions in it survive a power cut.</summary>
    public static void SyncDirectory(string dir)
    {
        var fd = LibC.open(dir, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
        if (fd < 0) throw new LinuxException(Errno.Last, $"open {dir}");
        try { Errno.ThrowIfError(LibC.fsync(fd), $"fsync {dir}"); }
        finally { LibC.close(fd); }
    }
}
