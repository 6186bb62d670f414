using System.Text.RegularExpressions;

namespace ContainerNetworking.Tests.Help;

/// <summary>
/// The rules of the help gate (in the spirit of Pester's tst/Help.Tests.ps1), as pure functions that return the
/// problems they find, so that the rules themselves are tested on broken input (HelpCheckerSelfTests).
/// </summary>
public static partial class HelpChecker
{
    /// <summary>Verbs that change state: their cmdlets must support -WhatIf/-Confirm.</summary>
    public static readonly string[] StateChangingVerbs =
        ["New", "Set", "Remove", "Add", "Enable", "Disable", "Publish", "Unpublish", "Connect", "Disconnect", "Repair", "Invoke", "Clear", "Reset", "Rename", "Move", "Update", "Register", "Unregister", "Start", "Stop"];

    /// <summary>State-changing cmdlets without ShouldProcess, with the reason.</summary>
    public static readonly Dictionary<string, string> ShouldProcessExempt = new()
    {
        // Like Invoke-Command and the call operator: it runs the program it is given and cannot know what that
        // program changes; -WhatIf could only lie. It changes nothing itself.
        ["Invoke-NetNamespace"] = "runs an arbitrary program, like Invoke-Command; the module itself changes nothing",
    };

    /// <summary>Cmdlets without -NetNamespace, with the reason.</summary>
    public static readonly Dictionary<string, string> NetNamespaceExempt = new()
    {
        ["New-NetNamespace"] = "the namespace is the subject, named by -Name",
        ["Get-NetNamespace"] = "the namespace is the subject, named by -Name/-Path/-ProcessId",
        ["Remove-NetNamespace"] = "the namespace is the subject, named by -Name",
    };

    /// <summary>Output types that need no view of their own.</summary>
    public static readonly HashSet<string> NoViewNeeded = ["System.Void", "System.String", "System.Boolean", "System.Int32", "System.Object", "System.IO.FileInfo", "System.Diagnostics.Process"];

    public static List<string> CheckMarkdown(CmdletMeta cmdlet, HelpMarkdown doc)
    {
        var problems = new List<string>();
        if (doc.FrontMatter.GetValueOrDefault("external help file") != $"{ModuleMetadata.ModuleName}.dll-Help.xml")
            problems.Add($"front matter 'external help file' must be {ModuleMetadata.ModuleName}.dll-Help.xml");
        if (doc.FrontMatter.GetValueOrDefault("Module Name") != ModuleMetadata.ModuleName)
            problems.Add($"front matter 'Module Name' must be {ModuleMetadata.ModuleName}");
        if (!doc.FrontMatter.ContainsKey("online version")) problems.Add("front matter has no 'online version'");
        if (doc.Title != cmdlet.Name) problems.Add($"title is '{doc.Title}', expected '# {cmdlet.Name}'");

        foreach (var s in new[] { "SYNOPSIS", "DESCRIPTION" })
        {
            var text = doc.Section(s);
            if (string.IsNullOrWhiteSpace(text)) problems.Add($"## {s} is missing or empty");
            else if (HelpMarkdown.IsPlaceholder(text)) problems.Add($"## {s} is a placeholder");
        }
        foreach (var s in new[] { "INPUTS", "OUTPUTS", "NOTES" })
        {
            if (!doc.Sections.ContainsKey(s)) problems.Add($"## {s} is missing");
            else if ((doc.Section(s) + string.Concat(doc.Sub(s).Select(x => x.Heading + x.Body))).Trim() is var all && (all.Length == 0 || HelpMarkdown.IsPlaceholder(all)))
                problems.Add($"## {s} is empty or a placeholder");
        }

        // Examples: at least two, each with code and no placeholder.
        var examples = doc.Sub("EXAMPLES");
        if (examples.Count < 2) problems.Add($"## EXAMPLES has {examples.Count} example(s); at least 2 are required");
        foreach (var (heading, body) in examples)
        {
            if (!body.Contains("```", StringComparison.Ordinal)) problems.Add($"example '{heading}' has no code block");
            if (HelpMarkdown.IsPlaceholder(heading + body)) problems.Add($"example '{heading}' is a placeholder");
        }

        // Syntax: one block per parameter set.
        var syntax = doc.Sub("SYNTAX").Select(x => Regex.Replace(x.Heading, @"\s*\(Default\)\s*$", "")).ToHashSet(StringComparer.Ordinal);
        foreach (var set in cmdlet.ParameterSets)
        {
            if (!syntax.Contains(set)) problems.Add($"## SYNTAX has no '### {set}' block for parameter set {set}");
        }
        foreach (var extra in syntax.Except(cmdlet.ParameterSets)) problems.Add($"## SYNTAX documents parameter set '{extra}', which the cmdlet does not have");

        // Parameters: every one documented, nothing documented that does not exist, aliases as declared.
        var documented = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var hasCommon = false;
        foreach (var (heading, body) in doc.Sub("PARAMETERS"))
        {
            if (heading == "CommonParameters") { hasCommon = true; continue; }
            if (!heading.StartsWith('-')) { problems.Add($"## PARAMETERS has a heading '{heading}' that is not '### -Name'"); continue; }
            documented[heading[1..]] = body;
        }
        if (!hasCommon) problems.Add("## PARAMETERS has no '### CommonParameters'");
        foreach (var name in cmdlet.DocumentableParameters)
        {
            if (!documented.TryGetValue(name, out var body)) { problems.Add($"parameter -{name} is not documented"); continue; }
            var text = body.Split("```")[0].Trim();
            if (text.Length == 0 || HelpMarkdown.IsPlaceholder(text)) problems.Add($"parameter -{name} has no description");
            var meta = cmdlet.Parameters.FirstOrDefault(p => p.Name == name);
            if (meta is not null)
            {
                var docAliases = (HelpMarkdown.YamlValue(body, "Aliases") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (!docAliases.Order(StringComparer.OrdinalIgnoreCase).SequenceEqual(meta.Aliases.Order(StringComparer.OrdinalIgnoreCase), StringComparer.OrdinalIgnoreCase))
                    problems.Add($"parameter -{name}: documented aliases [{string.Join(", ", docAliases)}] differ from the declared [{string.Join(", ", meta.Aliases)}]");
            }
        }
        foreach (var name in documented.Keys.Except(cmdlet.DocumentableParameters, StringComparer.OrdinalIgnoreCase))
            problems.Add($"parameter -{name} is documented but the cmdlet has no such parameter");
        return problems;
    }

    public static List<string> CheckDesign(CmdletMeta cmdlet)
    {
        var problems = new List<string>();
        if (StateChangingVerbs.Contains(cmdlet.Verb) && !cmdlet.SupportsShouldProcess && !ShouldProcessExempt.ContainsKey(cmdlet.Name))
            problems.Add($"{cmdlet.Name} changes state (verb {cmdlet.Verb}) but does not support ShouldProcess (-WhatIf/-Confirm)");
        if (!cmdlet.Parameters.Any(p => p.Name == "NetNamespace") && !NetNamespaceExempt.ContainsKey(cmdlet.Name))
            problems.Add($"{cmdlet.Name} has no -NetNamespace parameter (add it, e.g. by deriving from NamespacedCmdlet, or list it in NetNamespaceExempt with a reason)");
        if (cmdlet.OutputTypes.Count == 0) problems.Add($"{cmdlet.Name} has no [OutputType]");
        return problems;
    }

    /// <summary>The cmdlet names in the manifest's CmdletsToExport, and whether it uses a wildcard.</summary>
    public static (List<string> Names, bool Wildcard) ExportedCmdlets(string psd1Text)
    {
        var m = Regex.Match(psd1Text, @"CmdletsToExport\s*=\s*(@\((?<list>[^)]*)\)|(?<list>'[^']*'))", RegexOptions.Singleline);
        if (!m.Success) return ([], false);
        var list = Regex.Replace(m.Groups["list"].Value, "#[^\n]*", "");
        var names = Regex.Matches(list, @"['""](?<n>[^'""]+)['""]").Select(x => x.Groups["n"].Value).ToList();
        return (names, names.Any(n => n.Contains('*')));
    }

    /// <summary>The type names that have a view in a Format.ps1xml.</summary>
    public static HashSet<string> ViewTypes(string formatXml) =>
        Regex.Matches(formatXml, @"<TypeName>\s*(?<t>[^<\s]+)\s*</TypeName>").Select(m => m.Groups["t"].Value).ToHashSet(StringComparer.Ordinal);
}
