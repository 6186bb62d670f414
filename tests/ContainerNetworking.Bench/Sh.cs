using System.Collections.Concurrent;
using System.Diagnostics;

namespace ContainerNetworking.Bench;

/// <summary>Runs the peers' programs (ip, iptables, nft, CNI plugins, netavark, the C floor). Every child is tracked
/// so that Ctrl-C can end it before the namespaces are swept.</summary>
public static class Sh
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    private static readonly ConcurrentDictionary<int, Process> Running = new();

    public static bool Exists(string path) => File.Exists(path);

    /// <summary>Finds a program on PATH (plus /usr/sbin, /sbin), or null.</summary>
    public static string? Which(string name)
    {
        if (name.Contains('/')) return File.Exists(name) ? name : null;
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "") + ":/usr/sbin:/sbin:/usr/local/sbin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = Path.Combine(dir, name);
            if (File.Exists(f)) return f;
        }
        return null;
    }

    public static Result Run(string file, IEnumerable<string> args, string? stdin = null,
        IDictionary<string, string>? env = null, bool check = true, int timeoutMs = 300_000)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        Cleanup.ThrowIfStopping();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{file} did not start");
        Running[p.Id] = p;
        try
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (stdin is not null)
            {
                p.StandardInput.Write(stdin);
                p.StandardInput.Close();
            }
            if (!p.WaitForExit(timeoutMs))
            {
                try { p.Kill(true); } catch (InvalidOperationException) { }
                throw new TimeoutException($"{Describe(file, args)} did not finish in {timeoutMs / 1000} s");
            }
            var r = new Result(p.ExitCode, stdout.Result, stderr.Result);
            if (check && r.ExitCode != 0)
                throw new CommandFailedException($"{Describe(file, args)} failed ({r.ExitCode}): {(r.Stderr + r.Stdout).Trim()}");
            return r;
        }
        finally { Running.TryRemove(p.Id, out _); }
    }

    public static Result Run(string file, params string[] args) => Run(file, (IEnumerable<string>)args);

    /// <summary><c>ip netns exec NS program args…</c>: the program runs in NS, with /sys remounted for NS.</summary>
    public static Result InNs(string ns, string file, IEnumerable<string> args, string? stdin = null,
        IDictionary<string, string>? env = null, bool check = true) =>
        Run("ip", ["netns", "exec", ns, file, .. args], stdin, env, check);

    /// <summary>Starts a long-running child (the floor) that the caller talks to over stdin/stdout.</summary>
    public static Process Start(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Cleanup.ThrowIfStopping();
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"{file} did not start");
        Running[p.Id] = p;
        p.Exited += (_, _) => Running.TryRemove(p.Id, out _);
        p.EnableRaisingEvents = true;
        return p;
    }

    public static void KillAll()
    {
        foreach (var p in Running.Values)
        {
            try { p.Kill(true); } catch (Exception) { }
        }
    }

    private static string Describe(string file, IEnumerable<string> args)
    {
        var s = file + " " + string.Join(' ', args);
        return s.Length > 300 ? s[..300] + "…" : s;
    }
}

public sealed class CommandFailedException(string message) : Exception(message);
