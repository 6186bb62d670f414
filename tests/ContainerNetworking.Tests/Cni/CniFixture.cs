using System.Text.Json.Nodes;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Cni;

/// <summary>
/// A throwaway namespace that plays the host (the plugin runs in it through <c>ip netns exec</c>), a temporary
/// state directory (CONTAINERNETWORKING_STATE_DIR for the plugin, so its records land in STATE/HOSTNAME as the
/// cmdlets' -NetNamespace HOSTNAME expects), a libcni-like runtime, and container namespaces deleted on Dispose.
/// </summary>
public sealed class CniFixture : IDisposable
{
    /// <summary>Our plugin through the runtime: <c>dotnet containernetworking.dll</c> (copied next to the tests).</summary>
    public static string[] DotnetPlugin => ["dotnet", Path.Combine(AppContext.BaseDirectory, "containernetworking.dll")];

    public CniFixture(string[]? plugin = null)
    {
        Namespaces = new TestNamespaces();
        Host = Namespaces.Create("cnihost");
        Host.Rtnl.SetLinkUp("lo");
        StateDir = Directory.CreateTempSubdirectory("cn-cni-").FullName;
        PluginCommand = plugin ?? DotnetPlugin;
        Env = new Dictionary<string, string> { [StateStore.StateDirVariable] = StateDir };
        Runtime = new CniRuntime(HostName, Path.Combine(StateDir, "cache"), CniRuntime.Plugins(PluginCommand), Env);
    }

    public TestNamespaces Namespaces { get; }
    public NetNamespace Host { get; }
    public string HostName => Host.Name!;
    public string StateDir { get; }
    public string[] PluginCommand { get; }
    public Dictionary<string, string> Env { get; }
    public CniRuntime Runtime { get; }

    /// <summary>The cmdlets' view of the same state (what Get-ContainerEndpoint -NetNamespace HOST reads).</summary>
    public ContainerNetworkManager Manager => new(Host, Path.Combine(StateDir, HostName));

    /// <summary>A new container namespace (as a runtime makes one), by path, deleted on Dispose.</summary>
    public string Container(string role = "ctr")
    {
        var ns = Namespaces.Create(role);
        var path = ns.Path;
        ns.Dispose();
        return path;
    }

    /// <summary>A conflist with our plugin alone, in the reference bridge plugin's shape.</summary>
    public static JsonObject List(string version, string name, string bridge, string subnet, Action<JsonObject>? tweak = null, string? rangeStart = null, string? rangeEnd = null)
    {
        var range = new JsonObject { ["subnet"] = subnet };
        if (rangeStart is not null) range["rangeStart"] = rangeStart;
        if (rangeEnd is not null) range["rangeEnd"] = rangeEnd;
        var plugin = new JsonObject
        {
            ["type"] = "containernetworking",
            ["bridge"] = bridge,
            ["isGateway"] = true,
            ["ipMasq"] = true,
            ["hairpinMode"] = true,
            ["ipam"] = new JsonObject
            {
                ["type"] = "host-local",
                ["ranges"] = new JsonArray(new JsonArray(range)),
                ["routes"] = new JsonArray(new JsonObject { ["dst"] = "0.0.0.0/0" }),
            },
            ["capabilities"] = new JsonObject { ["portMappings"] = true, ["ips"] = true, ["mac"] = true },
        };
        tweak?.Invoke(plugin);
        return new JsonObject { ["cniVersion"] = version, ["name"] = name, ["plugins"] = new JsonArray(plugin) };
    }

    public static RuntimeConf Ports(RuntimeConf rt, params (int Host, int Container)[] ports) => rt with
    {
        CapabilityArgs = new Dictionary<string, JsonNode>
        {
            ["portMappings"] = new JsonArray(ports.Select(p => (JsonNode)new JsonObject { ["hostPort"] = p.Host, ["containerPort"] = p.Container, ["protocol"] = "tcp" }).ToArray()),
        },
    };

    public void Dispose()
    {
        Namespaces.Dispose();
        try { Directory.Delete(StateDir, true); } catch (IOException) { }
    }
}
