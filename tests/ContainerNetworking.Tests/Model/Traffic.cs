using System.Diagnostics;

namespace ContainerNetworking.Tests.Model;

/// <summary>TCP traffic inside test namespaces with socat: a listener that answers each connection, and a client.</summary>
public static class Traffic
{
    /// <summary>
    /// Starts <c>socat TCP-LISTEN:PORT,fork SYSTEM:'echo …'</c> in a namespace; each connection gets
    /// <paramref name="reply"/> followed by the client's address as the listener sees it ($SOCAT_PEERADDR).
    /// </summary>
    public static Listener Listen(string ns, int port, string reply, string bind = "")
    {
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "netns", "exec", ns, "socat", $"TCP-LISTEN:{port},reuseaddr,fork{(bind.Length > 0 ? ",bind=" + bind : "")}", $"SYSTEM:echo {reply} $SOCAT_PEERADDR" })
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        // Ready when the socket listens (ss inside the namespace); no sleeping on a guess.
        for (var i = 0; i < 100; i++)
        {
            var ss = Fixtures.Cli.InNs(ns, "ss", "-Hltn", $"sport = :{port}");
            if (ss.Stdout.Contains($":{port}")) break;
            Thread.Sleep(20);
        }
        return new Listener(p);
    }

    /// <summary>Connects from a namespace and returns what the listener said (trimmed), or null when nothing answered.</summary>
    public static string? Fetch(string ns, string host, int port)
    {
        var target = host.Contains(':') ? $"[{host}]" : host;
        var r = Fixtures.Cli.Run("ip", ["netns", "exec", ns, "socat", "-T2", "-", $"TCP:{target}:{port},connect-timeout=2"], TimeSpan.FromSeconds(10));
        var s = r.Stdout.Trim();
        return r.ExitCode == 0 && s.Length > 0 ? s : null;
    }

    public sealed class Listener(Process process) : IDisposable
    {
        public void Dispose()
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit(5000);
            process.Dispose();
        }
    }
}
