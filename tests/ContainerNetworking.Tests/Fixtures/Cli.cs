using System.Diagnostics;
using System.Text.Json;

namespace ContainerNetworking.Tests.Fixtures;

/// <summary>
/// The iproute2 / nftables command-line tools, used only as independent oracles that read back what the library
/// did, and as traffic sources (ping, nc) inside test namespaces. The product itself never spawns them.
/// </summary>
public static class Cli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public Result Ok()
        {
            if (ExitCode != 0) throw new Xunit.Sdk.XunitException($"command failed ({ExitCode}): {Stderr}{Stdout}");
            return this;
        }
    }

    public static Result Run(string file, params string[] args) => Run(file, args, TimeSpan.FromSeconds(30));

    public static Result Run(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            try { p.Kill(true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeout}");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a command inside a named namespace with <c>ip netns exec</c>.</summary>
    public static Result InNs(string ns, params string[] command) => Run("ip", ["netns", "exec", ns, .. command], TimeSpan.FromSeconds(30));

    /// <summary><c>ip -j -d ARGS</c> inside a namespace, parsed.</summary>
    public static JsonElement IpJson(string ns, params string[] args)
    {
        var r = Run("ip", ["-n", ns, "-j", "-d", .. args], TimeSpan.FromSeconds(30)).Ok();
        var text = string.IsNullOrWhiteSpace(r.Stdout) ? "[]" : r.Stdout;
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>One ping (IPv4 or IPv6) from a namespace; true when answered.</summary>
    public static bool Ping(string ns, string address, int count = 1, int waitSeconds = 2) =>
        InNs(ns, "ping", "-c", count.ToString(), "-W", waitSeconds.ToString(), "-q", address).ExitCode == 0;
}
