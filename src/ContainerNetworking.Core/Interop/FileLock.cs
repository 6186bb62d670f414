using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;

namespace ContainerNetworking.Interop;

/// <summary>
/// An exclusive advisory lock on a file (<c>flock(fd, LOCK_EX)</c>), held until disposed. Works across processes
/// and between threads of one process (each holder opens its own file description); the kernel drops it when
/// the holder dies, so a killed process never leaves the lock taken. What <c>flock(1)</c> and CNI host-local use.
/// <para>
/// Waiting is bounded and can be cancelled: the lock is tried without blocking (LOCK_NB) and tried again with a growing
/// pause (up to 10 ms) until it is ours, the time-out passes (<see cref="FileLockTimeoutException"/>, naming the process
/// that holds it) or the token is cancelled (OperationCanceledException), so that Ctrl+C stops a command that waits.
/// </para>
/// <para>
/// The holder writes its process id into the file (bytes <see cref="HolderOffset"/>..+3, little-endian; the bytes
/// before are the caller's, e.g. a change counter) and clears it when it lets go: a waiter names the holder from it
/// (and from /proc/locks, which also knows holders that write nothing, such as flock(1)), and the next holder learns from
/// a pid left there that the previous one died holding the lock (<see cref="AbandonedBy"/>).
/// </para>
/// <para>
/// The holder may delete the lock file (and its directory) before letting go, e.g. when the state it guards is gone:
/// <see cref="Acquire(string)"/> only returns once the file it locked is the one the path names, so a process that was
/// waiting on the deleted file tries again on a new one (created with its directory) instead of holding a lock that
/// no longer guards anything while another process holds the new one.
/// </para>
/// </summary>
internal sealed class FileLock : IDisposable
{
    /// <summary>Where in the file the holder's process id is kept.</summary>
    public const int HolderOffset = 8;

    private static readonly TimeSpan MaxPause = TimeSpan.FromMilliseconds(10);
    private int _fd;

    private FileLock(int fd, int abandonedBy)
    {
        _fd = fd;
        AbandonedBy = abandonedBy;
    }

    /// <summary>
    /// The process id the previous holder left in the file when it did not let go cleanly (it was killed holding the
    /// lock), or 0. Whatever it was writing may be half-done.
    /// </summary>
    public int AbandonedBy { get; }

    /// <summary>Opens (creating it, mode 0600) <paramref name="path"/> and waits, without limit, until the exclusive lock is ours.</summary>
    public static FileLock Acquire(string path) => Acquire(path, Timeout.InfiniteTimeSpan, CancellationToken.None);

    /// <summary>
    /// Opens (creating it, mode 0600, and its directory if that is missing) <paramref name="path"/> and waits until the
    /// exclusive lock on the file the path names is ours: at most <paramref name="timeout"/> (then
    /// <see cref="FileLockTimeoutException"/>), and until <paramref name="cancel"/> is cancelled (then
    /// OperationCanceledException).
    /// </summary>
    public static FileLock Acquire(string path, TimeSpan timeout, CancellationToken cancel)
    {
        var waited = Stopwatch.StartNew();
        var pause = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
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
            try
            {
                while (true)
                {
                    if (LibC.flock(fd, LibC.LOCK_EX | LibC.LOCK_NB) == 0) break;
                    var e = Errno.Last;
                    if (e == LibC.EINTR) continue;
                    if (e != LibC.EAGAIN) throw new LinuxException(e, $"flock {path}");
                    if (timeout != Timeout.InfiniteTimeSpan && waited.Elapsed >= timeout)
                    {
                        var holder = Holder(fd);
                        throw new FileLockTimeoutException(path, timeout, holder, holder is { } h ? CommandLine(h) : null);
                    }
                    // Sleep, but wake at once when cancelled.
                    if (cancel.WaitHandle.WaitOne(pause)) cancel.ThrowIfCancellationRequested();
                    pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaxPause.Ticks));
                }
                if (!NamesFile(path, fd)) continue; // locked a file its holder deleted meanwhile: lock the one the path names now
                var previous = ReadHolder(fd);
                WriteHolder(fd, Environment.ProcessId);
                var result = new FileLock(fd, previous);
                fd = -1;
                return result;
            }
            finally
            {
                if (fd >= 0) LibC.close(fd); // not ours after all (deleted, timed out, cancelled, failed)
            }
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

    private static unsafe int ReadHolder(int fd)
    {
        int pid = 0;
        return LibC.pread(fd, (byte*)&pid, 4, HolderOffset) == 4 ? BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(&pid, 4)) : 0;
    }

    private static unsafe void WriteHolder(int fd, int pid)
    {
        // A file shorter than the offset is padded with zeros by the kernel (the bytes before are the caller's).
        int le = 0;
        BinaryPrimitives.WriteInt32LittleEndian(new Span<byte>(&le, 4), pid);
        LibC.pwrite(fd, (byte*)&le, 4, HolderOffset);
    }

    /// <summary>
    /// The process that holds the lock on the file open as <paramref name="fd"/> (only asked after a time-out): the one
    /// /proc/locks names for its inode (the kernel's record of who took it; it also knows holders that write no pid);
    /// when that process is gone, the lock lives on in a descriptor it passed on (to a child it started, as
    /// <c>flock FILE command</c> does), so the process that has the file open is looked for in /proc/*/fd; last, the pid
    /// written in the file.
    /// </summary>
    private static unsafe int? Holder(int fd)
    {
        LibC.statx_t st;
        if (LibC.statx(fd, "", LibC.AT_EMPTY_PATH, LibC.STATX_INO, &st) != 0) return null;
        int? recorded = null;
        var key = string.Create(CultureInfo.InvariantCulture, $"{st.stx_dev_major:x2}:{st.stx_dev_minor:x2}:{st.stx_ino}");
        try
        {
            foreach (var line in File.ReadLines("/proc/locks"))
            {
                // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; waiters are listed as "1: -> FLOCK …"
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 6 || f[1] != "FLOCK" || f[3] != "WRITE" || f[5] != key) continue;
                if (int.TryParse(f[4], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) { recorded = pid; break; }
            }
        }
        catch (IOException) { }
        if (recorded is { } r && Alive(r)) return r;
        if (ProcessWithFileOpen(st.stx_ino, st.stx_dev_major, st.stx_dev_minor) is { } opener) return opener;
        var written = ReadHolder(fd);
        return written > 0 && Alive(written) ? written : recorded;
    }

    private static bool Alive(int pid) => Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>Another process that has the file (inode, device) open, found through /proc/PID/fd; null if none.</summary>
    private static unsafe int? ProcessWithFileOpen(ulong ino, uint major, uint minor)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId) continue;
            IEnumerable<string> fds;
            try { fds = Directory.EnumerateFileSystemEntries(dir + "/fd").ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            foreach (var f in fds)
            {
                LibC.statx_t o;
                if (LibC.statx(LibC.AT_FDCWD, f, 0, LibC.STATX_INO, &o) == 0 && o.stx_ino == ino && o.stx_dev_major == major && o.stx_dev_minor == minor)
                    return pid;
            }
        }
        return null;
    }

    /// <summary>The command line of a process (/proc/PID/cmdline, arguments joined by spaces, at most 200 characters), or null.</summary>
    internal static string? CommandLine(int pid)
    {
        try
        {
            var raw = File.ReadAllBytes($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline");
            var s = System.Text.Encoding.UTF8.GetString(raw).TrimEnd('\0').Replace('\0', ' ');
            if (s.Length == 0) return null;
            return s.Length > 200 ? s[..200] + "…" : s;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0) return;
        WriteHolder(fd, 0); // let go cleanly: no pid left behind for the next holder to find
        LibC.close(fd); // closing the last descriptor releases the lock
    }
}

/// <summary>The lock was not ours within the time-out: another process holds it.</summary>
internal sealed class FileLockTimeoutException(string path, TimeSpan timeout, int? holderPid, string? holderCommand)
    : IOException($"{path} is locked{(holderPid is { } p ? $" by process {p}{(holderCommand is null ? "" : " (" + holderCommand + ")")}" : "")}; waited {timeout.TotalSeconds:0.#} s")
{
    public string Path { get; } = path;
    public TimeSpan Timeout { get; } = timeout;
    public int? HolderPid { get; } = holderPid;
    public string? HolderCommand { get; } = holderCommand;
}
