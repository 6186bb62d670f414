using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ContainerNetworking.Netlink;

/// <summary>One received netlink message: its header and its payload, kept in a buffer of its own.</summary>
public readonly struct NetlinkMessage
{
    private readonly byte[] _buffer;
    private readonly int _offset;
    private readonly int _length;

    public NetlinkMessage(byte[] buffer, int offset, int length)
    {
        if (length < Nl.NLMSG_HDRLEN || offset < 0 || offset + length > buffer.Length)
            throw new NetlinkDecodeException($"netlink message of {length} bytes at offset {offset} does not fit a {buffer.Length}-byte buffer");
        _buffer = buffer;
        _offset = offset;
        _length = length;
    }

    public int Length => _length;
    public ushort Type => BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(_offset + 4));
    public ushort Flags => BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(_offset + 6));
    public uint Sequence => BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_offset + 8));
    public uint PortId => BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_offset + 12));

    /// <summary>Everything after the nlmsghdr.</summary>
    public ReadOnlySpan<byte> Payload => _buffer.AsSpan(_offset + Nl.NLMSG_HDRLEN, _length - Nl.NLMSG_HDRLEN);

    /// <summary>The whole message, header included.</summary>
    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(_offset, _length);

    /// <summary>Reads the family header (ifinfomsg, rtmsg …) at the start of the payload.</summary>
    public T ReadHeader<T>() where T : unmanaged
    {
        var p = Payload;
        if (p.Length < Unsafe.SizeOf<T>())
            throw new NetlinkDecodeException($"message type {Type}: payload of {p.Length} bytes is shorter than its {typeof(T).Name} header ({Unsafe.SizeOf<T>()} bytes)");
        return MemoryMarshal.Read<T>(p);
    }

    /// <summary>The attributes after a family header of <paramref name="headerSize"/> bytes.</summary>
    public AttributeReader Attributes(int headerSize)
    {
        var p = Payload;
        var start = Nl.Align(headerSize);
        if (start > p.Length)
            throw new NetlinkDecodeException($"message type {Type}: payload of {p.Length} bytes is shorter than its {headerSize}-byte header");
        return new AttributeReader(p[start..]);
    }

    public AttributeReader Attributes<T>() where T : unmanaged => Attributes(Unsafe.SizeOf<T>());

    /// <summary>Splits a received datagram into messages. Every length is checked against the buffer.</summary>
    public static void Split(byte[] buffer, int length, List<NetlinkMessage> into)
    {
        if (length > buffer.Length) throw new NetlinkDecodeException("datagram length exceeds its buffer");
        var pos = 0;
        while (pos < length)
        {
            if (length - pos < Nl.NLMSG_HDRLEN)
                throw new NetlinkDecodeException($"{length - pos} trailing bytes are too short for a netlink header");
            var len = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(pos));
            if (len < Nl.NLMSG_HDRLEN || len > length - pos)
                throw new NetlinkDecodeException($"netlink message at offset {pos} claims {len} bytes; {length - pos} remain");
            into.Add(new NetlinkMessage(buffer, pos, len));
            pos += Math.Min(Nl.Align(len), length - pos);
        }
    }

    /// <summary>For NLMSG_ERROR and NLMSG_DONE: the (negative) error code, or 0 for an ACK.</summary>
    public int ErrorCode
    {
        get
        {
            var p = Payload;
            if (p.Length < 4) throw new NetlinkDecodeException($"message type {Type} is too short for an error code");
            return BinaryPrimitives.ReadInt32LittleEndian(p);
        }
    }

    /// <summary>For NLMSG_ERROR: the sequence number of the request this answers (from the echoed header).</summary>
    public uint ErrorSequence
    {
        get
        {
            var p = Payload;
            if (p.Length < 4 + Nl.NLMSG_HDRLEN) throw new NetlinkDecodeException("NLMSG_ERROR is too short for the echoed request header");
            return BinaryPrimitives.ReadUInt32LittleEndian(p[(4 + 8)..]);
        }
    }

    /// <summary>For NLMSG_ERROR and NLMSG_DONE: the extended-ACK message and offset, if the kernel sent them.</summary>
    public (string? Message, int? Offset) ExtendedAck()
    {
        if ((Flags & Nl.NLM_F_ACK_TLVS) == 0) return (null, null);
        var p = Payload;
        int start;
        if (Type == Nl.NLMSG_DONE) start = 4;
        else
        {
            if (p.Length < 4 + Nl.NLMSG_HDRLEN) return (null, null);
            var origLen = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
            // An echoed length the payload cannot hold (or that overflows int) means there are no TLVs to read.
            if ((Flags & Nl.NLM_F_CAPPED) == 0 && (origLen < Nl.NLMSG_HDRLEN || origLen > (uint)(p.Length - 4))) return (null, null);
            start = 4 + ((Flags & Nl.NLM_F_CAPPED) != 0 ? Nl.NLMSG_HDRLEN : Nl.Align((int)origLen));
        }
        if (start > p.Length) return (null, null);
        string? msg = null;
        int? offs = null;
        var r = new AttributeReader(p[start..]);
        while (r.Next())
        {
            if (r.Type == Nl.NLMSGERR_ATTR_MSG) msg = r.GetString();
            else if (r.Type == Nl.NLMSGERR_ATTR_OFFS) offs = (int)r.GetU32();
        }
        return (msg, offs);
    }
}
