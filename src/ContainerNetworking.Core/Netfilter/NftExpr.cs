using System.Buffers.Binary;
using ContainerNetworking.Netlink;

namespace ContainerNetworking.Netfilter;

/// <summary>
/// One nf_tables expression of a rule. Each type encodes its NFTA_EXPR_DATA attributes as the kernel (and libnftnl)
/// expects and decodes what a dump returns; an expression this module does not know is kept as <see cref="NftUnknownExpr"/>.
/// Register numbers are the kernel's: 0 = verdict, 1–4 the 16-byte registers, 8–23 the 4-byte ones (NFT_REG32_00…).
/// </summary>
public abstract record NftExpr
{
    /// <summary>The kernel's expression name ("meta", "cmp", "payload" …).</summary>
    public abstract string Name { get; }

    internal abstract void EncodeData(NetlinkWriter w);

    internal void Encode(NetlinkWriter w)
    {
        var elem = w.BeginNested(Nft.NFTA_LIST_ELEM, true);
        w.AttrString(Nft.NFTA_EXPR_NAME, Name);
        var data = w.BeginNested(Nft.NFTA_EXPR_DATA, true);
        EncodeData(w);
        w.EndNested(data);
        w.EndNested(elem);
    }

    internal static NftExpr Decode(AttributeReader elem)
    {
        string? name = null;
        byte[] data = [];
        while (elem.Next())
        {
            if (elem.Type == Nft.NFTA_EXPR_NAME) name = elem.GetString();
            else if (elem.Type == Nft.NFTA_EXPR_DATA) data = elem.GetBytes();
        }
        if (name is null) throw new NetlinkDecodeException("nf_tables expression without a name");
        var r = new AttributeReader(data);
        return name switch
        {
            "meta" => NftMeta.Read(r),
            "cmp" => NftCmp.Read(r),
            "payload" => NftPayload.Read(r),
            "bitwise" => NftBitwise.Read(r),
            "lookup" => NftLookup.Read(r),
            "immediate" => NftImmediate.Read(r),
            "nat" => NftNat.Read(r),
            "masq" => NftMasq.Read(r),
            "fib" => NftFib.Read(r),
            "ct" => NftCt.Read(r),
            "counter" => NftCounter.Read(r),
            _ => new NftUnknownExpr(name, data),
        };
    }

    private protected static byte[] DataValue(AttributeReader r)
    {
        var n = r.Nested();
        while (n.Next()) if (n.Type == Nft.NFTA_DATA_VALUE) return n.GetBytes();
        return [];
    }

    private protected static void WriteDataValue(NetlinkWriter w, ushort type, ReadOnlySpan<byte> value)
    {
        var d = w.BeginNested(type, true);
        w.Attr(Nft.NFTA_DATA_VALUE, value);
        w.EndNested(d);
    }

    private protected static string Hex(byte[] b) => Convert.ToHexString(b).ToLowerInvariant();
}

/// <summary><c>meta load KEY =&gt; reg DREG</c>, e.g. <c>meta nfproto</c>, <c>meta l4proto</c>, <c>iifname</c>.</summary>
public sealed record NftMeta(uint Key, uint Dreg = Nft.NFT_REG_1) : NftExpr
{
    public override string Name => "meta";
    internal override void EncodeData(NetlinkWriter w)
    {
        w.AttrBE32(Nft.NFTA_META_KEY, Key);
        w.AttrBE32(Nft.NFTA_META_DREG, Dreg);
    }
    internal static NftMeta Read(AttributeReader r)
    {
        uint key = 0, dreg = 0;
        while (r.Next())
        {
            if (r.Type == Nft.NFTA_META_KEY) key = r.GetBE32();
            else if (r.Type == Nft.NFTA_META_DREG) dreg = r.GetBE32();
        }
        return new NftMeta(key, dreg);
    }
}

/// <summary><c>cmp OP reg SREG DATA</c>.</summary>
public sealed record NftCmp(uint Op, byte[] Data, uint Sreg = Nft.NFT_REG_1) : NftExpr
{
    public override string Name => "cmp";
    internal override void EncodeData(NetlinkWriter w)
    {
        w.AttrBE32(Nft.NFTA_CMP_SREG, Sreg);
        w.AttrBE32(Nft.NFTA_CMP_OP, Op);
        WriteDataValue(w, Nft.NFTA_CMP_DATA, Data);
    }
    internal static NftCmp Read(AttributeReader r)
    {
        uint op = 0, sreg = 0;
        byte[] data = [];
        while (r.Next())
        {
            if (r.Type == Nft.NFTA_CMP_SREG) sreg = r.GetBE32();
            else if (r.Type == Nft.NFTA_CMP_OP) op = r.GetBE32();
            else if (r.Type == Nft.NFTA_CMP_DATA) data = DataValue(r);
        }
        return new NftCmp(op, data, sreg);
    }
    public bool Equals(NftCmp? o) => o is not null && Op == o.Op && Sreg == o.Sreg && Data.AsSpan().SequenceEqual(o.Data);
    public override int GetHashCode() => HashCode.Combine(Op, Sreg, Data.Length);
    public override string ToString() => $"cmp {Op} reg {Sreg} 0x{Hex(Data)}";
}

/// <summary><c>payload load LEN @ BASE + OFFSET =&gt; reg DREG</c>.</summary>
public sealed record NftPayload(uint Base, uint Offset, uint Len, uint Dreg = Nft.NFT_REG_1) : NftExpr
{
    public override string Name => "payload";
    internal override void EncodeData(NetlinkWriter w)
    {
        w.AttrBE32(Nft.NFTA_PAYLOAD_DREG, Dreg);
        w.AttrBE32(Nft.NFTA_PAYLOAD_BASE, Base);
        w.AttrBE32(Nft.NFTA_PAYLOAD_OFFSET, Offset);
        w.AttrBE32(Nft.NFTA_PAYLOAD_LEN, Len);
    }
    internal static NftPayload Read(AttributeReader r)
    {
        uint b = 0, o = 0, l = 0, d = 0;
        while (r.Next())
        {
            switch (r.Type)
            {
                case Nft.NFTA_PAYLOAD_DREG: d = r.GetBE32(); break;
                case Nft.NFTA_PAYLOAD_BASE: b = r.GetBE32(); break;
                case Nft.NFTA_PAYLOAD_OFFSET: o = r.GetBE32(); break;
                case Nft.NFTA_PAYLOAD_LEN: l = r.GetBE32(); break;
            }
        }
        return new NftPayload(b, o, l, d);
    }
}

/// <summary><c>bitwise reg DREG = (reg SREG &amp; MASK) ^ XOR</c>.</summary>
public sealed record NftBitwise(uint Len, byte[] Mask, byte[] Xor, uint Sreg = Nft.NFT_REG_1, uint Dreg = Nft.NFT_REG_1) : NftExpr
{
    public override string Name => "bitwise";
    internal override void EncodeData(NetlinkWriter w)
    {
        w.AttrBE32(Nft.NFTA_BITWISE_SREG, Sreg);
        w.AttrBE32(Nft.NFTA_BITWISE_DREG, Dreg);
        w.AttrBE32(Nft.NFTA_BITWISE_LEN, Len);
        WriteDataValue(w, Nft.NFTA_BITWISE_MASK, Mask);
        WriteDataValue(w, Nft.NFTA_BITWISE_XOR, Xor);
    }
    internal static NftBitwise Read(AttributeReader r)
    {
        uint s = 0, d = 0, l = 0;
        byte[] m = [], x = [];
        while (r.Next())
        {
            switch (r.Type)
            {
                case Nft.NFTA_BITWISE_SREG: s = r.GetBE32(); break;
                case Nft.NFTA_BITWISE_DREG: d = r.GetBE32(); break;
                case Nft.NFTA_BITWISE_LEN: l = r.GetBE32(); break;
                case Nft.NFTA_BITWISE_MASK: m = DataValue(r); break;
                case Nft.NFTA_BITWISE_XOR: x = DataValue(r); break;
            }
        }
        return new NftBitwise(l, m, x, s, d);
    }
    public bool Equals(NftBitwise? o) => o is not null && Len == o.Len && Sreg == o.Sreg && Dreg == o.Dreg &&
        Mask.AsSpan().SequenceEqual(o.Mask) && Xor.AsSpan().SequenceEqual(o.Xor);
    public override int GetHashCode() => HashCode.Combine(Len, Sreg, Dreg);
    public override string ToString() => $"bitwise reg {Dreg} = (reg {Sreg} & 0x{Hex(Mask)}) ^ 0x{Hex(Xor)}";
}

/// <summary><c>lookup reg SREG set SET [dreg DREG]</c>: a set match, or a map lookup when <see cref="Dreg"/> is set.</summary>
public sealed record NftLookup(string Set, uint Sreg = Nft.NFT_REG_1, uint? Dreg = null, bool Invert = false) : NftExpr
{
    public override string Name => "lookup";
    internal override void EncodeData(NetlinkWriter w)
    {
        w.AttrString(Nft.NFTA_LOOKUP_SET, Set);
        w.AttrBE32(Nft.NFTA_LOOKUP_SREG, Sreg);
        if (Dreg is { } d) w.AttrBE32(Nft.NFTA_LOOKUP_DREG, d);
        if (Invert) w.AttrBE32(Nft.NFTA_LOOKUP_FLAGS, Nft.NFT_LOOKUP_F_INV);
    }
    internal static NftLookup Read(AttributeReader r)
    {
        string set = "";
        uint s = 0;
        uint? d = null;
        var inv = false;
        while (r.Next())
        {
            switch (r.Type)
            {
                case Nft.NFTA_LOOKUP_SET: set = r.GetString(); break;
                case Nft.NFTA_LOOKUP_SREG: s = r.GetBE32(); break;
                case Nft.NFTA_LOOKUP_DREG: d = r.GetBE32(); break;
                case Nft.NFTA_LOOKUP_FLAGS: inv = (r.GetBE32() & Nft.NFT_LOOKUP_F_INV) != 0; break;
            }
        }
        return new NftLookup(set, s, d, inv);
    }
}

/// <summary><c>immediate reg DREG DATA</c>, or a verdict (<c>accept</c>, <c>drop</c>, <c>jump CHAIN</c>) into reg 0.</summary>
public sealed record NftImmediate : NftExpr
{
    public uint Dreg { get; init; }
    public byte[]? Data { get; init; }
    public int? Verdict { get; init; }
    public string? Chain { get; init; }

    public override string Name => "immediate";

    public static NftImmediate Value(byte[] data, uint dreg = Nft.NFT_REG_1) => new() { Dreg = dreg, Data = data };
    public static NftImmediate Accept() => new() { Verdict = Nft.NF_ACCEPT };
    public static NftImmediate Drop() => new() { Verdict = Nft.NF_DROP };
    public static NftImmediate Return() => new() { Verdict = Nft.NFT_RETURN };
    public static NftImmediate Jump(string chain) => new() { Verdict = Nft.NFT_JUMP, Chain = chain };
    public static NftImmediate Goto(string chain) => new() { Verdict = Nft.NFT_GOTO, Chain = chain };

    internal override void EncodeData(NetlinkWriter w)
    {
        w.AttrBE32(Nft.NFTA_IMMEDIATE_DREG, Verdict is null ? Dreg : Nft.NFT_REG_VERDICT);
        var d = w.BeginNested(Nft.NFTA_IMMEDIATE_DATA, true);
        if (Verdict is { } v) WriteVerdict(w, v, Chain);
        else w.Attr(Nft.NFTA_DATA_VALUE, Data ?? []);
        w.EndNested(d);
    }

    internal static void WriteVerdict(NetlinkWriter w, int verdict, string? chain)
    {
        var v = w.BeginNested(Nft.NFTA_DATA_VERDICT, true);
        w.AttrBE32(Nft.NFTA_VERDICT_CODE, unchecked((uint)verdict));
        if (chain is not null) w.AttrString(Nft.NFTA_VERDICT_CHAIN, chain);
        w.EndNested(v);
    }

    internal static (int Verdict, string? Chain) ReadVerdict(AttributeReader v)
    {
        int code = 0;
        string? chain = null;
        while (v.Next())
        {
            if (v.Type == Nft.NFTA_VERDICT_CODE) code = unchecked((int)v.GetBE32());
            else if (v.Type == Nft.NFTA_VERDICT_CHAIN) chain = v.GetString();
        }
        return (code, chain);
    }

    internal static NftImmediate Read(AttributeReader r)
    {
        var e = new NftImmediate();
        while (r.Next())
        {
            if (r.Type == Nft.NFTA_IMMEDIATE_DREG) e = e with { Dreg = r.GetBE32() };
            else if (r.Type == Nft.NFTA_IMMEDIATE_DATA)
            {
                var d = r.Nested();
                while (d.Next())
                {
                    if (d.Type == Nft.NFTA_DATA_VALUE) e = e with { Data = d.GetBytes() };
                    else if (d.Type == Nft.NFTA_DATA_VERDICT)
                    {
                        var (code, chain) = ReadVerdict(d.Nested());
                        e = e with { Verdict = code, Chain = chain };
                    }
                }
            }
        }
        return e;
    }

    public bool Equals(NftImmediate? o) => o is not null && Dreg == o.Dreg && Verdict == o.Verdict && Chain == o.Chain &&
        (Data ?? []).AsSpan().SequenceEqual(o.Data ?? []);
    public override int GetHashCode() => HashCode.Combine(Dreg, Verdict, Chain);
    public override string ToString() => Verdict is { } v ? $"immediate verdict {v} {Chain}" : $"immediate reg {Dreg} 0x{Hex(Data ?? [])}";
}

/// <summary><c>nat snat|dnat FAMILY addr_min reg A [proto_min reg P]</c>.</summary>
public sealed record NftNat(uint Type, byte Family, uint? RegAddrMin = null, uint? RegProtoMin = null) : NftExpr
{
    public uint? RegAddrMax { get; init; }
    public uint? RegProtoMax { get; init; }
    public uint Flags { get; init; }
    public override string Name => "nat";
    internal override void EncodeData(NetlinkWriter w)
    {
        w.AttrBE32(Nft.NFTA_NAT_TYPE, Type);
        w.AttrBE32(Nft.NFTA_NAT_FAMILY, Family);
        if (RegAddrMin is { } a) w.AttrBE32(Nft.NFTA_NAT_REG_ADDR_MIN, a);
        if (RegAddrMax is { } b) w.AttrBE32(Nft.NFTA_NAT_REG_ADDR_MAX, b);
        if (RegProtoMin is { } p) w.AttrBE32(Nft.NFTA_NAT_REG_PROTO_MIN, p);
        if (RegProtoMax is { } q) w.AttrBE32(Nft.NFTA_NAT_REG_PROTO_MAX, q);
        if (Flags != 0) w.AttrBE32(Nft.NFTA_NAT_FLAGS, Flags);
    }
    internal static NftNat Read(AttributeReader r)
    {
        var e = new NftNat(0, 0);
        while (r.Next())
        {
            switch (r.Type)
            {
                case Nft.NFTA_NAT_TYPE: e = e with { Type = r.GetBE32() }; break;
                case Nft.NFTA_NAT_FAMILY: e = e with { Family = (byte)r.GetBE32() }; break;
                case Nft.NFTA_NAT_REG_ADDR_MIN: e = e with { RegAddrMin = r.GetBE32() }; break;
                case Nft.NFTA_NAT_REG_ADDR_MAX: e = e with { RegAddrMax = r.GetBE32() }; break;
                case Nft.NFTA_NAT_REG_PROTO_MIN: e = e with { RegProtoMin = r.GetBE32() }; break;
                case Nft.NFTA_NAT_REG_PROTO_MAX: e = e with { RegProtoMax = r.GetBE32() }; break;
                case Nft.NFTA_NAT_FLAGS: e = e with { Flags = r.GetBE32() }; break;
            }
        }
        return e;
    }
}

/// <summary><c>masq</c> (nft's <c>masquerade</c>).</summary>
public sealed record NftMasq(uint Flags = 0) : NftExpr
{
    public override string Name => "masq";
    internal override void EncodeData(NetlinkWriter w)
    {
        if (Flags != 0) w.AttrBE32(Nft.NFTA_MASQ_FLAGS, Flags);
    }
    internal static NftMasq Read(AttributeReader r)
    {
        uint f = 0;
        while (r.Next()) if (r.Type == Nft.NFTA_MASQ_FLAGS) f = r.GetBE32();
        return new NftMasq(f);
    }
}

/// <summary><c>fib FLAGS RESULT =&gt; reg DREG</c>, e.g. <c>fib daddr type</c> (flags DADDR, result ADDRTYPE).</summary>
public sealed record NftFib(uint Flags, uint Result, uint Dreg = Nft.NFT_REG_1) : NftExpr
{
    public override string Name => "fib";
    internal override void EncodeData(NetlinkWriter w)
    {
        w.AttrBE32(Nft.NFTA_FIB_DREG, Dreg);
        w.AttrBE32(Nft.NFTA_FIB_RESULT, Result);
        w.AttrBE32(Nft.NFTA_FIB_FLAGS, Flags);
    }
    internal static NftFib Read(AttributeReader r)
    {
        uint f = 0, res = 0, d = 0;
        while (r.Next())
        {
            switch (r.Type)
            {
                case Nft.NFTA_FIB_DREG: d = r.GetBE32(); break;
                case Nft.NFTA_FIB_RESULT: res = r.GetBE32(); break;
                case Nft.NFTA_FIB_FLAGS: f = r.GetBE32(); break;
            }
        }
        return new NftFib(f, res, d);
    }
}

/// <summary><c>ct load KEY =&gt; reg DREG</c>, e.g. <c>ct state</c>, <c>ct status</c>.</summary>
public sealed record NftCt(uint Key, uint Dreg = Nft.NFT_REG_1) : NftExpr
{
    public byte? Direction { get; init; }
    public override string Name => "ct";
    internal override void EncodeData(NetlinkWriter w)
    {
        w.AttrBE32(Nft.NFTA_CT_DREG, Dreg);
        w.AttrBE32(Nft.NFTA_CT_KEY, Key);
        if (Direction is { } d) w.AttrU8(Nft.NFTA_CT_DIRECTION, d);
    }
    internal static NftCt Read(AttributeReader r)
    {
        uint k = 0, d = 0;
        byte? dir = null;
        while (r.Next())
        {
            switch (r.Type)
            {
                case Nft.NFTA_CT_DREG: d = r.GetBE32(); break;
                case Nft.NFTA_CT_KEY: k = r.GetBE32(); break;
                case Nft.NFTA_CT_DIRECTION: dir = r.GetU8(); break;
            }
        }
        return new NftCt(k, d) { Direction = dir };
    }
}

/// <summary><c>counter</c>; reading back gives the packets and bytes counted so far.</summary>
public sealed record NftCounter(ulong Packets = 0, ulong Bytes = 0) : NftExpr
{
    public override string Name => "counter";
    internal override void EncodeData(NetlinkWriter w)
    {
        w.AttrBE64(Nft.NFTA_COUNTER_BYTES, Bytes);
        w.AttrBE64(Nft.NFTA_COUNTER_PACKETS, Packets);
    }
    internal static NftCounter Read(AttributeReader r)
    {
        ulong p = 0, b = 0;
        while (r.Next())
        {
            if (r.Type == Nft.NFTA_COUNTER_BYTES) b = r.GetBE64();
            else if (r.Type == Nft.NFTA_COUNTER_PACKETS) p = r.GetBE64();
        }
        return new NftCounter(p, b);
    }
}

/// <summary>An expression this module does not decode (kept as its raw NFTA_EXPR_DATA, re-encoded as is).</summary>
public sealed record NftUnknownExpr(string ExprName, byte[] RawData) : NftExpr
{
    public override string Name => ExprName;
    internal override void EncodeData(NetlinkWriter w) => w.WriteBytes(RawData);
}

/// <summary>Builders for the matches nft generates, so that rules read like their nft text.</summary>
public static class NftMatch
{
    /// <summary><c>meta nfproto ipv4|ipv6</c>.</summary>
    public static NftExpr[] NfProto(byte nfproto) =>
        [new NftMeta(Nft.NFT_META_NFPROTO), new NftCmp(Nft.NFT_CMP_EQ, [nfproto])];

    /// <summary><c>iifname "NAME"</c> / <c>oifname != "NAME"</c> (16 NUL-padded bytes, as nft sends an exact name).</summary>
    public static NftExpr[] IfName(bool output, string name, bool equal = true) =>
        [new NftMeta(output ? Nft.NFT_META_OIFNAME : Nft.NFT_META_IIFNAME), new NftCmp(equal ? Nft.NFT_CMP_EQ : Nft.NFT_CMP_NEQ, IfNameBytes(name))];

    /// <summary><c>meta ibrname "NAME"</c> (bridge family: the bridge of the input port).</summary>
    public static NftExpr[] BridgeName(bool output, string name) =>
        [new NftMeta(output ? Nft.NFT_META_BRI_OIFNAME : Nft.NFT_META_BRI_IIFNAME), new NftCmp(Nft.NFT_CMP_EQ, IfNameBytes(name))];

    public static byte[] IfNameBytes(string name)
    {
        var b = new byte[Nft.IFNAMSIZ];
        var n = System.Text.Encoding.UTF8.GetBytes(name, b);
        if (n >= Nft.IFNAMSIZ) throw new ArgumentException($"Interface name '{name}' is longer than 15 bytes.", nameof(name));
        return b;
    }

    /// <summary>
    /// <c>ip saddr|daddr PREFIX</c> (or ip6), encoded as nft does: a byte-aligned prefix loads just its bytes and
    /// compares them; any other loads the whole address and masks it with a bitwise first.
    /// </summary>
    public static NftExpr[] Address(bool source, System.Net.IPNetwork prefix)
    {
        var v6 = prefix.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        var offset = v6 ? (source ? 8u : 24u) : (source ? 12u : 16u);
        var bits = prefix.PrefixLength;
        var bytes = prefix.BaseAddress.GetAddressBytes();
        if (bits == 0) return [];
        if (bits % 8 == 0)
        {
            var n = bits / 8;
            return [new NftPayload(Nft.NFT_PAYLOAD_NETWORK_HEADER, offset, (uint)n), new NftCmp(Nft.NFT_CMP_EQ, bytes.AsSpan(0, n).ToArray())];
        }
        var mask = new byte[bytes.Length];
        for (var i = 0; i < bits / 8; i++) mask[i] = 0xff;
        mask[bits / 8] = (byte)(0xff << (8 - bits % 8));
        var value = new byte[bytes.Length];
        for (var i = 0; i < bytes.Length; i++) value[i] = (byte)(bytes[i] & mask[i]);
        return
        [
            new NftPayload(Nft.NFT_PAYLOAD_NETWORK_HEADER, offset, (uint)bytes.Length),
            new NftBitwise((uint)bytes.Length, mask, new byte[bytes.Length]),
            new NftCmp(Nft.NFT_CMP_EQ, value),
        ];
    }

    /// <summary>
    /// <c>ct state BITS</c> / <c>ct status BITS</c>: (reg &amp; bits) != 0; with <paramref name="set"/> false
    /// <c>ct status != BITS</c> (nft's form for "none of them"): (reg &amp; bits) == 0.
    /// </summary>
    public static NftExpr[] CtBits(uint key, uint bits, bool set = true)
    {
        var m = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(m, bits);
        return [new NftCt(key), new NftBitwise(4, m, new byte[4]), new NftCmp(set ? Nft.NFT_CMP_NEQ : Nft.NFT_CMP_EQ, new byte[4])];
    }

    /// <summary><c>fib daddr type local</c>.</summary>
    public static NftExpr[] DaddrIsLocal()
    {
        var v = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(v, Nft.RTN_LOCAL);
        return [new NftFib(Nft.NFTA_FIB_F_DADDR, Nft.NFT_FIB_RESULT_ADDRTYPE), new NftCmp(Nft.NFT_CMP_EQ, v)];
    }
}
