namespace ContainerNetworking.Interop;

/// <summary>
/// An exclusive advisory lock on a file (<c>flock(fd, LOCK_EX)</c>), held until disposed. Works across processes
/// and between threads of one process (each holder opens its own file description); the kernel drops it when
/// the holder dies, so a killed process never leaves the lock taken. What <c>flock(1)</c> and CNI host-local use.
/// </summary>
internal sealed class FileLock : IDisposable
{
    private int _fd;

    private FileLock(int fd) => _fd = fd;

    /// <summary>Opens (creating it, mode 0600) <paramref name="path"/> and waits until the exclusive lock is ours.</summary>
    public static FileLock Acquire(string path)
    {
        var fd = Errno.ThrowIfError(LibC.open(path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_CLOEXEC, 0x180), $"open {path}");
        while (LibC.flock(fd, LibC.LOCK_EX) < 0)
        {
            var e = Errno.Last;
            if (e == LibC.EINTR) continue;
            LibC.close(fd);
            throw new LinuxException(e, $"flock {path}");
        }
        return new FileLock(fd);
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) LibC.close(fd); // closing the last descriptor releases the lock
    }
}
