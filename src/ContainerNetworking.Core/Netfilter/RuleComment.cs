using System.Globalization;
using System.Net;

namespace ContainerNetworking.Netfilter;

/// <summary>
/// What a rule or map element of this module belongs to, written into its comment (nf_tables keeps up to 254
/// bytes of it) and read back from there: <c>cn:KIND WORD… [owner=OWNER]</c>, e.g. <c>cn:network br0 masq=1 icc=1
/// internal=0 lo=1 subnets=192.168.0.0/24 owner=network:red</c>, <c>cn:publish 8080-8090 owner=endpoint:…</c>,
/// <c>cn:allow br0 br1</c>. The one encoder and parser of these comments: every kind's spec is read back through
/// <see cref="Parse(string?)"/>.
/// </summary>
/// <param name="Kind">The tag after "cn:": base, network, masquerade, publish, allow.</param>
/// <param name="Words">The words after the tag, before the owner (the key of the rule and its spec).</param>
/// <param name="Owner">Who the rule belongs to (the rest of the comment after " owner="), or null.</param>
public sealed record RuleComment(string Kind, IReadOnlyList<string> Words, string? Owner = null)
{
    public const string Prefix = "cn:";
    public const string Base = "base";
    public const string Network = "network";
    public const string Masquerade = "masquerade";
    public const string Publish = "publish";
    public const string Allow = "allow";

    private const string OwnerMark = " owner=";

    /// <summary>The most characters an owner may have.</summary>
    public const int MaxOwnerLength = 64;

    /// <summary>The comment's text.</summary>
    public override string ToString() =>
        Prefix + Kind + (Words.Count == 0 ? "" : " " + string.Join(' ', Words)) + (Owner is null ? "" : OwnerMark + Owner);

    /// <summary>The comment of <paramref name="kind"/> with these words and owner.</summary>
    public static string Format(string kind, string? owner, params string[] words) => new RuleComment(kind, words, owner).ToString();

    /// <summary>Reads a comment back; null for a comment that is not this module's.</summary>
    public static RuleComment? Parse(string? comment)
    {
        if (comment is null || !comment.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var i = comment.IndexOf(OwnerMark, StringComparison.Ordinal);
        var owner = i < 0 ? null : comment[(i + OwnerMark.Length)..];
        var words = (i < 0 ? comment : comment[..i])[Prefix.Length..].Split(' ');
        return new RuleComment(words[0], words[1..], owner);
    }

    /// <summary>Parses a comment of one kind; null for any other.</summary>
    public static RuleComment? Parse(string? comment, string kind) => Parse(comment) is { } c && c.Kind == kind ? c : null;

    /// <summary>The word at <paramref name="index"/>, or null.</summary>
    public string? Word(int index) => index < Words.Count ? Words[index] : null;

    /// <summary>The value of a "key=value" word, or null.</summary>
    public string? Value(string key)
    {
        foreach (var w in Words)
            if (w.Length > key.Length && w[key.Length] == '=' && w.StartsWith(key, StringComparison.Ordinal)) return w[(key.Length + 1)..];
        return null;
    }

    /// <summary>Throws InvalidOwner unless <paramref name="owner"/> is null or 1–64 printable characters.</summary>
    public static void ValidateOwner(string? owner)
    {
        if (owner is null) return;
        if (owner.Length == 0 || owner.Length > MaxOwnerLength || owner.Any(char.IsControl))
            throw new ContainerNetworkingException("InvalidOwner", ErrorKind.InvalidArgument,
                $"The owner '{owner}' is not usable: give 1 to {MaxOwnerLength} printable characters (it is written into the rules' comments).");
    }

    // ---- the specs of each kind -------------------------------------------------------------------------------------

    /// <summary><c>cn:network BRIDGE masq=… icc=… internal=… lo=…[ routed=1] subnets=A,B[ owner=…]</c>: a bridge network's spec (on its set element).</summary>
    public static string ForNetwork(BridgeNetworkRules s) => Format(Network, s.Owner, [s.Bridge,
        "masq=" + Bit(s.Masquerade), "icc=" + Bit(s.InterContainerCommunication), "internal=" + Bit(s.Internal),
        "lo=" + Bit(s.LoopbackPublishing), .. (s.Routed ? ["routed=1"] : Array.Empty<string>()), "subnets=" + string.Join(',', s.Subnets)]);

    /// <summary><c>cn:network BRIDGE[ owner=…]</c>: the tag of a bridge network's rules.</summary>
    public static string ForNetworkRule(string bridge, string? owner) => Format(Network, owner, bridge);

    /// <summary>A bridge network's spec read back from <see cref="ForNetwork"/>; null for another comment.</summary>
    public BridgeNetworkRules? ToNetwork()
    {
        if (Kind != Network || Word(0) is not { } bridge) return null;
        var subnets = Value("subnets") is { Length: > 0 } s ? s.Split(',').Select(IPNetwork.Parse).ToList() : [];
        return new BridgeNetworkRules(bridge, subnets)
        {
            Masquerade = Value("masq") == "1",
            InterContainerCommunication = Value("icc") == "1",
            Internal = Value("internal") == "1",
            LoopbackPublishing = Value("lo") == "1",
            Routed = Value("routed") == "1",
            Owner = Owner,
        };
    }

    /// <summary>True when this is the tag of bridge network <paramref name="bridge"/> (its rules or its spec).</summary>
    public bool IsNetwork(string bridge) => Kind == Network && Word(0) == bridge;

    /// <summary><c>cn:masquerade SOURCE[ !EXCLUDED][ to=ADDRESS][ owner=…]</c>.</summary>
    public static string ForMasquerade(MasqueradeSpec s)
    {
        var words = new List<string> { s.Source.ToString() };
        if (s.ExcludeOutInterface is not null) words.Add("!" + s.ExcludeOutInterface);
        if (s.SnatAddress is not null) words.Add("to=" + Unmapped(s.SnatAddress));
        return Format(Masquerade, s.Owner, [.. words]);
    }

    /// <summary>A masquerade's spec read back from <see cref="ForMasquerade"/>; null for another comment.</summary>
    public MasqueradeSpec? ToMasquerade()
    {
        if (Kind != Masquerade || Word(0) is not { } source || !IPNetwork.TryParse(source, out var src)) return null;
        string? exclude = null;
        IPAddress? to = null;
        foreach (var w in Words.Skip(1))
        {
            if (w.StartsWith('!')) exclude = w[1..];
            else if (w.StartsWith("to=", StringComparison.Ordinal)) to = IPAddress.Parse(w[3..]);
        }
        return new MasqueradeSpec(src) { ExcludeOutInterface = exclude, SnatAddress = to, Owner = Owner };
    }

    /// <summary><c>cn:publish FIRST-LAST[ owner=…]</c>: the host port range a map element was published with.</summary>
    public static string ForPublish(int first, int last, string? owner) =>
        Format(Publish, owner, first.ToString(CultureInfo.InvariantCulture) + "-" + last.ToString(CultureInfo.InvariantCulture));

    /// <summary>The host port range of a <see cref="ForPublish"/> comment; null for another comment or a bad range.</summary>
    public (int First, int Last)? ToPublishedRange() =>
        Kind == Publish && Word(0) is { } r && Ports.TryParseRange(r, "host port", out var a, out var z) is null ? (a, z) : null;

    /// <summary><c>cn:allow A B[ owner=…]</c> with the bridges in ordinal order.</summary>
    public static string ForAllow(string a, string b, string? owner)
    {
        var (x, y) = OrderedPair(a, b);
        return Format(Allow, owner, x, y);
    }

    /// <summary>The (ordered) pair of an allow comment; null for another comment.</summary>
    public (string A, string B)? ToAllowPair() => Kind == Allow && Words.Count == 2 ? (Words[0], Words[1]) : null;

    /// <summary>Two bridge names in ordinal order.</summary>
    public static (string A, string B) OrderedPair(string a, string b) => string.CompareOrdinal(a, b) <= 0 ? (a, b) : (b, a);

    private static string Bit(bool b) => b ? "1" : "0";

    private static IPAddress Unmapped(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;
}
