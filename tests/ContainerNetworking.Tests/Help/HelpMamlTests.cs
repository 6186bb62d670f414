namespace ContainerNetworking.Tests.Help;

/// <summary>
/// The help that ships (en-US/ContainerNetworking.dll-Help.xml, what Get-Help reads) says what the markdown in en-US/
/// says: for every en-US/Verb-Noun.md the MAML has that command with the same synopsis, description, parameters and
/// examples. Needs no PlatyPS; when it fails, rebuild the MAML with `./build.ps1 Docs` (PlatyPS 0.14) and commit it.
/// </summary>
public sealed class HelpMamlTests
{
    private static string HelpDir => Path.Combine(ModuleMetadata.RepoRoot, "en-US");
    private static string MamlPath => Path.Combine(HelpDir, $"{ModuleMetadata.ModuleName}.dll-Help.xml");
    private const string Rebuild = "rebuild it with `./build.ps1 Docs` (PlatyPS 0.14) and commit en-US/ContainerNetworking.dll-Help.xml";

    private static readonly Lazy<Dictionary<string, CommandHelp>> Maml = new(() =>
    {
        Assert.True(File.Exists(MamlPath), $"en-US/{ModuleMetadata.ModuleName}.dll-Help.xml is missing: {Rebuild}.");
        return HelpMaml.Read(File.ReadAllText(MamlPath));
    });

    private static IEnumerable<string> MarkdownCommands() =>
        Directory.GetFiles(HelpDir, "*-*.md").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal);

    public static TheoryData<string> MarkdownNames()
    {
        var data = new TheoryData<string>();
        foreach (var n in MarkdownCommands()) data.Add(n);
        return data;
    }

    [Fact]
    public void TheMamlShipsInTheRepository() => Assert.NotEmpty(Maml.Value);

    [Theory]
    [MemberData(nameof(MarkdownNames))]
    public void TheMamlSaysWhatTheMarkdownSays(string name)
    {
        Assert.True(Maml.Value.TryGetValue(name, out var maml), $"the MAML has no command {name} (en-US/{name}.md has it): {Rebuild}.");
        var markdown = HelpMaml.FromMarkdown(HelpMarkdown.Parse(File.ReadAllText(Path.Combine(HelpDir, name + ".md"))), out var problems);
        problems.AddRange(HelpMaml.Compare(markdown, maml));
        Assert.True(problems.Count == 0, $"en-US/{name}.md and the MAML disagree ({Rebuild}):\n  " + string.Join("\n  ", problems));
    }

    [Fact]
    public void TheMamlHasNoCommandWithoutMarkdown()
    {
        var stale = Maml.Value.Keys.Except(MarkdownCommands(), StringComparer.OrdinalIgnoreCase).ToList();
        Assert.True(stale.Count == 0, $"the MAML documents commands that have no markdown: {string.Join(", ", stale)}; {Rebuild}.");
    }
}

/// <summary>
/// The comparison finds what it is meant to find, on a sample whose MAML is what PlatyPS 0.14.2's New-ExternalHelp
/// made of it (escapes, an en dash, links, bold and italic, a list, a padded and an unpadded title, two code blocks).
/// </summary>
public sealed class HelpMamlSelfTests
{
    private const string Markdown = """
        ---
        external help file: Sample.dll-Help.xml
        Module Name: Sample
        online version:
        schema: 2.0.0
        ---

        # Set-Thing

        ## SYNOPSIS
        Sets a thing, as \`thing set\` does.

        ## SYNTAX

        ```
        Set-Thing [-Name] <String> [-Mtu <Int32>] [<CommonParameters>]
        ```

        ## DESCRIPTION
        Set-Thing sets a **thing** on *one* link, see [about_Thing](https://example.org/thing) and [Get-Thing]().

        Values:
        - 68–65535 for the MTU
        - anything for the name

        ## EXAMPLES

        ### Example 1: short
        ```powershell
        Set-Thing a -Mtu 1500
        ```

        The MTU of a is 1500.

        ### Example 2: a title long enough that PlatyPS does not pad it with any dashes at all
        ```powershell
        Set-Thing b
        ```

        ```output
        b
        ```

        Prints b.

        ## PARAMETERS

        ### -Name
        The thing's name (route_localnet style_names stay).

        ```yaml
        Type: String
        Parameter Sets: (All)
        Aliases:

        Required: True
        Position: 0
        Default value: None
        Accept pipeline input: False
        Accept wildcard characters: False
        ```

        ### -Mtu
        The new MTU (68–65535).

        ```yaml
        Type: Int32
        Parameter Sets: (All)
        Aliases:

        Required: False
        Position: Named
        Default value: None
        Accept pipeline input: False
        Accept wildcard characters: False
        ```

        ### CommonParameters
        This cmdlet supports the common parameters.

        ## INPUTS

        ### None

        ## OUTPUTS

        ### System.Object

        ## NOTES

        ## RELATED LINKS
        """;

    // New-ExternalHelp's output for the markdown above (syntax, inputs, outputs and notes left out: not compared).
    private const string Xml = """
        <?xml version="1.0" encoding="utf-8"?>
        <helpItems schema="maml" xmlns="http://msh">
          <command:command xmlns:maml="http://schemas.microsoft.com/maml/2004/10" xmlns:command="http://schemas.microsoft.com/maml/dev/command/2004/10" xmlns:dev="http://schemas.microsoft.com/maml/dev/2004/10" xmlns:MSHelp="http://msdn.microsoft.com/mshelp">
            <command:details>
              <command:name>Set-Thing</command:name>
              <command:verb>Set</command:verb>
              <command:noun>Thing</command:noun>
              <maml:description>
                <maml:para>Sets a thing, as `thing set` does.</maml:para>
              </maml:description>
            </command:details>
            <maml:description>
              <maml:para>Set-Thing sets a thing on one link, see about_Thing (https://example.org/thing) and [Get-Thing]().</maml:para>
              <maml:para>Values: - 68-65535 for the MTU</maml:para>
              <maml:para>- anything for the name</maml:para>
            </maml:description>
            <command:parameters>
              <command:parameter required="true" variableLength="true" globbing="false" pipelineInput="False" position="0" aliases="none">
                <maml:name>Name</maml:name>
                <maml:description>
                  <maml:para>The thing's name (route_localnet style_names stay).</maml:para>
                </maml:description>
                <command:parameterValue required="true" variableLength="false">String</command:parameterValue>
                <dev:type>
                  <maml:name>String</maml:name>
                  <maml:uri />
                </dev:type>
                <dev:defaultValue>None</dev:defaultValue>
              </command:parameter>
              <command:parameter required="false" variableLength="true" globbing="false" pipelineInput="False" position="named" aliases="none">
                <maml:name>Mtu</maml:name>
                <maml:description>
                  <maml:para>The new MTU (68-65535).</maml:para>
                </maml:description>
                <command:parameterValue required="true" variableLength="false">Int32</command:parameterValue>
                <dev:type>
                  <maml:name>Int32</maml:name>
                  <maml:uri />
                </dev:type>
                <dev:defaultValue>None</dev:defaultValue>
              </command:parameter>
            </command:parameters>
            <command:examples>
              <command:example>
                <maml:title>----------------------- Example 1: short -----------------------</maml:title>
                <dev:code>Set-Thing a -Mtu 1500</dev:code>
                <dev:remarks>
                  <maml:para>The MTU of a is 1500.</maml:para>
                </dev:remarks>
              </command:example>
              <command:example>
                <maml:title>Example 2: a title long enough that PlatyPS does not pad it with any dashes at all</maml:title>
                <dev:code>Set-Thing b

        b</dev:code>
                <dev:remarks>
                  <maml:para>Prints b.</maml:para>
                </dev:remarks>
              </command:example>
            </command:examples>
            <command:relatedLinks />
          </command:command>
        </helpItems>
        """;

    private static List<string> Check(string markdown, string xml = Xml)
    {
        var md = HelpMaml.FromMarkdown(HelpMarkdown.Parse(markdown), out var problems);
        problems.AddRange(HelpMaml.Compare(md, HelpMaml.Read(xml)["Set-Thing"]));
        return problems;
    }

    private static void Finds(string problemStart, List<string> problems) =>
        Assert.True(problems.Any(p => p.StartsWith(problemStart, StringComparison.Ordinal)), $"expected '{problemStart}…', got:\n" + string.Join("\n", problems));

    [Fact]
    public void PlatyPSOutputAgreesWithItsMarkdown() => Assert.Empty(Check(Markdown));

    [Fact]
    public void ReflowedTextStillAgrees() =>
        Assert.Empty(Check(Markdown.Replace("on *one* link, see", "on *one*\nlink,   see")));

    [Fact]
    public void AChangedSynopsisIsFound() => Finds("synopsis differs", Check(Markdown.Replace("Sets a thing, as", "Sets two things, as")));

    [Fact]
    public void AChangedDescriptionIsFound() => Finds("description differs", Check(Markdown.Replace("- anything for the name", "- nothing for the name")));

    [Fact]
    public void AChangedParameterDescriptionIsFound() => Finds("parameter -Mtu's description differs", Check(Markdown.Replace("The new MTU (68–65535).", "The new MTU.")));

    [Fact]
    public void ARenamedParameterIsFound()
    {
        var problems = Check(Markdown.Replace("### -Mtu", "### -Size"));
        Finds("parameter -Size is in the markdown but not in the MAML", problems);
        Finds("parameter -Mtu is in the MAML but not in the markdown", problems);
    }

    [Fact]
    public void ChangedExamplesAreFound()
    {
        Finds("example 1's title differs", Check(Markdown.Replace("### Example 1: short", "### Example 1: shorter")));
        Finds("example 1's code differs", Check(Markdown.Replace("Set-Thing a -Mtu 1500", "Set-Thing a -Mtu 9000")));
        Finds("example 2's code differs", Check(Markdown.Replace("```output\nb\n```", "```output\nc\n```")));
        Finds("example 2's remarks differs", Check(Markdown.Replace("Prints b.", "Prints c.")));
    }

    [Fact]
    public void AnAddedExampleIsFound() =>
        Finds("the markdown has 3 example(s), the MAML 2", Check(Markdown.Replace("## PARAMETERS", "### Example 3: more\n```powershell\nSet-Thing c\n```\n\n## PARAMETERS")));

    [Fact]
    public void TextBeforeAnExamplesCodeIsFound() =>
        Finds("example 'Example 1: short' has text before its code", Check(Markdown.Replace("### Example 1: short\n", "### Example 1: short\nFirst:\n")));
}
