using System.Management.Automation;
using System.Reflection;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Commands;

/// <summary>
/// The base of every cmdlet of the module. It gives:
/// <list type="bullet">
/// <item>the precondition check, once, in BeginProcessing: a cmdlet that changes state (SupportsShouldProcess) needs
/// CAP_NET_ADMIN (and CAP_SYS_ADMIN where <see cref="NeedsSysAdmin"/>); without it the cmdlet terminates with
/// ErrorId "RootRequired" and a message saying to run as root (-WhatIf alone skips the check, it changes nothing);</item>
/// <item><see cref="Try(object?, Action)"/>: runs one pipeline item's work; a library or kernel failure becomes one
/// non-terminating error through <see cref="ErrorMapping"/> with the item as TargetObject, and the pipeline goes on;</item>
/// <item>ShouldProcess targets that name the namespace (<see cref="In"/>), and wildcard name filters that report
/// literal names that match nothing;</item>
/// <item>Ctrl+C: StopProcessing cancels a token that <see cref="Try(object?, Action)"/> makes the core's
/// <see cref="CancellationScope"/> for each item's work, so a wait in the core (the state lock) ends at once and the
/// pipeline stops.</item>
/// </list>
/// A cmdlet is a few lines: bind parameters, call the core inside <c>Try</c>, write the core's object.
/// </summary>
public abstract class NetworkingCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the pipeline is stopped (Ctrl+C, PowerShell.Stop()).</summary>
    protected CancellationToken StopToken => _stopping.Token;

    /// <summary>Ctrl+C: cancels whatever the core is waiting for on this cmdlet's behalf.</summary>
    protected override void StopProcessing()
    {
        try { _stopping.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }
    /// <summary>True when the cmdlet creates, enters or deletes namespaces (needs CAP_SYS_ADMIN too).</summary>
    protected virtual bool NeedsSysAdmin => false;

    /// <summary>True when the cmdlet changes kernel state: by default, when it supports ShouldProcess.</summary>
    protected virtual bool ChangesState => GetType().GetCustomAttribute<CmdletAttribute>()?.SupportsShouldProcess == true;

    protected override void BeginProcessing()
    {
        // A namespace parameter that names no namespace (NetNamespaceTransformation made it a stand-in): the cmdlet
        // cannot act, and says so as NetNamespaceNotFound, as Get-NetNamespace does. Values bound later from the
        // pipeline fail per item where the cmdlet uses them (the stand-in throws the same error).
        foreach (var value in MyInvocation.BoundParameters.Values)
        {
            if (value is NetNamespace { MissingError: { } missing })
                ThrowTerminatingError(ErrorMapping.ToErrorRecord(missing, missing.NamespaceName)!);
        }
        if (ChangesState && !MyInvocation.BoundParameters.ContainsKey("WhatIf"))
        {
            var missing = Privileges.Missing(NeedsSysAdmin);
            if (missing is not null)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new UnauthorizedAccessException($"{MyInvocation.MyCommand.Name} changes the kernel's network configuration and needs {missing}, which this process does not have. Run PowerShell as root (for example 'sudo pwsh'), or grant the capabilities."),
                    "RootRequired", ErrorCategory.PermissionDenied, null));
            }
        }
    }

    /// <summary>Runs one item's work; a library or kernel failure is written as a non-terminating error. True on success.</summary>
    protected bool Try(object? target, Action action)
    {
        try
        {
            using (CancellationScope.Enter(StopToken)) action();
            return true;
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (Exception e) when (ErrorMapping.IsMapped(e))
        {
            WriteError(ErrorMapping.ToErrorRecord(e, target)!);
            return false;
        }
    }

    /// <summary>Runs one item's work and returns its result; on a library or kernel failure writes the error and returns false.</summary>
    protected bool Try<T>(object? target, Func<T> func, out T result)
    {
        try
        {
            using (CancellationScope.Enter(StopToken)) result = func();
            return true;
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (Exception e) when (ErrorMapping.IsMapped(e))
        {
            WriteError(ErrorMapping.ToErrorRecord(e, target)!);
            result = default!;
            return false;
        }
    }

    /// <summary>
    /// Opens a namespace by name for a cmdlet that lists them. A name the user gave literally in
    /// <paramref name="requested"/> that cannot be opened is an error of the item; one found only by listing
    /// /run/netns (no names given, or a wildcard) that is not a namespace or is gone is passed over, with a verbose
    /// line: <c>ip netns add</c> touches the file before it bind-mounts and <c>ip netns delete</c> unmounts before it
    /// unlinks, so a listing may meet a namespace halfway, and <c>ip netns list</c> does not fail on it either.
    /// </summary>
    protected bool TryOpenNamespace(string name, string[]? requested, out NetNamespace ns)
    {
        var literal = requested is { Length: > 0 } && requested.Any(p =>
            !WildcardPattern.ContainsWildcardCharacters(p) && string.Equals(p, name, StringComparison.Ordinal));
        if (literal) return Try(name, () => NetNamespaceCache.Get(name), out ns);
        try
        {
            using (CancellationScope.Enter(StopToken)) ns = NetNamespaceCache.Get(name);
            return true;
        }
        catch (Exception e) when (e is NotANetNamespaceException or NetNamespaceNotFoundException)
        {
            WriteVerbose($"Passed over {NetNamespace.RunDirectory}/{name}: {e.Message}");
            ns = null!;
            return false;
        }
        catch (Exception e) when (ErrorMapping.IsMapped(e))
        {
            WriteError(ErrorMapping.ToErrorRecord(e, name)!);
            ns = null!;
            return false;
        }
    }

    /// <summary>Writes a non-terminating error for a failure the cmdlet itself detected.</summary>
    protected void WriteError(string errorId, ErrorCategory category, string message, object? target) =>
        WriteError(new ErrorRecord(new ContainerNetworkingException(errorId, ErrorMapping.KindOf(category), message), errorId, category, target));

    /// <summary>Terminates the cmdlet for a failed precondition (invalid combination of parameters and the like).</summary>
    protected void ThrowTerminating(string errorId, ErrorCategory category, string message, object? target = null) =>
        ThrowTerminatingError(new ErrorRecord(new ContainerNetworkingException(errorId, ErrorMapping.KindOf(category), message), errorId, category, target));

    /// <summary>" in netns red" or " in the current namespace", for ShouldProcess targets and messages.</summary>
    protected static string In(NetNamespace? ns) => " in " + NetNamespaceCache.Label(ns);

    /// <summary>
    /// Filters <paramref name="items"/> by wildcard patterns on a name (no patterns: everything). A literal name
    /// (no wildcard) that matches nothing is reported through <paramref name="notFound"/>, as Get-NetAdapter does.
    /// </summary>
    protected IEnumerable<T> FilterByName<T>(IReadOnlyList<T> items, Func<T, string?> nameOf, string[]? patterns, Func<string, ErrorRecord> notFound)
    {
        if (patterns is null || patterns.Length == 0) return items;
        var matchers = patterns.Select(p => WildcardPattern.ContainsWildcardCharacters(p) ? new WildcardPattern(p, WildcardOptions.IgnoreCase) : null).ToArray();
        var hit = new bool[patterns.Length];
        var result = new List<T>();
        foreach (var item in items)
        {
            var name = nameOf(item) ?? "";
            var matched = false;
            for (int i = 0; i < patterns.Length; i++)
            {
                var ok = matchers[i] is { } w ? w.IsMatch(name) : string.Equals(patterns[i], name, StringComparison.Ordinal);
                if (ok) { hit[i] = true; matched = true; }
            }
            if (matched) result.Add(item);
        }
        for (int i = 0; i < patterns.Length; i++)
        {
            if (!hit[i] && matchers[i] is null) WriteError(notFound(patterns[i]));
        }
        return result;
    }
}

/// <summary>
/// The base of every cmdlet that acts inside one namespace: it adds <c>-NetNamespace</c> (a name, a path or a
/// NetNamespace object, from the command line or by property name from piped objects; default: the namespace
/// PowerShell runs in), resolved through <see cref="NetNamespaceCache"/> so each namespace's sockets are reused.
/// </summary>
public abstract class NamespacedCmdlet : NetworkingCmdlet
{
    /// <summary>The namespace to act in: a name under /run/netns, a path (e.g. /proc/1234/ns/net), or a NetNamespace object.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [NetNamespaceTransformation]
    [ArgumentCompleter(typeof(NetNamespaceNameCompleter))]
    public NetNamespace? NetNamespace { get; set; }

    /// <summary>The namespace to act in: -NetNamespace or the current one.</summary>
    protected NetNamespace Namespace => NetNamespace ?? NetNamespaceCache.Current;

    /// <summary>" in netns red" or " in the current namespace", for the namespace of this call.</summary>
    protected string InNamespace => In(Namespace);
}
