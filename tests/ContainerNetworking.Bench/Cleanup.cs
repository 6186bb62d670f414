using System.Globalization;
using System.Runtime.InteropServices;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Bench;

/// <summary>
/// Every namespace the bench (or a peer it runs) creates is named "cnb-PID-…", so that it can be found and removed
/// without bookkeeping: at the end, on Ctrl-C/SIGTERM/SIGHUP, and at the next start if this process was killed hard
/// (a stale "cnb-PID-" whose PID no longer runs).
/// </summary>
public static class Cleanup
{
    public const string Prefix = "cnb-";
    public static readonly string Own = Prefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-";
    private static volatile bool _stopping;
    private static readonly List<PosixSignalRegistration> Registrations = [];
    private static string? _tempDir;

    public static bool Stopping => _stopping;

    public static void ThrowIfStopping()
    {
        if (_stopping) throw new OperationCanceledException("interrupted");
    }

    /// <summary>A namespace name owned by this run, e.g. "cnb-1234-host".</summary>
    public static string Name(string role) => Own + role;

    /// <summary>A private temp directory for the floor, CNI's IPAM state and netavark's config; removed at the end.</summary>
    public static string TempDir
    {
        get
        {
            if (_tempDir is null)
            {
                _tempDir = Path.Combine(Path.GetTempPath(), Own + Guid.NewGuid().ToString("N")[..8]);
                Directory.CreateDirectory(_tempDir);
            }
            return _tempDir;
        }
    }

    public static void InstallHandlers()
    {
        foreach (var sig in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
            Registrations.Add(PosixSignalRegistration.Create(sig, ctx =>
            {
                ctx.Cancel = true;
                Interrupt(ctx.Signal.ToString());
            }));
    }

    private static void Interrupt(string why)
    {
        if (_stopping) return;
        _stopping = true;
        Console.Error.WriteLine($"\nbench: {why}: stopping children and removing the bench's namespaces …");
        Sh.KillAll();
        var n = SweepOwn();
        Thread.Sleep(300); // a namespace being created at this instant is gone by the second sweep
        n += SweepOwn();
        RemoveTemp();
        Console.Error.WriteLine($"bench: removed {n} namespace(s); the root namespace was never touched.");
        Environment.Exit(130);
    }

    /// <summary>Removes the namespaces of earlier bench runs whose process is gone.</summary>
    public static int SweepStale()
    {
        var removed = 0;
        foreach (var name in NetNamespace.ListNames())
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            var parts = name.Split('-');
            if (parts.Length < 3 || !int.TryParse(parts[1], out var pid)) continue;
            if (pid == Environment.ProcessId || Directory.Exists($"/proc/{pid}")) continue;
            if (TryDelete(name)) removed++;
        }
        return removed;
    }

    /// <summary>Removes every namespace of this run.</summary>
    public static int SweepOwn()
    {
        var removed = 0;
        foreach (var name in NetNamespace.ListNames())
            if (name.StartsWith(Own, StringComparison.Ordinal) && TryDelete(name)) removed++;
        return removed;
    }

    /// <summary>Removes this run's namespaces whose name starts with Own + <paramref name="role"/>.</summary>
    public static int SweepRole(string role)
    {
        var removed = 0;
        foreach (var name in NetNamespace.ListNames())
            if (name.StartsWith(Own + role, StringComparison.Ordinal) && TryDelete(name)) removed++;
        return removed;
    }

    /// <summary>
    /// Removes the /etc/netns directories of this run's namespaces whose name starts with Own + <paramref name="role"/>:
    /// the hosts and resolv.conf files Connect-ContainerNetwork writes, which a pwsh that died half-way leaves behind.
    /// </summary>
    public static void RemoveEtcNetns(string role)
    {
        if (!Directory.Exists("/etc/netns")) return;
        foreach (var d in Directory.GetDirectories("/etc/netns", Name(role) + "*"))
            try { Directory.Delete(d, recursive: true); } catch (IOException) { }
    }

    private static bool TryDelete(string name)
    {
        try
        {
            NetNamespace.Delete(name);
            return true;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"bench: could not remove namespace {name}: {e.Message}");
            return false;
        }
    }

    public static void RemoveTemp()
    {
        var d = _tempDir;
        if (d is null) return;
        try { Directory.Delete(d, recursive: true); } catch (Exception) { }
    }
}
