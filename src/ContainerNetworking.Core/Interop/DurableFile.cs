namespace ContainerNetworking.Interop;

/// <summary>
/// Writes that survive a power cut: a file's content fsync'ed before it is renamed into place (else the journal may
/// commit the rename before the data, leaving the name on an empty file), and the directory fsync'ed after (else the
/// rename itself may be lost). What the state store's atomic writes are made of.
/// </summary>
internal static class DurableFile
{
    /// <summary>Writes <paramref name="path"/> (created or truncated, mode 0644) and fsyncs it.</summary>
    public static void Write(string path, byte[] bytes) => Write(path, bytes, sync: true);

    private static unsafe void Write(string path, byte[] bytes, bool sync)
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
            if (sync) Errno.ThrowIfError(LibC.fsync(fd), $"fsync {path}");
        }
        finally { LibC.close(fd); }
    }

    /// <summary>
    /// Writes <paramref name="path"/> (created or truncated, mode 0644) without waiting for the disk: one of a group that
    /// <see cref="SyncAll"/> makes durable together.
    /// </summary>
    public static void WriteUnsynced(string path, byte[] bytes) => Write(path, bytes, sync: false);

    /// <summary>
    /// fsyncs every file of <paramref name="paths"/> at the cost of about one: writeback of all of them is started first
    /// (sync_file_range), so that their data and block allocations join the file system's running journal transaction,
    /// which the first fsync commits; the others find it committed. One fsync after another, each file would wait for a
    /// journal commit of its own.
    /// </summary>
    public static void SyncAll(IReadOnlyList<string> paths)
    {
        var fds = new List<int>(paths.Count);
        try
        {
            foreach (var p in paths)
            {
                var fd = Errno.ThrowIfError(LibC.open(p, LibC.O_WRONLY | LibC.O_CLOEXEC, 0), $"open {p}");
                fds.Add(fd);
                LibC.sync_file_range(fd, 0, 0, LibC.SYNC_FILE_RANGE_WRITE); // a hint: fsync below is what counts
            }
            for (var i = 0; i < fds.Count; i++) Errno.ThrowIfError(LibC.fsync(fds[i]), $"fsync {paths[i]}");
        }
        finally
        {
            foreach (var fd in fds) LibC.close(fd);
        }
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
