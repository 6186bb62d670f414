using System.Management.Automation;

namespace ContainerNetworking.Commands;

/// <summary>Remove-NetLink: deletes links; deleting one end of a veth deletes both (<c>ip link del NAME</c>).</summary>
[Cmdlet(VerbsCommon.Remove, "NetLink", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveNetLinkCommand : NamespacedCmdlet
{
    /// <summary>The interfaces to delete; a LinkInfo binds by its Name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name", "ifAlias")]
    [ArgumentCompleter(typeof(LinkNameCompleter))]
    public string[] InterfaceAlias { get; set; } = [];

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        using var progress = new ProgressReporter(this, "Removing links", InterfaceAlias.Length);
        foreach (var name in InterfaceAlias)
        {
            progress.Next(name);
            if (ShouldProcess($"link {name}{In(ns)}", "Remove link")) Try(name, () => ns.Rtnl.DeleteLink(name));
        }
    }
}
