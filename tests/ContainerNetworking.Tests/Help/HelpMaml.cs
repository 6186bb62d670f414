using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ContainerNetworking.Tests.Help;

/// <summary>An example as Get-Help shows it: title, code, remarks.</summary>
public sealed record HelpExample(string Title, string Code, string Remarks);

/// <summary>The parts of a command's help that the markdown and the MAML must agree on.</summary>
public sealed record CommandHelp(
    string Name,
    string Synopsis,
    string Description,
    IReadOnlyList<(string Name, string Description)> Parameters,
    IReadOnlyList<HelpExample> Examples);

/// <summary>
/// The shipped MAML (en-US/ContainerNetworking.dll-Help.xml, built by PlatyPS 0.14's New-ExternalHelp) against the
/// markdown it is built from: the markdown is read as New-ExternalHelp reads it, so a stale MAML (markdown edited,
/// `./build.ps1 Docs` not rerun) is found without PlatyPS. Texts are compared with all whitespace removed.
/// </summary>
public static partial class HelpMaml
{
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    /// <summary>Every command of a MAML file, by name.</summary>
    public static Dictionary<string, CommandHelp> Read(string mamlXml)
    {
        var result = new Dictionary<string, CommandHelp>(StringComparer.OrdinalIgnoreCase);
        foreach (var cmd in XDocument.Parse(mamlXml).Descendants(Command + "command"))
        {
            var details = cmd.Element(Command + "details");
            var name = details?.Element(Command + "name")?.Value.Trim() ?? "";
            var parameters = cmd.Element(Command + "parameters")?.Elements(Command + "parameter")
                .Select(p => (p.Element(Maml + "name")?.Value.Trim() ?? "", Paras(p.Element(Maml + "description"))))
                .ToList() ?? [];
            var examples = cmd.Element(Command + "examples")?.Elements(Command + "example")
                .Select(e => new HelpExample(
                    Unpad(e.Element(Maml + "title")?.Value ?? ""),
                    e.Element(Dev + "code")?.Value ?? "",
                    Paras(e.Element(Dev + "remarks"))))
                .ToList() ?? [];
            result[name] = new CommandHelp(name, Paras(details?.Element(Maml + "description")), Paras(cmd.Element(Maml + "description")), parameters, examples);
        }
        return result;
    }

    private static string Paras(XElement? description) =>
        description is null ? "" : string.Join("\n\n", description.Elements(Maml + "para").Select(p => p.Value));

    /// <summary>PlatyPS pads titles shorter than 62 characters with dashes to 64 ("---- Example 1: x ----").</summary>
    private static string Unpad(string title)
    {
        var m = PaddedTitle().Match(title);
        return m.Success ? m.Groups[1].Value : title;
    }

    [GeneratedRegex(@"^-+ (.*) -+$", RegexOptions.Singleline)]
    private static partial Regex PaddedTitle();

    /// <summary>
    /// A command's help as New-ExternalHelp makes it from the markdown: prose through <see cref="PlatyPSText"/>,
    /// code verbatim; an example's text before its code is reported by <see cref="Compare"/> (the MAML has no place for it).
    /// </summary>
    public static CommandHelp FromMarkdown(HelpMarkdown doc, out List<string> problems)
    {
        problems = [];
        var parameters = new List<(string, string)>();
        foreach (var (heading, body) in doc.Sub("PARAMETERS"))
        {
            if (heading == "CommonParameters" || !heading.StartsWith('-')) continue;
            parameters.Add((heading[1..], PlatyPSText(body.Split("```")[0])));
        }
        var examples = new List<HelpExample>();
        foreach (var (heading, body) in doc.Sub("EXAMPLES"))
        {
            var (intro, code, remarks) = SplitExample(body);
            if (intro.Trim().Length > 0)
                problems.Add($"example '{heading}' has text before its code, which the MAML drops: move it below the code block");
            examples.Add(new HelpExample(EnDash(heading), EnDash(code), PlatyPSText(remarks)));
        }
        return new CommandHelp(doc.Title, PlatyPSText(doc.Section("SYNOPSIS")), PlatyPSText(doc.Section("DESCRIPTION")), parameters, examples);
    }

    /// <summary>An example's body: text before the first fence, the fenced blocks joined by a blank line, text after the last.</summary>
    private static (string Intro, string Code, string Remarks) SplitExample(string body)
    {
        var intro = new System.Text.StringBuilder();
        var remarks = new System.Text.StringBuilder();
        var blocks = new List<string>();
        System.Text.StringBuilder? block = null;
        foreach (var line in body.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                if (block is null) block = new();
                else { blocks.Add(block.ToString()); block = null; }
                continue;
            }
            if (block is not null) block.AppendLine(line);
            else (blocks.Count == 0 ? intro : remarks).AppendLine(line);
        }
        return (intro.ToString(), string.Join("\n\n", blocks), remarks.ToString());
    }

    /// <summary>
    /// Markdown prose as PlatyPS 0.14 writes it into MAML (its parser in Full mode): an en dash becomes '-', links
    /// become "text (uri)", bold and italic markers go, backslash escapes are unwound.
    /// </summary>
    public static string PlatyPSText(string markdown)
    {
        var s = EnDash(markdown);
        s = Link().Replace(s, m => m.Groups[2].Value.Trim().Length > 0 ? $"{m.Groups[1].Value} ({m.Groups[2].Value})" : m.Groups[1].Value);
        s = Bold().Replace(s, "$1");
        s = Italic().Replace(s, "$1");
        s = Bold2().Replace(s, "$1");
        s = Italic2().Replace(s, "$1");
        return Escaped().Replace(s, "$1");
    }

    private static string EnDash(string s) => s.Replace('\u2013', '-');

    [GeneratedRegex(@"\[(.+?)\]\((.*)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"\*\*(.+?)\*\*")]
    private static partial Regex Bold();

    [GeneratedRegex(@"\*(.+?)\*")]
    private static partial Regex Italic();

    [GeneratedRegex(@"(?<![a-zA-Z0-9])__(.+?)__(?![a-zA-Z0-9])")]
    private static partial Regex Bold2();

    [GeneratedRegex(@"(?<![a-zA-Z0-9])_(.+?)_(?![a-zA-Z0-9])")]
    private static partial Regex Italic2();

    [GeneratedRegex(@"\\([\[\]()`<>_*\\])")]
    private static partial Regex Escaped();

    /// <summary>The text with every whitespace character removed: line breaks, indentation and paragraph joins do not count.</summary>
    public static string Squash(string s) => Whitespace().Replace(s, "");

    /// <summary>The text on one line, for messages.</summary>
    public static string OneLine(string s) => Whitespace().Replace(s, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    /// <summary>Where the MAML says something else than the markdown: synopsis, description, parameters, examples.</summary>
    public static List<string> Compare(CommandHelp markdown, CommandHelp maml)
    {
        var problems = new List<string>();
        void Text(string what, string md, string xml)
        {
            var (a, b) = (Squash(md), Squash(xml));
            if (a == b) return;
            var k = 0;
            while (k < a.Length && k < b.Length && a[k] == b[k]) k++;
            problems.Add($"{what} differs:\n    markdown: {Around(OneLine(md), k)}\n    MAML:     {Around(OneLine(xml), k)}");
        }
        Text("synopsis", markdown.Synopsis, maml.Synopsis);
        Text("description", markdown.Description, maml.Description);

        var mdParams = markdown.Parameters.Select(p => p.Name).ToList();
        var xmlParams = maml.Parameters.Select(p => p.Name).ToList();
        foreach (var n in mdParams.Except(xmlParams, StringComparer.OrdinalIgnoreCase)) problems.Add($"parameter -{n} is in the markdown but not in the MAML");
        foreach (var n in xmlParams.Except(mdParams, StringComparer.OrdinalIgnoreCase)) problems.Add($"parameter -{n} is in the MAML but not in the markdown");
        foreach (var (name, description) in markdown.Parameters)
        {
            var other = maml.Parameters.Where(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
            if (other.Count == 1) Text($"parameter -{name}'s description", description, other[0].Description);
        }

        if (markdown.Examples.Count != maml.Examples.Count)
            problems.Add($"the markdown has {markdown.Examples.Count} example(s), the MAML {maml.Examples.Count}");
        for (var i = 0; i < Math.Min(markdown.Examples.Count, maml.Examples.Count); i++)
        {
            var (md, xml) = (markdown.Examples[i], maml.Examples[i]);
            Text($"example {i + 1}'s title", md.Title, xml.Title);
            Text($"example {i + 1}'s code", md.Code, xml.Code);
            Text($"example {i + 1}'s remarks", md.Remarks, xml.Remarks);
        }
        return problems;
    }

    /// <summary>The one-line text around its k-th non-whitespace character (where two texts start to differ).</summary>
    private static string Around(string oneLine, int k)
    {
        var i = 0;
        for (var seen = 0; i < oneLine.Length; i++)
        {
            if (char.IsWhiteSpace(oneLine[i])) continue;
            if (seen++ == k) break;
        }
        var start = Math.Max(0, i - 60);
        var end = Math.Min(oneLine.Length, i + 60);
        return (start > 0 ? "…" : "") + oneLine[start..end] + (end < oneLine.Length ? "…" : "") + (oneLine.Length == 0 ? "(empty)" : "");
    }
}
