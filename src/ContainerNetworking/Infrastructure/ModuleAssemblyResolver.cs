using System.Management.Automation;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace ContainerNetworking.Commands;

/// <summary>
/// Loads Tmds.LibC (the libc binding under ContainerNetworking.Core) for pwsh. Its assembly is built per
/// architecture and ships as <c>bin/runtimes/linux-&lt;arch&gt;/lib/&lt;tfm&gt;/Tmds.LibC.dll</c>; a .NET app finds
/// the right one through its deps.json, but pwsh reads no module's deps.json. So on Import-Module this picks the copy
/// for the architecture pwsh runs on (or fails the import with the reason) and answers the load context's
/// <see cref="AssemblyLoadContext.Resolving"/> for it. The hook is process-wide while imports are per runspace: it is
/// made by the first import and undone by the Remove-Module of the last one, so that removing the module in one
/// runspace never leaves another runspace that imported it unable to load Tmds.LibC.
/// </summary>
public sealed class ModuleAssemblyResolver : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private const string LibCName = "Tmds.LibC";
    private static string? _libCPath;
    private static int _imports;

    /// <summary>Called by pwsh when the module is imported.</summary>
    public void OnImport()
    {
        _libCPath = FindLibC(Path.GetDirectoryName(typeof(ModuleAssemblyResolver).Assembly.Location)!);
        if (Interlocked.Increment(ref _imports) == 1) LoadContext.Resolving += Resolve;
    }

    /// <summary>Called by pwsh when the module is removed.</summary>
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        if (Interlocked.Decrement(ref _imports) == 0) LoadContext.Resolving -= Resolve;
    }

    // The context that loaded the module (pwsh: the default one), where ContainerNetworking.Core asks for Tmds.LibC.
    private static AssemblyLoadContext LoadContext =>
        AssemblyLoadContext.GetLoadContext(typeof(ModuleAssemblyResolver).Assembly) ?? AssemblyLoadContext.Default;

    private static Assembly? Resolve(AssemblyLoadContext context, AssemblyName name) =>
        name.Name == LibCName && _libCPath is { } path ? context.LoadFromAssemblyPath(path) : null;

    /// <summary>The Tmds.LibC assembly for this process's architecture under <paramref name="moduleDirectory"/>.</summary>
    internal static string FindLibC(string moduleDirectory)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException($"ContainerNetworking works on Linux only (network namespaces, netlink); this is {RuntimeInformation.OSDescription}.");
        var arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            Architecture.Arm => "arm",
            var other => throw new PlatformNotSupportedException(
                $"ContainerNetworking runs on linux-x64, linux-arm64 and linux-arm (the architectures {LibCName}, its libc binding, is built for); this pwsh runs on {other}."),
        };
        var lib = Path.Combine(moduleDirectory, "runtimes", "linux-" + arch, "lib");
        var found = Directory.Exists(lib)
            ? Directory.GetDirectories(lib).Order(StringComparer.Ordinal).Select(tfm => Path.Combine(tfm, LibCName + ".dll")).FirstOrDefault(File.Exists)
            : null;
        return found ?? throw new FileNotFoundException(
            $"{LibCName} for linux-{arch} is missing: expected {Path.Combine(lib, "<tfm>", LibCName + ".dll")} next to ContainerNetworking.dll. " +
            "Build the module with ./build.ps1 Build (or install the package from ./build.ps1 Package), which lays out every architecture's copy.",
            Path.Combine(lib, LibCName + ".dll"));
    }
}
