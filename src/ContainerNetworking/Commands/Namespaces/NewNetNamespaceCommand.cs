using System.Management.Automation;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Commands;

/// <summary>New-NetNamespace: creates named network namespaces (<c>ip netns add NAME</c>).</summary>
[Cmdlet(VerbsCommon.New, "NetNamespace", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(NetNamespace))]
public sealed class NewNetNamespaceCommand : NetworkingCmdlet
{
    /// <summary>The names of the namespaces to create (files under /run/netns).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    /// <summary>Bring the namespace's loopback interface up (iproute2 leaves it down).</summary>
    [Parameter]
    public SwitchParameter LoopbackUp { get; set; }

    protected override bool NeedsSysAdmin => true;

    protected override void ProcessRecord()
    {
        using var progress = new ProgressReporter(this, "Creating network namespaces", Name.Length);
        foreach (var name in Name)
        {
            progress.Next(name);
            if (!ShouldProcess($"netns {name}", "Create network namespace")) continue;
            if (!Try(name, () => NetNamespaceCache.Add(NetNamespace.Create(name)), out var ns)) continue;
            if (LoopbackUp && !Try(ns, () => ns.Rtnl.SetLinkUp("lo", true))) continue;
            WriteObject(ns);
        }
    }
}
