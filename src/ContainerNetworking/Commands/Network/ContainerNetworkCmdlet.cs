using System.Collections.Concurrent;
using System.Management.Automation;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Commands;

/// <summary>
/// The base of the container-network cmdlets (New-/Get-/Remove-ContainerNetwork, Connect-/Disconnect-ContainerNetwork,
/// Get-ContainerEndpoint, Repair-/Test-ContainerNetwork): the <see cref="ContainerNetworkManager"/> of the host namespace
/// (<c>-NetNamespace</c>) and its state directory (<c>-StateDirectory</c>), one per pair in the process; emitted records
/// decorated with NoteProperties <c>NetNamespace</c> and <c>StateDirectory</c> (so that piping them to the next cmdlet acts
/// on the same host and state); -WhatIf/-Confirm that show the core's <see cref="OperationPlan"/>.
/// </summary>
public abstract class ContainerNetworkCmdlet : NetworkingCmdlet
{
    private static readonly ConcurrentDictionary<(NetNamespace Host, string Root), ContainerNetworkManager> Managers = new();

    /// <summary>
    /// The state directory of the host namespace's networks (records, leases, the lock). Default:
    /// $CONTAINERNETWORKING_STATE_DIR/NAME or /var/lib/containernetworking/NAME (NAME: the host namespace's name, or netns-INODE).
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? StateDirectory { get; set; }

    /// <summary>The -NetNamespace of the concrete cmdlet: the namespace that plays the host.</summary>
    protected abstract NetNamespace? HostParameter { get; }

    /// <summary>The host namespace of this call: -NetNamespace or the current one.</summary>
    protected NetNamespace HostNamespace => HostParameter ?? NetNamespaceCache.Current;

    /// <summary>The manager of the host namespace and state directory of this call (reused within the process).</summary>
    protected ContainerNetworkManager Manager
    {
        get
        {
            // A host namespace from the pipeline that does not exist: there is no manager to give.
            if (HostNamespace.MissingError is { } missing) ThrowTerminatingError(ErrorMapping.ToErrorRecord(missing, missing.NamespaceName)!);
            return ManagerFor(HostNamespace, StateDirectory);
        }
    }

    /// <summary>The manager of <paramref name="host"/> and <paramref name="stateDirectory"/> (null: the default directory).</summary>
    internal static ContainerNetworkManager ManagerFor(NetNamespace host, string? stateDirectory)
    {
        var root = Path.GetFullPath(stateDirectory ?? StateStore.DefaultRoot(host.Name, host.Id));
        var key = (host, root);
        if (Managers.TryGetValue(key, out var m)) return m;
        // Forget managers of namespaces that were closed since (Remove-NetNamespace): their sockets are gone.
        foreach (var stale in Managers.Keys.Where(k => k.Host.IsDisposed)) Managers.TryRemove(stale, out _);
        return Managers.GetOrAdd(key, k => new ContainerNetworkManager(k.Host, k.Root));
    }

    /// <summary>The host namespace's name as emitted objects carry it: its name, its path, or null for the current one.</summary>
    protected static string? HostLabel(NetNamespace ns) => ns.Name ?? (ns.IsCurrent ? null : ns.Path);

    /// <summary>Writes a record with NoteProperties NetNamespace and StateDirectory (they bind by property name down the pipeline).</summary>
    protected void WriteRecord(object record, ContainerNetworkManager manager, params (string Name, object? Value)[] extra)
    {
        var o = PSObject.AsPSObject(record);
        foreach (var (name, value) in extra) SetNote(o, name, value);
        SetNote(o, "NetNamespace", HostLabel(manager.Host));
        SetNote(o, "StateDirectory", manager.State.Root);
        WriteObject(o);
    }

    private static void SetNote(PSObject o, string name, object? value)
    {
        if (o.Properties[name] is PSNoteProperty existing) existing.Value = value;
        else o.Properties.Add(new PSNoteProperty(name, value));
    }

    /// <summary>True when -WhatIf or -Confirm was given (or $WhatIfPreference is set): then the plan is worth computing.</summary>
    protected bool WantsPlan
    {
        get
        {
            var w = Switch("WhatIf");
            if (w == true || Switch("Confirm") == true) return true;
            return w is null && LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("WhatIfPreference"));
        }
    }

    /// <summary>True when -WhatIf is in effect (given, or $WhatIfPreference).</summary>
    protected bool IsWhatIf =>
        Switch("WhatIf") ?? LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("WhatIfPreference"));

    private bool? Switch(string name) =>
        MyInvocation.BoundParameters.TryGetValue(name, out var v) ? v is SwitchParameter s ? s.IsPresent : LanguagePrimitives.IsTrue(v) : null;

    /// <summary>
    /// ShouldProcess that shows the whole plan: with -WhatIf or -Confirm the plan is built first (validated, nothing
    /// changed) and its text is the What-if message and the confirmation prompt; otherwise the plain target/action.
    /// A plan that cannot be built (bad input) is written as the error it is, and false is returned.
    /// </summary>
    protected bool ShouldRun(string target, string action, Func<OperationPlan> plan, object? errorTarget)
    {
        if (!WantsPlan) return ShouldProcess(target, action);
        if (!Try(errorTarget, plan, out var p)) return false;
        var text = p.ToString();
        return ShouldProcess(text, $"{action} on {target}?{Environment.NewLine}{text}", action);
    }

    /// <summary>The endpoints of a network, or none when it cannot be read (the operation itself then reports why).</summary>
    protected static IReadOnlyList<ContainerEndpoint> EndpointsOf(ContainerNetworkManager manager, string network)
    {
        try { return manager.GetEndpoints(network); }
        catch (Exception e) when (ErrorMapping.IsMapped(e) || e is IOException) { return []; }
    }

    /// <summary>Forgets the cached handle of a container namespace that an operation deleted.</summary>
    protected static void ForgetNamespaces(IEnumerable<ContainerEndpoint> removed)
    {
        foreach (var e in removed)
            if (e.CreatedNamespace && e.Namespace is { } n && !NetNamespace.Exists(n)) NetNamespaceCache.Drop(n);
    }
}

/// <summary>
/// A container-network cmdlet whose -NetNamespace (the host) also binds by property name, so that records emitted by
/// another call (NoteProperty NetNamespace) are acted on in the host namespace they came from.
/// </summary>
public abstract class PipelineContainerNetworkCmdlet : ContainerNetworkCmdlet
{
    /// <summary>
    /// The namespace that plays the host (where bridges, host-side veths and rules live): a name under /run/netns, a path,
    /// or a NetNamespace object. Default: the namespace PowerShell runs in.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [NetNamespaceTransformation]
    [ArgumentCompleter(typeof(NetNamespaceNameCompleter))]
    public NetNamespace? NetNamespace { get; set; }

    protected override NetNamespace? HostParameter => NetNamespace;
}
