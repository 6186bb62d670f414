using System.Diagnostics;

namespace ContainerNetworking.Tests.Fixtures;

/// <summary>Long-running programs a test starts inside its namespaces (listeners and the like), stopped on Dispose.</summary>
public sealed class Processes : IDisposable
{
    private readonly List<Process> _started = [];

    /// <summary><c>ip netns exec NS FILE ARGS…</c> in the background: the returned process is FILE itself (ip execs it).</summary>
    public Process StartInNs(string ns, string file, params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", ns, file }.Concat(args)) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        lock (_started) _started.Add(p);
        return p;
    }

    /// <summary>Waits until <c>ss ARGS</c> inside <paramref name="ns"/> lists at least <paramref name="count"/> sockets.</summary>
    public static void WaitForSockets(string ns, string ssArgs, int count = 1)
    {
        var sw = Stopwatch.StartNew();
        while (Cli.InNs(ns, ["ss", .. ssArgs.Split(' ')]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length < count)
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException($"no socket for ss {ssArgs} in {ns}");
            Thread.Sleep(20);
        }
    }

    public void Dispose()
    {
        lock (_started)
        {
            foreach (var p in _started)
            {
                try { p.Kill(true); } catch (InvalidOperationException) { }
                p.WaitForExit(5000);
                p.Dispose();
            }
            _started.Clear();
        }
    }
}
