using System.Management.Automation;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Commands;

/// <summary>Remove-NetNamespace: deletes named network namespaces (<c>ip netns delete NAME</c>).</summary>
[Cmdlet(VerbsCommon.Remove, "NetNamespace", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveNetNamespaceCommand : NetworkingCmdlet
{
    /// <summary>The names of the namespaces to delete; a NetNamespace object binds by its Name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(NetNamespaceNameCompleter))]
    public string[] Name { get; set; } = [];

    protected override bool NeedsSysAdmin => true;

    protected override void ProcessRecord()
    {
        using var progress = new ProgressReporter(this, "Removing network namespaces", Name.Length);
        foreach (var name in Name)
        {
            progress.Next(name);
            if (!ShouldProcess($"netns {name}", "Remove network namespace")) continue;
            // Close our handle and sockets first: they would keep the namespace (and its veths) alive.
            Try(name, () =>
            {
                NetNamespace.ValidateName(name);
                NetNamespaceCache.Drop(name);
                NetNamespace.Delete(name);
            });
        }
    }
}
