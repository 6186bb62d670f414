using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ContainerNetworking.Bench;

/// <summary>
/// The bench must never change the root namespace. This reads what a mistake would change there — links (name,
/// index, master, kind, up/down flag), addresses, routes, the nf_tables ruleset (iptables-nft included, counters
/// ignored) and ip_forward — before and after each part, and aborts loudly when anything differs.
/// </summary>
public static partial class RootGuard
{
    private static string? _baseline;

    public static void Baseline() => _baseline = Snapshot();

    public static void Verify(string after)
    {
        if (_baseline is null) return;
        var now = Snapshot();
        if (now == _baseline) return;
        var msg = new StringBuilder();
        msg.AppendLine($"ROOT NAMESPACE CHANGED after {after}! The bench never changes it on purpose; aborting.");
        var a = _baseline.Split('\n').ToHashSet();
        var b = now.Split('\n').ToHashSet();
        foreach (var l in a.Except(b)) msg.AppendLine("  - " + l);
        foreach (var l in b.Except(a)) msg.AppendLine("  + " + l);
        throw new RootNamespaceChangedException(msg.ToString());
    }

    public static string Snapshot()
    {
        var sb = new StringBuilder();
        // Read from the bench's own process (it runs in the root namespace and never leaves it).
        var links = JsonDocument.Parse(Text(Sh.Run("ip", "-j", "-d", "link", "show").Stdout));
        foreach (var l in links.RootElement.EnumerateArray())
        {
            var kind = l.TryGetProperty("linkinfo", out var li) && li.TryGetProperty("info_kind", out var k) ? k.GetString() : "";
            var up = l.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "UP");
            var master = l.TryGetProperty("master", out var m) ? m.GetString() : "";
            sb.Append("link ").Append(l.GetProperty("ifindex").GetInt32()).Append(' ').Append(l.GetProperty("ifname").GetString())
              .Append(" kind=").Append(kind).Append(" master=").Append(master).Append(" up=").Append(up).Append('\n');
        }
        foreach (var line in Sh.Run("ip", "-o", "addr", "show").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            sb.Append("addr ").Append(Regex.Replace(line, @"valid_lft \S+ preferred_lft \S+", "")).Append('\n');
        foreach (var line in Sh.Run("ip", "route", "show", "table", "all").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            sb.Append("route ").Append(line.Trim()).Append('\n');
        if (Sh.Which("nft") is not null)
            foreach (var line in Sh.Run("nft", "list", "ruleset").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                sb.Append("nft ").Append(Counters().Replace(line, "counter")).Append('\n');
        sb.Append("ip_forward ").Append(File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim()).Append('\n');
        return sb.ToString();
    }

    private static string Text(string s) => string.IsNullOrWhiteSpace(s) ? "[]" : s;

    [GeneratedRegex(@"counter packets \d+ bytes \d+")]
    private static partial Regex Counters();
}

public sealed class RootNamespaceChangedException(string message) : Exception(message);
