using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace ContainerNetworking.Netlink;

/// <summary>
/// Builds netlink messages into one growing buffer: a datagram may hold many messages (an nf_tables batch).
/// Message and nested-attribute lengths are back-patched when they end. Integers are host order unless the
/// method says BE (network order).
/// </summary>
public sealed class NetlinkWriter
{
    private byte[] _buf;
    private int _len;
    private int _msgStart = -1;

    public NetlinkWriter(int capacity = 1024) => _buf = new byte[capacity];

    public int Length => _len;
    public ReadOnlySpan<byte> Written => _buf.AsSpan(0, _len);
    public int MessageCount { get; private set; }

    public void Reset()
    {
        _len = 0;
        _msgStart = -1;
        MessageCount = 0;
    }

    private Span<byte> Grow(int n)
    {
        if (_len + n > _buf.Length)
            Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _len + n + 256));
        var s = _buf.AsSpan(_len, n);
        s.Clear();
        _len += n;
        return s;
    }

    private void Pad() => Grow(Nl.Align(_len) - _len);

    /// <summary>Starts a message with an nlmsghdr whose length is patched by <see cref="EndMessage"/>.</summary>
    public void BeginMessage(ushort type, ushort flags, uint seq, uint pid = 0)
    {
        if (_msgStart >= 0) throw new InvalidOperationException("previous netlink message was not ended");
        Pad();
        _msgStart = _len;
        var h = Grow(Nl.NLMSG_HDRLEN);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], seq);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], pid);
    }

    public void EndMessage()
    {
        if (_msgStart < 0) throw new InvalidOperationException("no netlink message was begun");
        Pad();
        BinaryPrimitives.WriteUInt32LittleEndian(_buf.AsSpan(_msgStart), (uint)(_len - _msgStart));
        _msgStart = -1;
        MessageCount++;
    }

    /// <summary>Writes a fixed family header (ifinfomsg, rtmsg, nfgenmsg …) and pads to 4 bytes.</summary>
    public void Write<T>(in T value) where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        var s = Grow(size);
        MemoryMarshal.Write(s, in value);
        Pad();
    }

    public void WriteBytes(ReadOnlySpan<byte> data)
    {
        data.CopyTo(Grow(data.Length));
        Pad();
    }

    public void Attr(ushort type, ReadOnlySpan<byte> value)
    {
        var h = Grow(Nl.NLA_HDRLEN + value.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(h, (ushort)(Nl.NLA_HDRLEN + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(h[2..], type);
        value.CopyTo(h[Nl.NLA_HDRLEN..]);
        Pad();
    }

    public void AttrFlag(ushort type) => Attr(type, ReadOnlySpan<byte>.Empty);
    public void AttrU8(ushort type, byte v) => Attr(type, [v]);

    public void AttrU16(ushort type, ushort v) => AttrInteger(type, v, bigEndian: false);
    public void AttrU32(ushort type, uint v) => AttrInteger(type, v, bigEndian: false);
    public void AttrS32(ushort type, int v) => AttrU32(type, unchecked((uint)v));
    public void AttrU64(ushort type, ulong v) => AttrInteger(type, v, bigEndian: false);
    public void AttrBE16(ushort type, ushort v) => AttrInteger(type, v, bigEndian: true);
    public void AttrBE32(ushort type, uint v) => AttrInteger(type, v, bigEndian: true);
    public void AttrBE64(ushort type, ulong v) => AttrInteger(type, v, bigEndian: true);

    /// <summary>A fixed-width integer attribute: host order (little-endian here) for rtnetlink, network order for nfnetlink.</summary>
    private void AttrInteger<T>(ushort type, T v, bool bigEndian) where T : System.Numerics.IBinaryInteger<T>
    {
        Span<byte> b = stackalloc byte[v.GetByteCount()];
        if (bigEndian) v.WriteBigEndian(b);
        else v.WriteLittleEndian(b);
        Attr(type, b);
    }

    /// <summary>A NUL-terminated string attribute (NLA_NUL_STRING / NLA_STRING as iproute2 and libmnl send it).</summary>
    public void AttrString(ushort type, string v)
    {
        var n = Encoding.UTF8.GetByteCount(v);
        Span<byte> b = n < 256 ? stackalloc byte[n + 1] : new byte[n + 1];
        Encoding.UTF8.GetBytes(v, b);
        b[n] = 0;
        Attr(type, b);
    }

    /// <summary>An address attribute: 4 bytes for IPv4, 16 for IPv6, network order.</summary>
    public void AttrAddress(ushort type, IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out var n);
        Attr(type, b[..n]);
    }

    /// <summary>Starts a nested attribute; pass the returned offset to <see cref="EndNested"/>.</summary>
    public int BeginNested(ushort type, bool nestedFlag = false)
    {
        Pad();
        var start = _len;
        var h = Grow(Nl.NLA_HDRLEN);
        BinaryPrimitives.WriteUInt16LittleEndian(h[2..], nestedFlag ? (ushort)(type | Nl.NLA_F_NESTED) : type);
        return start;
    }

    public void EndNested(int start)
    {
        Pad();
        BinaryPrimitives.WriteUInt16LittleEndian(_buf.AsSpan(start), checked((ushort)(_len - start)));
    }
}
