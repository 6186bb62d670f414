using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Commands;

/// <summary>Helpers shared by the argument completers: never throw (a completer that fails just offers nothing).</summary>
internal static class Completion
{
    public static IEnumerable<CompletionResult> Complete(IEnumerable<string> candidates, string wordToComplete, string toolTipPrefix)
    {
        var (quote, word) = Unquote(wordToComplete);
        var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
        foreach (var c in candidates.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (!pattern.IsMatch(c)) continue;
            var text = NeedsQuotes(c) || quote != '\0' ? (quote == '"' ? $"\"{c}\"" : $"'{c.Replace("'", "''")}'") : c;
            yield return new CompletionResult(text, c, CompletionResultType.ParameterValue, $"{toolTipPrefix} {c}");
        }
    }

    /// <summary>
    /// The namespace named by -NetNamespace among the parameters bound so far (a name, a path or a NetNamespace
    /// object), or the current namespace; null when it cannot be opened.
    /// </summary>
    public static NetNamespace? NamespaceOf(IDictionary fakeBoundParameters, string parameterName = "NetNamespace")
    {
        try
        {
            var value = fakeBoundParameters?.Contains(parameterName) == true ? fakeBoundParameters[parameterName] : null;
            if (value is PSObject pso) value = pso.BaseObject;
            return value switch
            {
                null => NetNamespaceCache.Current,
                NetNamespace ns when !ns.IsDisposed => ns,
                string s when s.Length > 0 => NetNamespaceCache.Get(s),
                _ => null,
            };
        }
        catch (Exception e) when (ErrorMapping.IsMapped(e))
        {
            return null;
        }
    }

    private static (char Quote, string Word) Unquote(string word)
    {
        if (string.IsNullOrEmpty(word)) return ('\0', "");
        var q = word[0];
        if (q is '\'' or '"')
        {
            word = word[1..];
            if (word.Length > 0 && word[^1] == q) word = word[..^1];
            return (q, WildcardPattern.Escape(word));
        }
        return ('\0', WildcardPattern.Escape(word));
    }

    private static bool NeedsQuotes(string s) => s.Any(c => char.IsWhiteSpace(c) || "'\"`$(){}[];,@#&|<>".Contains(c));
}

/// <summary>Completes namespace names from /run/netns.</summary>
public sealed class NetNamespaceNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<string> names;
        try { names = NetNamespace.ListNames(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { names = []; }
        return Completion.Complete(names, wordToComplete, "netns");
    }
}

/// <summary>Completes interface names INSIDE the namespace given by -NetNamespace (default: the current one).</summary>
public sealed class LinkNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completion.Complete(LinkNames(fakeBoundParameters, bridgesOnly: false), wordToComplete, "link");

    internal static IEnumerable<string> LinkNames(IDictionary fakeBoundParameters, bool bridgesOnly, string parameterName = "NetNamespace")
    {
        var ns = Completion.NamespaceOf(fakeBoundParameters, parameterName);
        if (ns is null) return [];
        try
        {
            return ns.Rtnl.GetLinks().Where(l => !bridgesOnly || l.Kind == "bridge").Select(l => l.Name).ToList();
        }
        catch (Exception e) when (ErrorMapping.IsMapped(e))
        {
            return [];
        }
    }
}

/// <summary>Completes bridge names INSIDE the namespace given by -NetNamespace (default: the current one).</summary>
public sealed class BridgeNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completion.Complete(LinkNameCompleter.LinkNames(fakeBoundParameters, bridgesOnly: true), wordToComplete, "bridge");
}

/// <summary>Completes link kinds (IFLA_INFO_KIND values).</summary>
public sealed class LinkKindCompleter : IArgumentCompleter
{
    private static readonly string[] Kinds = ["veth", "bridge", "dummy", "vxlan", "macvlan", "ipvlan", "tun", "vlan", "bond"];

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) => Completion.Complete(Kinds, wordToComplete, "kind");
}
