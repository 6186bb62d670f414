using System.Text.RegularExpressions;

namespace ContainerNetworking.Tests.Help;

/// <summary>
/// A PlatyPS 0.14 markdown help file, parsed just enough to check it: the YAML front matter, the "## " sections and
/// their "### " subsections (headings inside code fences are ignored).
/// </summary>
public sealed partial class HelpMarkdown
{
    public Dictionary<string, string> FrontMatter { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>"## NAME" → the text directly under it (before any "###").</summary>
    public Dictionary<string, string> Sections { get; } = new(StringComparer.Ordinal);

    /// <summary>"## NAME" → ("### SUB" → text), in order.</summary>
    public Dictionary<string, List<(string Heading, string Body)>> Subsections { get; } = new(StringComparer.Ordinal);

    public string Title { get; private set; } = "";

    public static HelpMarkdown Parse(string text)
    {
        var doc = new HelpMarkdown();
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var i = 0;
        if (lines.Length > 0 && lines[0].Trim() == "---")
        {
            for (i = 1; i < lines.Length && lines[i].Trim() != "---"; i++)
            {
                var colon = lines[i].IndexOf(':');
                if (colon > 0) doc.FrontMatter[lines[i][..colon].Trim()] = lines[i][(colon + 1)..].Trim();
            }
            i++;
        }
        string? section = null, sub = null;
        var body = new System.Text.StringBuilder();
        var inFence = false;
        void Flush()
        {
            if (section is null) return;
            if (sub is null) doc.Sections[section] = body.ToString().Trim();
            else doc.Subsections[section].Add((sub, body.ToString().Trim()));
            body.Clear();
        }
        for (; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) inFence = !inFence;
            if (!inFence && line.StartsWith("# ", StringComparison.Ordinal) && section is null) { doc.Title = line[2..].Trim(); continue; }
            if (!inFence && line.StartsWith("## ", StringComparison.Ordinal))
            {
                Flush();
                section = line[3..].Trim();
                sub = null;
                doc.Sections[section] = "";
                doc.Subsections[section] = [];
                continue;
            }
            if (!inFence && line.StartsWith("### ", StringComparison.Ordinal) && section is not null)
            {
                Flush();
                sub = line[4..].Trim();
                continue;
            }
            body.AppendLine(line);
        }
        Flush();
        return doc;
    }

    public string Section(string name) => Sections.TryGetValue(name, out var s) ? s : "";

    public IReadOnlyList<(string Heading, string Body)> Sub(string name) => Subsections.TryGetValue(name, out var s) ? s : [];

    /// <summary>True for PlatyPS's unfilled placeholders ("{{ Fill … }}", "{{ Add example … }}").</summary>
    public static bool IsPlaceholder(string text) => Placeholder().IsMatch(text);

    [GeneratedRegex(@"\{\{.*\}\}", RegexOptions.Singleline)]
    private static partial Regex Placeholder();

    /// <summary>The value of a "Key: value" line in a parameter's yaml block.</summary>
    public static string? YamlValue(string parameterBody, string key)
    {
        foreach (var line in parameterBody.Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith(key + ":", StringComparison.Ordinal)) return t[(key.Length + 1)..].Trim();
        }
        return null;
    }
}
