namespace ContainerNetworking.Interop;

/// <summary>
/// Writes that survive a power cut: a file's content fsync'ed before it is renamed into place (else the journal may
/// commit the rename before the data, leaving the name on an empty file), and the directory fsync'ed after (else the
/// rename itself may be lost). What the state store's atomic writes are made of; beside them the cheap ones for files
/// that need neither (written in place, hard links).
/// </summary>
internal static class DurableFile
{
    /// <summary>Writes <paramref name="path"/> (created or truncated, mode 0644) and fsyncs it.</summary>
    public static void Write(string path, byte[] bytes) => Write(path, bytes, sync: true);

    private static void Write(string path, byte[] bytes, bool sync)
    {
        var fd = Errno.ThrowIfError(LibC.open(path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_TRUNC | LibC.O_CLOEXEC, 0x1A4), $"open {path}");
        try
        {
            WriteAll(fd, path, bytes);
            if (sync) Errno.ThrowIfError(LibC.fsync(fd), $"fsync {path}");
        }
        finally { LibC.close(fd); }
    }

    private static unsafe void WriteAll(int fd, string path, ReadOnlySpan<byte> bytes, long offset = 0)
    {
        fixed (byte* p = bytes)
        {
            for (var done = 0; done < bytes.Length;)
            {
                var n = LibC.pwrite(fd, p + done, (nuint)(bytes.Length - done), offset + done);
                if (n < 0)
                {
                    var e = Errno.Last;
                    if (e == LibC.EINTR) continue;
                    throw new LinuxException(e, $"write {path}");
                }
                done += (int)n;
            }
        }
    }

    /// <summary>
    /// Overwrites <paramref name="path"/> in place (created if missing, mode 0644; returns true then): the content written
    /// over the old from offset 0, then the file cut to its length, nothing fsync'ed. The file keeps its inode, so hard
    /// links to it and bind mounts of it (a running container's /etc/hosts) see the new content, and no inode is
    /// allocated or freed (on ext4 the cheapest way to change a file: a temporary file renamed over it costs an inode
    /// allocation, which a file system without a journal makes slower with every inode freed in the last seconds). Not
    /// atomic for a concurrent reader, who may see the new content followed by the old one's tail until the cut: only
    /// for files whose readers tolerate that (a hosts file, which Docker rewrites the same way; a hint).
    /// </summary>
    public static bool WriteInPlace(string path, byte[] bytes) => WriteInPlace(path, bytes, 0, cut: true, stamped: false, out _);

    /// <summary>
    /// As <see cref="WriteInPlace(string, byte[])"/>, from <paramref name="offset"/> on (what comes before it is kept):
    /// the file then ends after <paramref name="bytes"/>, cut there when <paramref name="cut"/> (else the caller knows
    /// it ends there already: cutting a file to its own length still costs an inode update). <paramref name="stamp"/>:
    /// the file as it is once written (<see cref="Stamp"/>), which tells whether anyone changed it since.
    /// </summary>
    public static bool WriteInPlace(string path, ReadOnlySpan<byte> bytes, long offset, bool cut, out FileStamp stamp) =>
        WriteInPlace(path, bytes, offset, cut, stamped: true, out stamp);

    private static unsafe bool WriteInPlace(string path, ReadOnlySpan<byte> bytes, long offset, bool cut, bool stamped, out FileStamp stamp)
    {
        stamp = default;
        var fd = LibC.open(path, LibC.O_WRONLY | LibC.O_CLOEXEC, 0);
        var created = false;
        if (fd < 0 && Errno.Last == LibC.ENOENT)
        {
            fd = LibC.open(path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_CLOEXEC, 0x1A4);
            created = true;
        }
        if (fd < 0) throw new LinuxException(Errno.Last, $"open {path}");
        try
        {
            WriteAll(fd, path, bytes, offset);
            if (cut && !created) Errno.ThrowIfError(LibC.ftruncate(fd, offset + bytes.Length), $"ftruncate {path}");
            if (stamped)
            {
                LibC.statx_t st = default;
                Errno.ThrowIfError(LibC.statx(fd, "", LibC.AT_EMPTY_PATH, StampMask, &st), $"statx {path}");
                stamp = new FileStamp(st);
            }
        }
        finally { LibC.close(fd); }
        return created;
    }

    /// <summary>
    /// Overwrites an existing file in place, as <see cref="WriteInPlace(string, byte[])"/> does (content from offset 0, then cut to its
    /// length, nothing fsync'ed), but never creates it: false, and nothing written, when it does not exist. What a spare
    /// file of the state store is filled with before it is renamed into place (StateStore.Spares): a cut within its
    /// first block frees no block, so neither the inode nor its block is freed and allocated again.
    /// </summary>
    public static bool TryRewrite(string path, byte[] bytes)
    {
        var fd = LibC.open(path, LibC.O_WRONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            if (Errno.Last == LibC.ENOENT) return false;
            throw new LinuxException(Errno.Last, $"open {path}");
        }
        try
        {
            WriteAll(fd, path, bytes);
            Errno.ThrowIfError(LibC.ftruncate(fd, bytes.Length), $"ftruncate {path}");
        }
        finally { LibC.close(fd); }
        return true;
    }

    /// <summary>
    /// <c>mv FROM TO</c> as one rename(2) (TO replaced if it exists): true when moved; false, and nothing changed, when
    /// FROM is missing (ENOENT) or the two are on different file systems (EXDEV: never copied, unlike .NET's File.Move).
    /// Any other error of the kernel as a <see cref="LinuxException"/>.
    /// </summary>
    public static bool TryMove(string from, string to)
    {
        if (LibC.rename(from, to) == 0) return true;
        var e = Errno.Last;
        if (e is LibC.ENOENT or LibC.EXDEV) return false;
        throw new LinuxException(e, $"rename {from} to {to}");
    }

    /// <summary>What <paramref name="path"/> itself is (a symbolic link not followed): a regular file with no other hard link, a symbolic link, or neither (missing, a directory, a file with hard links).</summary>
    public static unsafe EntryKind KindOf(string path)
    {
        LibC.statx_t x = default;
        if (LibC.statx(LibC.AT_FDCWD, path, LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_TYPE | LibC.STATX_NLINK, &x) != 0) return EntryKind.Other;
        return (x.stx_mode & LibC.S_IFMT) switch
        {
            LibC.S_IFREG when x.stx_nlink == 1 => EntryKind.SingleFile,
            LibC.S_IFLNK => EntryKind.SymbolicLink,
            _ => EntryKind.Other,
        };
    }

    /// <summary>See <see cref="KindOf"/>.</summary>
    public enum EntryKind
    {
        Other,
        SingleFile,
        SymbolicLink,
    }

    private static uint StampMask => LibC.STATX_INO | LibC.STATX_SIZE | LibC.STATX_MTIME | LibC.STATX_CTIME;

    /// <summary>The stamp of the file <paramref name="path"/> (symbolic links followed) now; null when it is missing.</summary>
    public static unsafe FileStamp? Stamp(string path)
    {
        LibC.statx_t st = default;
        return LibC.statx(LibC.AT_FDCWD, path, 0, StampMask, &st) == 0 ? new FileStamp(st) : null;
    }

    /// <summary>
    /// What tells two versions of a file apart without reading it: its inode (a file renamed over it is another), size,
    /// and modification and change times in nanoseconds (every write moves them, and nobody can set the change time
    /// back). A write by someone else that keeps the size within the file system's clock tick (a few ms) is the one
    /// change it can miss.
    /// </summary>
    internal readonly record struct FileStamp(ulong Inode, ulong Size, long MTime, uint MTimeNs, long CTime, uint CTimeNs)
    {
        internal FileStamp(LibC.statx_t st) : this(st.stx_ino, st.stx_size, st.stx_mtime_sec, st.stx_mtime_nsec, st.stx_ctime_sec, st.stx_ctime_nsec)
        {
        }
    }

    /// <summary>
    /// Overwrites an existing small file in place with one pwrite from offset 0, never cutting it: when the new content is
    /// shorter it is padded with spaces to the old length (what JSON, and a record's reader, take as nothing). One write
    /// within one page is all or nothing for a process killed with SIGKILL (the kernel checks for a fatal signal only
    /// between pages), so a killed writer leaves the old content or the new; a reader without the lock may see a mix
    /// while the copy runs (a few microseconds), which it reads as damaged and reads again. No inode is made or freed.
    /// False, and nothing written, when <paramref name="path"/> does not exist or either content would not fit in
    /// <see cref="Environment.SystemPageSize"/> bytes.
    /// </summary>
    public static unsafe bool TryOverwriteSmall(string path, byte[] bytes)
    {
        var page = Environment.SystemPageSize;
        if (bytes.Length > page) return false;
        var fd = LibC.open(path, LibC.O_WRONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            if (Errno.Last == LibC.ENOENT) return false;
            throw new LinuxException(Errno.Last, $"open {path}");
        }
        try
        {
            LibC.statx_t st = default;
            Errno.ThrowIfError(LibC.statx(fd, "", LibC.AT_EMPTY_PATH, LibC.STATX_SIZE, &st), $"statx {path}");
            if (st.stx_size > (ulong)page) return false;
            var content = bytes;
            if ((ulong)bytes.Length < st.stx_size)
            {
                content = new byte[(int)st.stx_size];
                bytes.CopyTo(content, 0);
                content.AsSpan(bytes.Length).Fill((byte)' ');
            }
            fixed (byte* p = content)
            {
                nint n;
                do n = LibC.pwrite(fd, p, (nuint)content.Length, 0);
                while (n < 0 && Errno.Last == LibC.EINTR);
                if (n < 0) throw new LinuxException(Errno.Last, $"write {path}");
                if (n != content.Length) throw new IOException($"write {path}: {n} of {content.Length} bytes written (the disk is full?)");
            }
            return true;
        }
        finally { LibC.close(fd); }
    }

    /// <summary>
    /// <c>ln EXISTING NEWPATH</c>: a hard link (no inode allocated). False, and nothing made, where the file systems do not
    /// allow one (EXDEV: two file systems; EPERM, EMLINK, EOPNOTSUPP); any other error of the kernel as a <see cref="LinuxException"/>.
    /// </summary>
    public static bool TryHardLink(string existing, string newPath)
    {
        if (LibC.link(existing, newPath) == 0) return true;
        var e = Errno.Last;
        if (e is LibC.EXDEV or LibC.EPERM or LibC.EMLINK or LibC.EOPNOTSUPP) return false;
        throw new LinuxException(e, $"link {existing} {newPath}");
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

    /// <summary>The file <paramref name="path"/> names (symbolic links followed): its inode and device; null when it is missing.</summary>
    private static unsafe FileId? Identity(string path)
    {
        LibC.statx_t x = default;
        if (LibC.statx(LibC.AT_FDCWD, path, 0, LibC.STATX_INO, &x) != 0) return null;
        return new FileId(x.stx_ino, x.stx_dev_major, x.stx_dev_minor);
    }

    /// <summary>Whether two paths (symbolic links followed) name the same file: a hard link, or a symbolic link to it. False when either is missing.</summary>
    public static bool SameFile(string a, string b) => Identity(a) is { } x && Identity(b) is { } y && x == y;

    /// <summary>A file's identity: its inode number and the device it is on.</summary>
    private readonly record struct FileId(ulong Inode, uint DeviceMajor, uint DeviceMinor);
}
