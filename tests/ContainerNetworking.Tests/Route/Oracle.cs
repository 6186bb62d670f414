using System.Text.Json;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.RouteLayer;

/// <summary>Reads kernel state back through iproute2 (<c>ip -j -d</c>, <c>bridge -j</c>): the independent oracle.</summary>
internal static class Oracle
{
    public static JsonElement? Link(string ns, string name)
    {
        var r = Cli.Run("ip", ["-n", ns, "-j", "-d", "link", "show", "dev", name], TimeSpan.FromSeconds(30));
        if (r.ExitCode != 0) return null;
        var a = JsonDocument.Parse(r.Stdout).RootElement.Clone();
        return a.GetArrayLength() == 1 ? a[0] : null;
    }

    public static string[] LinkNames(string ns) =>
        Cli.IpJson(ns, "link", "show").EnumerateArray().Select(l => l.GetProperty("ifname").GetString()!).Order(StringComparer.Ordinal).ToArray();

    public static string? Str(this JsonElement e, string property) =>
        e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static int? Int(this JsonElement e, string property) =>
        e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    public static bool HasFlag(this JsonElement link, string flag) =>
        link.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == flag);

    public static JsonElement[] Addresses(string ns, string dev) =>
        Cli.IpJson(ns, "addr", "show", "dev", dev)[0].GetProperty("addr_info").EnumerateArray().ToArray();

    public static JsonElement[] Routes(string ns, params string[] args) =>
        Cli.IpJson(ns, ["route", "show", .. args]).EnumerateArray().ToArray();

    public static JsonElement[] Fdb(string ns, string bridge)
    {
        var r = Cli.Run("bridge", ["-n", ns, "-j", "fdb", "show", "br", bridge], TimeSpan.FromSeconds(30)).Ok();
        return JsonDocument.Parse(string.IsNullOrWhiteSpace(r.Stdout) ? "[]" : r.Stdout).RootElement.Clone().EnumerateArray().ToArray();
    }
}
