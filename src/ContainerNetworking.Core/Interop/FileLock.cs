namespace ContainerNetworking.Interop;

/// <summary>
/// An exclusive advisory lock on a file (<c>flock(fd, LOCK_EX)</c>), held until disposed. Works across processes
/// and between threads of one process (each holder opens its own file description); the kernel drops it when
/// the holder dies, so a killed process never leaves the lock taken. What <c>flock(1)</c> and CNI host-local use.
/// <para>
/// The holder may delete the lock file (and its directory) before letting go, e.g. when the state it guards is gone:
/// <see cref="Acquire"/> only returns once the file it locked is the one the path names, so a process that was
/// waiting on the deleted file tries again on a new one (created with its directory) instead of holding a lock that
/// no longer guards anything while another process holds the new one.
/// </para>
/// </summary>
internal sealed class FileLock : IDisposable
{
    private int _fd;

    private FileLock(int fd) => _fd = fd;

    /// <summary>
    /// Opens (creating it, mode 0600, and its directory if that is missing) <paramref name="path"/> and waits until the
    /// exclusive lock on the file the path names is ours.
    /// </summary>
    public static FileLock Acquire(string path)
    {
        while (true)
        {
            var fd = LibC.open(path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_CLOEXEC, 0x180);
            if (fd < 0)
            {
                var e = Errno.Last;
                // The last holder removed the directory with the file: create it again.
                if (e == LibC.ENOENT && Path.GetDirectoryName(path) is { Length: > 0 } dir && !Directory.Exists(dir))
                {
                    Directory.CreateDirectory(dir);
                    continue;
                }
                throw new LinuxException(e, $"open {path}");
            }
            while (LibC.flock(fd, LibC.LOCK_EX) < 0)
            {
                var e = Errno.Last;
                if (e == LibC.EINTR) continue;
                LibC.close(fd);
                throw new LinuxException(e, $"flock {path}");
            }
            if (NamesFile(path, fd)) return new FileLock(fd);
            LibC.close(fd); // locked a file its holder deleted meanwhile: lock the one the path names now
        }
    }

    /// <summary>True when <paramref name="path"/> names the file open as <paramref name="fd"/> (same device and inode).</summary>
    private static unsafe bool NamesFile(string path, int fd)
    {
        LibC.statx_t open, named;
        Errno.ThrowIfError(LibC.statx(fd, "", LibC.AT_EMPTY_PATH, LibC.STATX_INO, &open), $"statx {path}");
        if (LibC.statx(LibC.AT_FDCWD, path, 0, LibC.STATX_INO, &named) < 0)
        {
            var e = Errno.Last;
            if (e == LibC.ENOENT) return false;
            throw new LinuxException(e, $"statx {path}");
        }
        return open.stx_ino == named.stx_ino && open.stx_dev_major == named.stx_dev_major && open.stx_dev_minor == named.stx_dev_minor;
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) LibC.close(fd); // closing the last descriptor releases the lock
    }
}
