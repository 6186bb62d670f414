using System.Text;

namespace ContainerNetworking.Netfilter;

/// <summary>An nf_tables address family (NFPROTO_*), as nft names them: ip, ip6, inet, arp, bridge, netdev.</summary>
public enum NftFamily : byte
{
    Unspec = Nft.NFPROTO_UNSPEC,
    Inet = Nft.NFPROTO_INET,
    IPv4 = Nft.NFPROTO_IPV4,
    Arp = Nft.NFPROTO_ARP,
    NetDev = Nft.NFPROTO_NETDEV,
    Bridge = Nft.NFPROTO_BRIDGE,
    IPv6 = Nft.NFPROTO_IPV6,
}

/// <summary>A netfilter hook (NF_INET_*).</summary>
public enum NftHook : uint
{
    Prerouting = Nft.NF_INET_PRE_ROUTING,
    Input = Nft.NF_INET_LOCAL_IN,
    Forward = Nft.NF_INET_FORWARD,
    Output = Nft.NF_INET_LOCAL_OUT,
    Postrouting = Nft.NF_INET_POST_ROUTING,
}

/// <summary>Names as nft prints them.</summary>
public static class NftText
{
    public static string Family(NftFamily f) => f switch
    {
        NftFamily.Inet => "inet", NftFamily.IPv4 => "ip", NftFamily.IPv6 => "ip6", NftFamily.Arp => "arp",
        NftFamily.Bridge => "bridge", NftFamily.NetDev => "netdev", _ => "unspec",
    };

    public static string Hook(NftHook h) => h switch
    {
        NftHook.Prerouting => "prerouting", NftHook.Input => "input", NftHook.Forward => "forward",
        NftHook.Output => "output", NftHook.Postrouting => "postrouting", _ => h.ToString(),
    };
}

/// <summary>A table (<c>nft add table FAMILY NAME</c>).</summary>
public sealed record NftTable(NftFamily Family, string Name)
{
    public uint Flags { get; init; }
    public ulong Handle { get; init; }
    /// <summary>How many chains, sets … the table holds (NFTA_TABLE_USE; read only).</summary>
    public uint Use { get; init; }
    public override string ToString() => $"table {NftText.Family(Family)} {Name}";
}

/// <summary>
/// A chain (<c>nft add chain FAMILY TABLE NAME '{ type T hook H priority P; policy accept; }'</c>); a base chain when
/// <see cref="Hook"/> is set, a regular chain (a jump target) otherwise.
/// </summary>
public sealed record NftChain(NftFamily Family, string Table, string Name)
{
    public ulong Handle { get; init; }
    public NftHook? Hook { get; init; }
    public int Priority { get; init; }
    /// <summary>"filter", "nat" or "route" (base chains).</summary>
    public string? Type { get; init; }
    /// <summary>NF_ACCEPT (1) or NF_DROP (0); base chains only.</summary>
    public int? Policy { get; init; }
    public bool IsBaseChain => Hook is not null;
    public override string ToString() => $"table {NftText.Family(Family)} {Table} chain {Name}";
}

/// <summary>A rule: a list of expressions, with its owner comment (NFTA_RULE_USERDATA, shown by nft as <c>comment</c>).</summary>
public sealed record NftRule(NftFamily Family, string Table, string Chain, IReadOnlyList<NftExpr> Expressions)
{
    public ulong Handle { get; init; }
    /// <summary>For add: the handle of the rule to add after (or, for insert, before); 0 = at the end/start.</summary>
    public ulong Position { get; init; }
    public string? Comment { get; init; }

    /// <summary>The first counter expression's packets and bytes (0 when the rule has no counter).</summary>
    public (ulong Packets, ulong Bytes) Counters =>
        Expressions.OfType<NftCounter>().Select(c => (c.Packets, c.Bytes)).FirstOrDefault();
}

/// <summary>
/// A set or map (<c>nft add map inet T NAME '{ type inet_proto . inet_service : ipv4_addr . inet_service; }'</c>).
/// Keys and data are raw bytes as the kernel holds them; a concatenated key gives each field 4-byte-aligned room
/// and lists the field lengths in <see cref="ConcatFieldLengths"/> (sent as NFTA_SET_DESC_CONCAT for interval sets, the
/// only ones the kernel takes it for).
/// </summary>
public sealed record NftSet(NftFamily Family, string Table, string Name)
{
    public ulong Handle { get; init; }
    public uint Flags { get; init; }
    /// <summary>nft's data type id of the key (see <see cref="Nft.ConcatType"/>), so that nft can print it.</summary>
    public uint KeyType { get; init; }
    public uint KeyLength { get; init; }
    public uint DataType { get; init; }
    public uint DataLength { get; init; }
    public IReadOnlyList<uint>? ConcatFieldLengths { get; init; }
    /// <summary>True for a set with a counter per element (<c>counter</c> in the set's definition).</summary>
    public bool Counters { get; init; }
    public string? Comment { get; init; }
    /// <summary>
    /// For nft's display only (set user data NFTNL_UDATA_SET_KEYBYTEORDER): 1 = host order (e.g. ifname), 2 = big endian;
    /// null sends none. Without it nft prints a host-order key such as an interface name wrongly.
    /// </summary>
    public uint? KeyByteOrder { get; init; }
    public bool IsMap => (Flags & Nft.NFT_SET_MAP) != 0;
}

/// <summary>One element of a set or map; <see cref="Packets"/>/<see cref="Bytes"/> are read back from a set with counters.</summary>
public sealed record NftSetElement(byte[] Key)
{
    public byte[]? Data { get; init; }
    /// <summary>For a verdict map: the verdict (and <see cref="Chain"/> for jump/goto).</summary>
    public int? Verdict { get; init; }
    public string? Chain { get; init; }
    public string? Comment { get; init; }
    public ulong Packets { get; init; }
    public ulong Bytes { get; init; }
}

/// <summary>libnftnl's user-data TLVs (u8 type, u8 length, value), the format nft reads comments from.</summary>
public static class NftUserData
{
    /// <summary>Encodes a comment as one TLV of <paramref name="type"/> with a NUL-terminated string.</summary>
    public static byte[] Comment(string comment, byte type = Nft.NFTNL_UDATA_RULE_COMMENT)
    {
        var n = Encoding.UTF8.GetByteCount(comment);
        if (n + 1 > 255) throw new ArgumentException($"The comment '{comment}' is longer than 254 bytes; shorten it.", nameof(comment));
        var b = new byte[n + 3];
        b[0] = type;
        b[1] = (byte)(n + 1);
        Encoding.UTF8.GetBytes(comment, b.AsSpan(2));
        return b;
    }

    /// <summary>Finds the TLV of <paramref name="type"/> and returns it as a string; null when absent or malformed.</summary>
    public static string? ReadComment(ReadOnlySpan<byte> udata, byte type = Nft.NFTNL_UDATA_RULE_COMMENT)
    {
        var pos = 0;
        while (pos + 2 <= udata.Length)
        {
            var t = udata[pos];
            var len = udata[pos + 1];
            if (pos + 2 + len > udata.Length) return null;
            if (t == type)
            {
                var v = udata.Slice(pos + 2, len);
                var nul = v.IndexOf((byte)0);
                return Encoding.UTF8.GetString(nul >= 0 ? v[..nul] : v);
            }
            pos += 2 + len;
        }
        return null;
    }
}
