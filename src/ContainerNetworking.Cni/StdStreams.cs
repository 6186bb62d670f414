using System.Text;
using Microsoft.Win32.SafeHandles;

namespace ContainerNetworking.Cni;

/// <summary>
/// stdin, stdout and stderr as plain file streams on descriptors 0, 1 and 2, not System.Console's: the console's first
/// use sets up terminal and signal handling (terminal ioctls, signal handlers and a thread of their own), which a
/// plugin whose streams are pipes never needs and every exec paid for.
/// </summary>
internal static class StdStreams
{
    /// <summary>Descriptor <paramref name="fd"/>, not owned (so never closed here).</summary>
    public static Stream Open(int fd, FileAccess access) => new FileStream(new SafeFileHandle(fd, ownsHandle: false), access, bufferSize: 0);

    /// <summary>
    /// The log on stderr, flushed line by line. As the console's, a write that fails (stderr closed, or a pipe whose
    /// reader went) is dropped: the log must never fail the command.
    /// </summary>
    public static TextWriter Error() =>
        TextWriter.Synchronized(new StreamWriter(new Quiet(Open(2, FileAccess.Write)), new UTF8Encoding(false), 256) { AutoFlush = true });

    private sealed class Quiet(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            try { inner.Write(buffer); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }
}
