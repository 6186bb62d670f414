namespace ContainerNetworking.Tests.Help;

/// <summary>
/// The help gate of issue 5, run by <c>dotnet test</c> without pwsh: the compiled cmdlet metadata (read with
/// MetadataLoadContext) against the PlatyPS markdown in en-US/, the manifest's CmdletsToExport and the views in the
/// Format.ps1xml. A cmdlet, a parameter or a parameter set without help fails here.
/// </summary>
public sealed class ModuleHelpTests
{
    private static string HelpDir => Path.Combine(ModuleMetadata.RepoRoot, "en-US");
    private static string Psd1 => Path.Combine(ModuleMetadata.RepoRoot, "ContainerNetworking.psd1");
    private static string FormatFile => Path.Combine(ModuleMetadata.RepoRoot, "src", "ContainerNetworking", "ContainerNetworking.Format.ps1xml");

    public static TheoryData<string> CmdletNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in ModuleMetadata.Cmdlets) data.Add(c.Name);
        return data;
    }

    private static CmdletMeta Cmdlet(string name) => ModuleMetadata.Cmdlets.Single(c => c.Name == name);

    [Fact]
    public void TheModuleHasTheCmdletsTheUserFixed()
    {
        var names = ModuleMetadata.Cmdlets.Select(c => c.Name).ToList();
        Assert.True(names.Count >= 20, $"only {names.Count} cmdlets found in the compiled module");
        foreach (var fixedName in new[] { "New-NetNamespace", "New-VethPair", "Add-BridgePort", "Enable-IpForwarding" })
            Assert.Contains(fixedName, names);
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void EveryCmdletHasCompleteHelp(string name)
    {
        var path = Path.Combine(HelpDir, name + ".md");
        Assert.True(File.Exists(path), $"{name} has no help: write en-US/{name}.md (PlatyPS markdown).");
        var problems = HelpChecker.CheckMarkdown(Cmdlet(name), HelpMarkdown.Parse(File.ReadAllText(path)));
        Assert.True(problems.Count == 0, $"en-US/{name}.md:\n  " + string.Join("\n  ", problems));
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void EveryCmdletFollowsTheModuleConventions(string name)
    {
        var problems = HelpChecker.CheckDesign(Cmdlet(name));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void EveryCmdletIsExported(string name)
    {
        var (exported, _) = HelpChecker.ExportedCmdlets(File.ReadAllText(Psd1));
        Assert.True(exported.Contains(name), $"{name} is not in CmdletsToExport of ContainerNetworking.psd1.");
    }

    [Fact]
    public void TheManifestExportsExactlyTheCmdletsThatExist_WithoutWildcards()
    {
        var (exported, wildcard) = HelpChecker.ExportedCmdlets(File.ReadAllText(Psd1));
        Assert.False(wildcard, "CmdletsToExport must list names, not wildcards (the Gallery and command discovery need them).");
        Assert.NotEmpty(exported);
        var missing = exported.Except(ModuleMetadata.Cmdlets.Select(c => c.Name)).ToList();
        Assert.True(missing.Count == 0, "exported but not in the module: " + string.Join(", ", missing));
        Assert.Equal(exported.Count, exported.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void EveryOutputTypeHasAView(string name)
    {
        var views = HelpChecker.ViewTypes(File.ReadAllText(FormatFile));
        var missing = Cmdlet(name).OutputTypes.Where(t => !HelpChecker.NoViewNeeded.Contains(t) && !views.Contains(t)).ToList();
        Assert.True(missing.Count == 0, $"{name} emits {string.Join(", ", missing)}, which has no view in ContainerNetworking.Format.ps1xml.");
    }

    [Fact]
    public void EveryHelpFileBelongsToACmdlet()
    {
        var names = ModuleMetadata.Cmdlets.Select(c => c.Name).ToHashSet();
        var orphans = Directory.GetFiles(HelpDir, "*-*.md").Select(Path.GetFileNameWithoutExtension).Where(n => !names.Contains(n!)).ToList();
        Assert.True(orphans.Count == 0, "help for cmdlets that do not exist: " + string.Join(", ", orphans));
    }

    [Fact]
    public void TheAboutTopicExplainsTheModel()
    {
        var path = Path.Combine(HelpDir, "about_ContainerNetworking.help.txt");
        Assert.True(File.Exists(path), "en-US/about_ContainerNetworking.help.txt is missing.");
        var text = File.ReadAllText(path);
        Assert.StartsWith("TOPIC", text.TrimStart());
        foreach (var word in new[] { "about_ContainerNetworking", "SHORT DESCRIPTION", "LONG DESCRIPTION", "namespace", "veth", "bridge", "route", "NAT", "New-VethPair", "Add-BridgePort" })
            Assert.Contains(word, text, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>PowerShell's own cmdlets that the about topic and the README may use beside the module's.</summary>
    private static readonly HashSet<string> PowerShellCmdlets =
    [
        "Get-Help", "Get-Command", "Import-Module", "Stop-Process", "Start-Sleep", "Format-List", "Format-Table",
        "Select-Object", "Where-Object", "ForEach-Object", "Out-String", "Remove-Item", "New-Item", "Invoke-Pester",
    ];

    /// <summary>The about topic and the README show commands that exist: a renamed cmdlet cannot leave them stale.</summary>
    [Theory]
    [InlineData("en-US/about_ContainerNetworking.help.txt")]
    [InlineData("README.md")]
    public void DocumentsNameOnlyCmdletsThatExist(string file)
    {
        var text = File.ReadAllText(Path.Combine(ModuleMetadata.RepoRoot, file));
        var names = ModuleMetadata.Cmdlets.Select(c => c.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var verbs = "Add|Clear|Connect|Disable|Disconnect|Enable|Export|Get|Invoke|New|Publish|Remove|Repair|Set|Test|Unpublish";
        var unknown = System.Text.RegularExpressions.Regex.Matches(text, $@"\b(?:{verbs})-[A-Z][A-Za-z]+\b")
            .Select(m => m.Value)
            .Where(n => !names.Contains(n) && !PowerShellCmdlets.Contains(n))
            .Distinct()
            .ToList();
        Assert.True(unknown.Count == 0, $"{file} names cmdlets the module does not have: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void TheManifestShipsTheViewsAndTargetsCore()
    {
        var text = File.ReadAllText(Psd1);
        Assert.Matches(@"RootModule\s*=\s*'bin/ContainerNetworking\.dll'", text);
        Assert.Matches(@"FormatsToProcess\s*=\s*@\('bin/ContainerNetworking\.Format\.ps1xml'\)", text);
        Assert.Matches(@"CompatiblePSEditions\s*=\s*@\('Core'\)", text);
        Assert.Matches(@"PowerShellVersion\s*=\s*'7\.4'", text);
        Assert.DoesNotContain("RequiredModules", text);
    }
}

/// <summary>The help gate's rules find what they are meant to find (a gate that cannot fail is no gate).</summary>
public sealed class HelpCheckerSelfTests
{
    private static readonly CmdletMeta Sample = new("Set-Thing", "Set", "Thing", "X", SupportsShouldProcess: true, null, ["X.Thing"],
        [new ParameterMeta("Name", ["InterfaceAlias"], [ModuleMetadata.AllSets], true, "String"), new ParameterMeta("NetNamespace", [], [ModuleMetadata.AllSets], false, "NetNamespace")]);

    private const string Good = """
        ---
        external help file: ContainerNetworking.dll-Help.xml
        Module Name: ContainerNetworking
        online version:
        schema: 2.0.0
        ---

        # Set-Thing

        ## SYNOPSIS
        Sets a thing.

        ## SYNTAX

        ### __AllParameterSets
        ```
        Set-Thing [-Name] <String> [-NetNamespace <NetNamespace>] [-WhatIf] [-Confirm] [<CommonParameters>]
        ```

        ## DESCRIPTION
        Sets a thing, really.

        ## EXAMPLES

        ### Example 1: one
        ```powershell
        Set-Thing a
        ```

        ### Example 2: two
        ```powershell
        # ## not a heading
        Set-Thing b
        ```

        ## PARAMETERS

        ### -Name
        The name.

        ```yaml
        Type: String
        Aliases: InterfaceAlias
        ```

        ### -NetNamespace
        The namespace.

        ```yaml
        Type: NetNamespace
        Aliases:
        ```

        ### -WhatIf
        What if.

        ```yaml
        Type: SwitchParameter
        Aliases: wi
        ```

        ### -Confirm
        Confirm.

        ```yaml
        Type: SwitchParameter
        Aliases: cf
        ```

        ### CommonParameters
        Common.

        ## INPUTS

        ### System.String

        ## OUTPUTS

        ### X.Thing

        ## NOTES
        ip thing set
        """;

    [Fact]
    public void AGoodFilePasses() => Assert.Empty(HelpChecker.CheckMarkdown(Sample, HelpMarkdown.Parse(Good)));

    [Fact]
    public void AnUndocumentedParameterFails() =>
        Assert.Contains("parameter -NetNamespace is not documented",
            HelpChecker.CheckMarkdown(Sample, HelpMarkdown.Parse(Good.Replace("### -NetNamespace", "### -Bogus"))));

    [Fact]
    public void ADocumentedButAbsentParameterFails() =>
        Assert.Contains("parameter -Bogus is documented but the cmdlet has no such parameter",
            HelpChecker.CheckMarkdown(Sample, HelpMarkdown.Parse(Good.Replace("### -NetNamespace", "### -Bogus"))));

    [Fact]
    public void APlaceholderSynopsisFails() =>
        Assert.Contains("## SYNOPSIS is a placeholder",
            HelpChecker.CheckMarkdown(Sample, HelpMarkdown.Parse(Good.Replace("Sets a thing.", "{{ Fill in the Synopsis }}"))));

    [Fact]
    public void OneExampleIsNotEnough()
    {
        var oneExample = Good.Replace("### Example 2: two", "Second:");
        Assert.Contains("## EXAMPLES has 1 example(s); at least 2 are required", HelpChecker.CheckMarkdown(Sample, HelpMarkdown.Parse(oneExample)));
    }

    [Fact]
    public void WrongAliasesFail() =>
        Assert.Contains(HelpChecker.CheckMarkdown(Sample, HelpMarkdown.Parse(Good.Replace("Aliases: InterfaceAlias", "Aliases: Other"))),
            p => p.StartsWith("parameter -Name: documented aliases", StringComparison.Ordinal));

    [Fact]
    public void AMissingParameterSetFails()
    {
        var twoSets = Sample with { Parameters = [.. Sample.Parameters, new ParameterMeta("Path", [], ["Path"], true, "String")] };
        var problems = HelpChecker.CheckMarkdown(twoSets, HelpMarkdown.Parse(Good));
        Assert.Contains("## SYNTAX has no '### Path' block for parameter set Path", problems);
    }

    [Fact]
    public void DesignRulesFindMissingShouldProcessNamespaceAndOutputType()
    {
        var bad = Sample with { SupportsShouldProcess = false, OutputTypes = [], Parameters = [Sample.Parameters[0]] };
        var problems = HelpChecker.CheckDesign(bad);
        Assert.Equal(3, problems.Count);
        Assert.Empty(HelpChecker.CheckDesign(Sample));
    }

    [Fact]
    public void ManifestParsingSeesWildcards()
    {
        Assert.True(HelpChecker.ExportedCmdlets("CmdletsToExport = '*'").Wildcard);
        var (names, wildcard) = HelpChecker.ExportedCmdlets("CmdletsToExport = @(\n 'A-B' # c\n 'C-D'\n)");
        Assert.False(wildcard);
        Assert.Equal(["A-B", "C-D"], names);
    }
}
