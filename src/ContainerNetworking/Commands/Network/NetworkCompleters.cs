using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using ContainerNetworking.Model;

namespace ContainerNetworking.Commands;

/// <summary>
/// Completes container network names from the state of the host namespace given by -NetNamespace (default: the current
/// one) and -StateDirectory (default: that namespace's default state directory), including the predefined host and none.
/// </summary>
public sealed class ContainerNetworkNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var manager = NetworkCompletion.ManagerOf(fakeBoundParameters);
        IEnumerable<string> names = [];
        if (manager is not null)
        {
            try { names = manager.GetNetworks().Select(n => n.Name).ToList(); }
            catch (Exception e) when (ErrorMapping.IsMapped(e) || e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException) { }
        }
        return Completion.Complete(names, wordToComplete, "network");
    }
}

/// <summary>Completes the container names of the endpoints of the host namespace (only those of -Network when it is given).</summary>
public sealed class ContainerEndpointNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var manager = NetworkCompletion.ManagerOf(fakeBoundParameters);
        IEnumerable<string> names = [];
        if (manager is not null)
        {
            try
            {
                var network = NetworkCompletion.StringOf(fakeBoundParameters, "Network");
                names = manager.GetEndpoints().Where(e => network is null || e.Network == network).Select(e => e.Container).ToList();
            }
            catch (Exception e) when (ErrorMapping.IsMapped(e) || e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException) { }
        }
        return Completion.Complete(names, wordToComplete, "container");
    }
}

internal static class NetworkCompletion
{
    /// <summary>The manager of the -NetNamespace and -StateDirectory bound so far; null when the namespace cannot be opened.</summary>
    public static ContainerNetworkManager? ManagerOf(IDictionary fakeBoundParameters)
    {
        var ns = Completion.NamespaceOf(fakeBoundParameters);
        if (ns is null) return null;
        try { return ContainerNetworkCmdlet.ManagerFor(ns, StringOf(fakeBoundParameters, "StateDirectory")); }
        catch (Exception e) when (ErrorMapping.IsMapped(e) || e is IOException or NotSupportedException) { return null; }
    }

    public static string? StringOf(IDictionary fakeBoundParameters, string name)
    {
        var value = fakeBoundParameters?.Contains(name) == true ? fakeBoundParameters[name] : null;
        if (value is PSObject pso) value = pso.BaseObject;
        return value is string s && s.Length > 0 ? s : null;
    }
}
