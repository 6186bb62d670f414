using System.Diagnostics;
using System.Globalization;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Tests.Fixtures;

/// <summary>
/// Throwaway network namespaces for one test (pyroute2's fixtures/iproute idea). Every namespace gets a unique
/// name "cnt-ROLE-PID-N", is created through the library and is deleted on Dispose, pass or fail. Namespaces that a
/// killed earlier run left behind (their PID is gone) are swept on first use. Tests never touch the root namespace.
/// </summary>
public sealed class TestNamespaces : IDisposable
{
    public const string Prefix = "cnt-";
    private static int _counter;
    private static int _swept;
    private readonly List<(string Name, NetNamespace? Handle)> _created = [];

    public TestNamespaces()
    {
        if (Interlocked.Exchange(ref _swept, 1) == 0) SweepStale();
    }

    /// <summary>A unique namespace name for a role such as "host" or "outside".</summary>
    public static string UniqueName(string role) =>
        $"{Prefix}{role}-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Interlocked.Increment(ref _counter).ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Creates a namespace that this fixture deletes on Dispose.</summary>
    public NetNamespace Create(string role)
    {
        var ns = NetNamespace.Create(UniqueName(role));
        lock (_created) _created.Add((ns.Name!, ns));
        return ns;
    }

    /// <summary>Registers a namespace created elsewhere (by the code under test) so it is deleted on Dispose.</summary>
    public void Track(string name)
    {
        lock (_created) _created.Add((name, null));
    }

    public void Dispose()
    {
        lock (_created)
        {
            foreach (var (name, handle) in _created)
            {
                handle?.Dispose();
                if (NetNamespace.Exists(name))
                {
                    try { NetNamespace.Delete(name); } catch (Exception) { /* best effort; SweepStale catches the rest */ }
                }
                DeleteEtc(name);
            }
            _created.Clear();
        }
    }

    /// <summary>Deletes test namespaces of processes that no longer run.</summary>
    public static void SweepStale()
    {
        foreach (var name in NetNamespace.ListNames())
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            var parts = name.Split('-');
            if (parts.Length < 4 || !int.TryParse(parts[^2], out var pid)) continue;
            if (pid == Environment.ProcessId || Directory.Exists($"/proc/{pid}")) continue;
            try { NetNamespace.Delete(name); } catch (Exception) { }
            DeleteEtc(name);
        }
    }

    /// <summary>
    /// /etc/netns/NAME of a test namespace (hosts and resolv.conf the model writes for a container), if a test left it:
    /// only names this fixture made (unique, with the PID), never another namespace's.
    /// </summary>
    public static void DeleteEtc(string name)
    {
        var dir = Path.Combine(NetNamespace.EtcDirectory, name);
        try
        {
            // A link to a network's directory of name files (the usual case): the link only, never what it leads to.
            if (new FileInfo(dir).LinkTarget is not null) File.Delete(dir);
            else if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        catch (IOException) { }
    }
}
