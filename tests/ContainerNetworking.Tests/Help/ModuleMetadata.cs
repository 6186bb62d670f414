using System.Reflection;
using System.Runtime.InteropServices;

namespace ContainerNetworking.Tests.Help;

/// <summary>A parameter of a cmdlet as PowerShell would see it: name, aliases, parameter sets.</summary>
public sealed record ParameterMeta(string Name, IReadOnlyList<string> Aliases, IReadOnlyList<string> ParameterSets, bool Mandatory, string TypeName);

/// <summary>A cmdlet as its compiled metadata declares it.</summary>
public sealed record CmdletMeta(
    string Name,
    string Verb,
    string Noun,
    string ClassName,
    bool SupportsShouldProcess,
    string? DefaultParameterSet,
    IReadOnlyList<string> OutputTypes,
    IReadOnlyList<ParameterMeta> Parameters)
{
    /// <summary>The parameter sets the cmdlet has ("__AllParameterSets" when it declares none).</summary>
    public IReadOnlyList<string> ParameterSets
    {
        get
        {
            var sets = Parameters.SelectMany(p => p.ParameterSets).Where(s => s != ModuleMetadata.AllSets).Distinct().ToList();
            return sets.Count == 0 ? [ModuleMetadata.AllSets] : sets;
        }
    }

    /// <summary>Every parameter a user can pass, ShouldProcess's -WhatIf/-Confirm included (not the common parameters).</summary>
    public IReadOnlyList<string> DocumentableParameters =>
        SupportsShouldProcess ? [.. Parameters.Select(p => p.Name), "WhatIf", "Confirm"] : [.. Parameters.Select(p => p.Name)];

    public override string ToString() => Name;
}

/// <summary>
/// Reads the cmdlets of the compiled module (bin/…/module/ContainerNetworking.dll, copied there by the test project)
/// with <see cref="MetadataLoadContext"/>: nothing is executed and no PowerShell runtime is needed, so the help check
/// runs wherever <c>dotnet test</c> runs.
/// </summary>
public static class ModuleMetadata
{
    public const string AllSets = "__AllParameterSets";
    public const string ModuleName = "ContainerNetworking";
    private const string Sma = "System.Management.Automation";

    private static readonly Lazy<IReadOnlyList<CmdletMeta>> Lazy = new(Load);

    public static IReadOnlyList<CmdletMeta> Cmdlets => Lazy.Value;

    /// <summary>The folder with the module's dll, its Core dll and the SMA reference assembly.</summary>
    public static string ModuleDirectory => Path.Combine(AppContext.BaseDirectory, "module");

    /// <summary>The repository root (where ContainerNetworking.psd1 and en-US/ are), recorded at build time.</summary>
    public static string RepoRoot
    {
        get
        {
            var recorded = typeof(ModuleMetadata).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "ContainerNetworking.RepoRoot")?.Value;
            if (recorded is not null && File.Exists(Path.Combine(recorded, ModuleName + ".psd1"))) return recorded;
            // Fallback: walk up from the test binaries (a build without the attribute, or a moved tree).
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, ModuleName + ".psd1"))) return d.FullName;
            throw new InvalidOperationException("Cannot find the repository root (ContainerNetworking.psd1).");
        }
    }

    private static IReadOnlyList<CmdletMeta> Load()
    {
        var moduleDll = Path.Combine(ModuleDirectory, ModuleName + ".dll");
        if (!File.Exists(moduleDll))
            throw new InvalidOperationException($"The module assembly is not at {moduleDll}: the test project's CopyModuleForHelpCheck target should have copied it there.");
        var paths = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll").ToList();
        paths.AddRange(Directory.GetFiles(ModuleDirectory, "*.dll"));
        using var mlc = new MetadataLoadContext(new PathAssemblyResolver(paths));
        var asm = mlc.LoadFromAssemblyPath(moduleDll);
        var result = new List<CmdletMeta>();
        foreach (var t in asm.GetTypes())
        {
            if (t.IsAbstract || !t.IsPublic) continue;
            var cmdlet = t.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == $"{Sma}.CmdletAttribute");
            if (cmdlet is null) continue;
            var verb = (string)cmdlet.ConstructorArguments[0].Value!;
            var noun = (string)cmdlet.ConstructorArguments[1].Value!;
            var ssp = Named(cmdlet, "SupportsShouldProcess") is true;
            var defaultSet = Named(cmdlet, "DefaultParameterSetName") as string;
            var outputs = new List<string>();
            foreach (var o in t.GetCustomAttributesData().Where(a => a.AttributeType.FullName == $"{Sma}.OutputTypeAttribute"))
            {
                foreach (var arg in o.ConstructorArguments)
                {
                    if (arg.Value is IEnumerable<CustomAttributeTypedArgument> items)
                        outputs.AddRange(items.Select(i => i.Value is Type ty ? ty.FullName! : i.Value?.ToString() ?? ""));
                }
            }
            var parameters = new List<ParameterMeta>();
            foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var attrs = p.GetCustomAttributesData();
                var pattrs = attrs.Where(a => a.AttributeType.FullName == $"{Sma}.ParameterAttribute").ToList();
                if (pattrs.Count == 0) continue;
                var sets = pattrs.Select(a => Named(a, "ParameterSetName") as string ?? AllSets).ToList();
                var mandatory = pattrs.Any(a => Named(a, "Mandatory") is true);
                var aliases = attrs.Where(a => a.AttributeType.FullName == $"{Sma}.AliasAttribute")
                    .SelectMany(a => a.ConstructorArguments)
                    .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> items ? items.Select(i => (string)i.Value!) : [(string)arg.Value!])
                    .ToList();
                parameters.Add(new ParameterMeta(p.Name, aliases, sets, mandatory, p.PropertyType.Name));
            }
            result.Add(new CmdletMeta($"{verb}-{noun}", verb, noun, t.FullName!, ssp, defaultSet, outputs, parameters));
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }

    private static object? Named(CustomAttributeData a, string name) =>
        a.NamedArguments.FirstOrDefault(n => n.MemberName == name) is { MemberInfo: not null } n ? n.TypedValue.Value : null;
}
