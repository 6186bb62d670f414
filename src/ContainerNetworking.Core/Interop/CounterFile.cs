namespace ContainerNetworking.Interop;

/// <summary>
/// A 64-bit little-endian counter at the start of a file (-1 when the file holds none yet; 0 when it holds only what
/// <see cref="FileLock"/> writes after it, the holder's pid), read and written through a descriptor of our own with
/// pread/pwrite: .NET's FileStream takes an advisory flock of its own on open, which a <see cref="FileLock"/> held on
/// the same file would refuse. Never replaced by rename: the lock is held on this very file.
/// </summary>
internal static class CounterFile
{
    public static unsafe long Read(string path)
    {
        var fd = Errno.ThrowIfError(LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0), $"open {path}");
        try
        {
            long value = 0;
            var n = LibC.pread(fd, (byte*)&value, 8, 0);
            return n == 8 ? System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(&value, 8)) : -1;
        }
        finally { LibC.close(fd); }
    }

    public static unsafe void Write(string path, long value)
    {
        var fd = Errno.ThrowIfError(LibC.open(path, LibC.O_RDWR | LibC.O_CLOEXEC, 0), $"open {path}");
        try
        {
            long le = 0;
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(&le, 8), value);
            if (LibC.pwrite(fd, (byte*)&le, 8, 0) != 8) throw new IOException($"could not write the change counter of {path}");
        }
        finally { LibC.close(fd); }
    }
}
