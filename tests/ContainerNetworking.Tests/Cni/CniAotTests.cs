using System.Diagnostics;
using ContainerNetworking.Tests.Fixtures;
using ContainerNetworking.Tests.Help;

namespace ContainerNetworking.Tests.Cni;

/// <summary>
/// The NativeAOT single file that runtimes exec (./build.ps1 Cni → out/cni/containernetworking): the other tests
/// run the plugin through <c>dotnet containernetworking.dll</c>; this one execs the native binary. When it is missing
/// or older than the sources it is published first (slow: minutes), with the AOT warnings as errors.
/// </summary>
public sealed class CniAotTests
{
    private static readonly object Gate = new();

    public static string Binary
    {
        get
        {
            lock (Gate)
            {
                var root = ModuleMetadata.RepoRoot;
                var exe = Path.Combine(root, "out", "cni", "containernetworking");
                var newest = new[] { "src/ContainerNetworking.Cni", "src/ContainerNetworking.Core" }
                    .SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "*.cs*", SearchOption.AllDirectories))
                    .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
                    .Max(File.GetLastWriteTimeUtc);
                if (!File.Exists(exe) || File.GetLastWriteTimeUtc(exe) < newest)
                {
                    var r = Cli.Run("dotnet", ["publish", Path.Combine(root, "src/ContainerNetworking.Cni/ContainerNetworking.Cni.csproj"), "-c", "Release",
                        "--use-current-runtime", "-o", Path.Combine(root, "out", "cni"), "--nologo", "-v", "quiet", "-p:PublishAot=true"], TimeSpan.FromMinutes(20));
                    Assert.True(r.ExitCode == 0, $"the NativeAOT publish failed: {r.Stdout}{r.Stderr}");
                }
                return exe;
            }
        }
    }

    [Fact]
    public void TheNativeBinary_IsOneElfFile_AndServesAddCheckDel_InMilliseconds()
    {
        var exe = Binary;
        var head = new byte[4];
        using (var fs = File.OpenRead(exe)) fs.ReadExactly(head);
        Assert.Equal(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }, head);
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(exe)!, "containernetworking.dll")), "a single file, no managed assembly beside it");

        using var f = new CniFixture([exe]);
        var list = CniFixture.List("1.1.0", "aot", "cniaot0", "10.85.0.0/24");
        var ns = f.Container();
        var rt = CniFixture.Ports(new RuntimeConf("aot1", ns), (8090, 80));
        var sw = Stopwatch.StartNew();
        var r = f.Runtime.Add(list, rt);
        var add = sw.Elapsed;
        Assert.Equal("10.85.0.2/24", (string)r["ips"]![0]!["address"]!);
        f.Runtime.Check(list, rt).Ok();
        sw.Restart();
        f.Runtime.Del(list, rt).Ok();
        var del = sw.Elapsed;
        Assert.Empty(f.Manager.GetEndpoints("aot"));
        var version = f.Runtime.Exec("containernetworking", "VERSION", new System.Text.Json.Nodes.JsonObject { ["cniVersion"] = "1.1.0" }, null).Ok().Json;
        Assert.Contains("1.1.0", version["supportedVersions"]!.AsArray().Select(v => (string)v!));
        // Generous bounds (the machine is shared); the bench measures it properly.
        Assert.True(add < TimeSpan.FromSeconds(2) && del < TimeSpan.FromSeconds(2), $"ADD {add.TotalMilliseconds} ms, DEL {del.TotalMilliseconds} ms");
    }
}
