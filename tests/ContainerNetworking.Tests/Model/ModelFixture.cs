using System.Net;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Model;

/// <summary>
/// One throwaway namespace that plays the host, a temporary state directory, and a manager bound to both.
/// Container namespaces made through <see cref="Container"/> are tracked and deleted on Dispose.
/// </summary>
public sealed class ModelFixture : IDisposable
{
    public ModelFixture()
    {
        Namespaces = new TestNamespaces();
        Host = Namespaces.Create("host");
        Host.Rtnl.SetLinkUp("lo");
        StateDir = Directory.CreateTempSubdirectory("cn-state-").FullName;
        Manager = new ContainerNetworkManager(Host, StateDir);
    }

    public TestNamespaces Namespaces { get; }
    public NetNamespace Host { get; }
    public string HostName => Host.Name!;
    public string StateDir { get; }
    public ContainerNetworkManager Manager { get; }

    /// <summary>A unique namespace name for a container, deleted on Dispose if the test leaves it.</summary>
    public string Container(string role)
    {
        var name = TestNamespaces.UniqueName(role);
        Track(name);
        return name;
    }

    private readonly List<string> _names = [];

    /// <summary>The namespace names tracked so far (<see cref="Track"/>), whether they exist or not.</summary>
    public IReadOnlyList<string> TrackedNames
    {
        get
        {
            lock (_names) return [.. _names];
        }
    }

    /// <summary>A namespace name the code under test may create: deleted on Dispose, and part of <see cref="Snapshot"/>.</summary>
    public void Track(string name)
    {
        Namespaces.Track(name);
        lock (_names) _names.Add(name);
    }

    /// <summary>Connects a new namespace to a network.</summary>
    public ContainerEndpoint Run(string network, string role, params string[] publish) =>
        Manager.Connect(new EndpointSpec { Network = network, Namespace = Container(role), CreateNamespace = true, Publish = publish });

    /// <summary>
    /// Everything the library could have changed on the host: links (name, master, up), the nft ruleset (stateless: the
    /// rules, not the counters, which any stray packet such as IPv6 neighbour discovery moves), state files, namespaces.
    /// </summary>
    public string Snapshot()
    {
        var links = Cli.IpJson(HostName, "link", "show").EnumerateArray()
            .Select(l => $"{l.GetProperty("ifname").GetString()}|{(l.TryGetProperty("master", out var m) ? m.GetString() : "")}|{AdminFlags(l.GetProperty("flags"))}")
            .OrderBy(s => s, StringComparer.Ordinal);
        var nft = Cli.InNs(HostName, "nft", "-s", "list", "ruleset").Ok().Stdout;
        // The store removes its directory once the last network is gone: absent is as empty.
        var files = (Directory.Exists(StateDir) ? Directory.EnumerateFiles(StateDir, "*", SearchOption.AllDirectories) : [])
            // Spares (StateStore.SpareDirectory) are recycled inodes: how many there are and what they hold means nothing.
            .Where(f => !f.EndsWith("/.lock", StringComparison.Ordinal) && !f.StartsWith(Path.Combine(StateDir, StateStore.SpareDirName) + "/", StringComparison.Ordinal))
            .Select(f => f[StateDir.Length..] + "=" + File.ReadAllText(f)).OrderBy(s => s, StringComparer.Ordinal);
        string netns;
        lock (_names) netns = string.Join(",", _names.Where(NetNamespace.Exists));
        return string.Join("\n", links) + "\n--nft--\n" + nft + "\n--state--\n" + string.Join("\n", files) + "\n--netns--\n" + netns;
    }

    // The flags the library sets (UP, ...), not the carrier state the kernel settles on its own a moment after a veth
    // or bridge changes (LOWER_UP, NO-CARRIER, M-DOWN), which made "changes nothing" snapshots fail now and then.
    private static string AdminFlags(System.Text.Json.JsonElement flags) =>
        string.Join(",", flags.EnumerateArray().Select(f => f.GetString()).Where(f => f is not ("LOWER_UP" or "NO-CARRIER" or "M-DOWN")));

    public void Dispose()
    {
        Namespaces.Dispose();
        try { Directory.Delete(StateDir, recursive: true); } catch (IOException) { }
    }

    public static IPNetwork Net(string s) => AddressMath.ParseSubnet(s);
    public static IPAddress Ip(string s) => IPAddress.Parse(s);
}

/// <summary>The "outside world": a namespace joined to the host by a veth, 10.99.0.1 (host) — 10.99.0.2 (outside).</summary>
public static class Outside
{
    public const string HostAddress = "10.99.0.1";
    public const string Address = "10.99.0.2";

    /// <summary>Creates the outside namespace and the uplink; the outside has no route to any container subnet.</summary>
    public static string Create(ModelFixture f)
    {
        var outside = f.Namespaces.Create("outside");
        f.Host.Rtnl.CreateVeth("uplink0", "eth0", outside.Handle, new global::ContainerNetworking.Route.VethOptions { Up = true });
        f.Host.Rtnl.AddAddress("uplink0", IPAddress.Parse(HostAddress), 24);
        outside.Rtnl.SetLinkUp("lo");
        outside.Rtnl.SetLinkUp("eth0");
        outside.Rtnl.AddAddress("eth0", IPAddress.Parse(Address), 24);
        return outside.Name!;
    }
}
