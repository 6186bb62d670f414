using System.Text.Json;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Netfilter;

/// <summary>The nft CLI as an oracle, always inside a test namespace (<c>ip netns exec NS nft …</c>).</summary>
public static class NftOracle
{
    /// <summary><c>nft -j list ruleset</c> as text (for byte-identical comparisons).</summary>
    public static string RulesetText(string ns) => Cli.InNs(ns, "nft", "-j", "list", "ruleset").Ok().Stdout;

    /// <summary><c>nft -j list ruleset</c>, the items of its "nftables" array.</summary>
    public static List<JsonElement> Ruleset(string ns)
    {
        using var doc = JsonDocument.Parse(RulesetText(ns));
        return doc.RootElement.GetProperty("nftables").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    public static IEnumerable<JsonElement> Items(string ns, string kind) =>
        Ruleset(ns).Where(e => e.TryGetProperty(kind, out _)).Select(e => e.GetProperty(kind));

    /// <summary><c>nft --debug=netlink list …</c>: the expressions as libnftnl prints them, without handles.</summary>
    public static string DebugNetlink(string ns, params string[] what) =>
        Cli.InNs(ns, ["nft", "--debug=netlink", .. what]).Ok().Stdout;

    /// <summary>Runs an nft command (inside the test namespace).</summary>
    public static void Run(string ns, params string[] args) => Cli.InNs(ns, ["nft", .. args]).Ok();
}
