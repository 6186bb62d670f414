using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ContainerNetworking.Tests.Cni;

/// <summary>What a runtime passes per attachment (libcni's RuntimeConf).</summary>
public sealed record RuntimeConf(string ContainerId, string? NetNs, string IfName = "eth0")
{
    public IReadOnlyList<(string Key, string Value)> Args { get; init; } = [];
    public IReadOnlyDictionary<string, JsonNode> CapabilityArgs { get; init; } = new Dictionary<string, JsonNode>();
}

/// <summary>One plugin execution: exit code, stdout (the result or error object), stderr (logs).</summary>
public sealed record PluginRun(int ExitCode, string Stdout, string Stderr)
{
    public JsonObject Json => JsonNode.Parse(Stdout)!.AsObject();
    public int ErrorCode => (int)Json["code"]!;

    public PluginRun Ok()
    {
        if (ExitCode != 0) throw new Xunit.Sdk.XunitException($"plugin failed ({ExitCode}): {Stdout}\n{Stderr}");
        return this;
    }
}

/// <summary>
/// Executes CNI plugins as libcni (containernetworking/cni libcni/api.go) does, inside a namespace that plays the
/// host (every exec goes through <c>ip netns exec HOST</c>): each plugin of a conflist gets its config with
/// <c>name</c> and <c>cniVersion</c> injected, <c>runtimeConfig</c> from the capabilities it declares, and
/// <c>prevResult</c> (ADD: the previous plugin's result; CHECK and DEL: the cached final result of the ADD, DEL in
/// reverse order); the final ADD result is cached per attachment; GC passes <c>cni.dev/valid-attachments</c> (and
/// the legacy <c>cni.dev/attachments</c>); STATUS runs every plugin.
/// </summary>
public sealed class CniRuntime(string hostNs, string cacheDir, Func<string, string[]> pluginCommand, IReadOnlyDictionary<string, string>? extraEnv = null)
{
    public const string ReferenceDir = "/usr/lib/cni";

    private readonly Dictionary<string, JsonObject> _cache = new(StringComparer.Ordinal);

    public string HostNs => hostNs;

    /// <summary>The command that runs a plugin type: ours from <paramref name="ours"/>, the others from /usr/lib/cni.</summary>
    public static Func<string, string[]> Plugins(string[] ours) => type => type == "containernetworking" ? ours : [Path.Combine(ReferenceDir, type)];

    public PluginRun Exec(string type, string command, JsonObject config, RuntimeConf? rt)
    {
        var argv = pluginCommand(type);
        var psi = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", hostNs }.Concat(argv)) psi.ArgumentList.Add(a);
        psi.Environment["CNI_COMMAND"] = command;
        psi.Environment["CNI_PATH"] = ReferenceDir + ":" + Path.GetDirectoryName(argv[^1]);
        if (rt is not null)
        {
            psi.Environment["CNI_CONTAINERID"] = rt.ContainerId;
            if (rt.NetNs is not null) psi.Environment["CNI_NETNS"] = rt.NetNs;
            psi.Environment["CNI_IFNAME"] = rt.IfName;
            if (rt.Args.Count > 0) psi.Environment["CNI_ARGS"] = string.Join(';', rt.Args.Select(p => p.Key + "=" + p.Value));
        }
        foreach (var (k, v) in extraEnv ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return Run(psi, config.ToJsonString());
    }

    /// <summary>Runs a prepared process with <paramref name="stdin"/>; also for raw environments in the error tests.</summary>
    public static PluginRun Run(ProcessStartInfo psi, string stdin)
    {
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(true);
            throw new TimeoutException("plugin did not finish in 60 s");
        }
        return new PluginRun(p.ExitCode, o.Result, e.Result);
    }

    /// <summary>libcni's buildOneConfig: the plugin's config with name, cniVersion, runtimeConfig and prevResult.</summary>
    public static JsonObject BuildOne(JsonObject list, JsonObject plugin, JsonObject? prevResult, RuntimeConf? rt)
    {
        var c = (JsonObject)plugin.DeepClone();
        c["name"] = list["name"]!.DeepClone();
        c["cniVersion"] = list["cniVersion"]!.DeepClone();
        if (prevResult is not null) c["prevResult"] = prevResult.DeepClone();
        if (rt is not null && c["capabilities"] is JsonObject caps)
        {
            var rc = new JsonObject();
            foreach (var (k, v) in caps)
                if (v is JsonValue b && b.TryGetValue<bool>(out var on) && on && rt.CapabilityArgs.TryGetValue(k, out var arg)) rc[k] = arg.DeepClone();
            if (rc.Count > 0) c["runtimeConfig"] = rc;
        }
        c.Remove("capabilities");
        return c;
    }

    private static IEnumerable<JsonObject> PluginsOf(JsonObject list) => list["plugins"]!.AsArray().Select(p => p!.AsObject());
    private static string Type(JsonObject p) => (string)p["type"]!;
    private string Key(JsonObject list, RuntimeConf rt) => $"{list["name"]}-{rt.ContainerId}-{rt.IfName}";

    public JsonObject? Cached(JsonObject list, RuntimeConf rt) => _cache.TryGetValue(Key(list, rt), out var r) ? r : null;

    /// <summary>AddNetworkList: the plugins in order, each getting the previous result; the final result is cached.</summary>
    public JsonObject Add(JsonObject list, RuntimeConf rt)
    {
        JsonObject? prev = null;
        foreach (var p in PluginsOf(list))
            prev = Exec(Type(p), "ADD", BuildOne(list, p, prev, rt), rt).Ok().Json;
        _cache[Key(list, rt)] = prev!;
        Directory.CreateDirectory(cacheDir);
        File.WriteAllText(Path.Combine(cacheDir, Key(list, rt)), prev!.ToJsonString());
        return prev!;
    }

    /// <summary>CheckNetworkList: every plugin with the cached result; the first failure is returned.</summary>
    public PluginRun Check(JsonObject list, RuntimeConf rt)
    {
        var cached = Cached(list, rt);
        PluginRun last = new(0, "", "");
        foreach (var p in PluginsOf(list))
        {
            last = Exec(Type(p), "CHECK", BuildOne(list, p, cached, rt), rt);
            if (last.ExitCode != 0) return last;
        }
        return last;
    }

    /// <summary>DelNetworkList: the plugins in reverse order, each with the cached result (or none); the cache entry goes.</summary>
    public PluginRun Del(JsonObject list, RuntimeConf rt, bool useCache = true)
    {
        var cached = useCache ? Cached(list, rt) : null;
        PluginRun last = new(0, "", "");
        foreach (var p in PluginsOf(list).Reverse())
        {
            last = Exec(Type(p), "DEL", BuildOne(list, p, cached, rt), rt);
            if (last.ExitCode != 0) return last;
        }
        _cache.Remove(Key(list, rt));
        return last;
    }

    /// <summary>GCNetworkList: every plugin with the still-valid attachments (under the 1.1 key, or the legacy one).</summary>
    public IReadOnlyList<PluginRun> Gc(JsonObject list, IEnumerable<RuntimeConf> valid, bool legacyKey = false)
    {
        var arr = new JsonArray(valid.Select(v => (JsonNode)new JsonObject { ["containerID"] = v.ContainerId, ["ifname"] = v.IfName }).ToArray());
        var runs = new List<PluginRun>();
        foreach (var p in PluginsOf(list))
        {
            var c = BuildOne(list, p, null, null);
            c[legacyKey ? "cni.dev/attachments" : "cni.dev/valid-attachments"] = arr.DeepClone();
            runs.Add(Exec(Type(p), "GC", c, null));
        }
        return runs;
    }

    /// <summary>GetStatusNetworkList: every plugin; the first failure is returned.</summary>
    public PluginRun Status(JsonObject list)
    {
        PluginRun last = new(0, "", "");
        foreach (var p in PluginsOf(list))
        {
            last = Exec(Type(p), "STATUS", BuildOne(list, p, null, null), null);
            if (last.ExitCode != 0) return last;
        }
        return last;
    }
}
