using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace ContainerNetworking.Netlink;

/// <summary>
/// Walks netlink attributes (struct nlattr) in a span. It can never read past its span: every length is checked,
/// and a malformed attribute raises <see cref="NetlinkDecodeException"/>, the only exception it throws.
/// </summary>
public ref struct AttributeReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;

    public AttributeReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _pos = 0;
        Type = 0;
        RawType = 0;
        Value = default;
    }

    /// <summary>The attribute type with NLA_F_NESTED and NLA_F_NET_BYTEORDER masked off.</summary>
    public ushort Type { get; private set; }

    /// <summary>The attribute type as sent, flags included.</summary>
    public ushort RawType { get; private set; }

    public ReadOnlySpan<byte> Value { get; private set; }

    /// <summary>Moves to the next attribute; false at the end.</summary>
    public bool Next()
    {
        var remaining = _data.Length - _pos;
        if (remaining <= 0) return false;
        if (remaining < Nl.NLA_HDRLEN)
            throw new NetlinkDecodeException($"{remaining} trailing bytes are too short for an attribute header");
        var len = BinaryPrimitives.ReadUInt16LittleEndian(_data[_pos..]);
        RawType = BinaryPrimitives.ReadUInt16LittleEndian(_data[(_pos + 2)..]);
        Type = (ushort)(RawType & Nl.NLA_TYPE_MASK);
        if (len < Nl.NLA_HDRLEN || len > remaining)
            throw new NetlinkDecodeException($"attribute type {Type} claims {len} bytes; {remaining} remain");
        Value = _data.Slice(_pos + Nl.NLA_HDRLEN, len - Nl.NLA_HDRLEN);
        _pos += Math.Min(Nl.Align(len), remaining);
        return true;
    }

    private readonly ReadOnlySpan<byte> Sized(int size)
    {
        if (Value.Length < size)
            throw new NetlinkDecodeException($"attribute type {Type}: expected {size} bytes, got {Value.Length}");
        return Value;
    }

    public readonly byte GetU8() => Sized(1)[0];
    public readonly ushort GetU16() => BinaryPrimitives.ReadUInt16LittleEndian(Sized(2));
    public readonly uint GetU32() => BinaryPrimitives.ReadUInt32LittleEndian(Sized(4));
    public readonly int GetS32() => BinaryPrimitives.ReadInt32LittleEndian(Sized(4));
    public readonly ulong GetU64() => BinaryPrimitives.ReadUInt64LittleEndian(Sized(8));
    public readonly ushort GetBE16() => BinaryPrimitives.ReadUInt16BigEndian(Sized(2));
    public readonly uint GetBE32() => BinaryPrimitives.ReadUInt32BigEndian(Sized(4));
    public readonly ulong GetBE64() => BinaryPrimitives.ReadUInt64BigEndian(Sized(8));
    public readonly byte[] GetBytes() => Value.ToArray();

    /// <summary>A string, up to its first NUL (or the whole value if there is none).</summary>
    public readonly string GetString()
    {
        var v = Value;
        var nul = v.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? v[..nul] : v);
    }

    /// <summary>An IPv4 (4 bytes) or IPv6 (16 bytes) address.</summary>
    public readonly IPAddress GetAddress()
    {
        if (Value.Length != 4 && Value.Length != 16)
            throw new NetlinkDecodeException($"attribute type {Type}: {Value.Length} bytes is not an IPv4 or IPv6 address");
        return new IPAddress(Value);
    }

    /// <summary>A reader over the attributes nested in this one.</summary>
    public readonly AttributeReader Nested() => new(Value);
}
