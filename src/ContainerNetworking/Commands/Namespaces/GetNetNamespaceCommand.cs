using System.Management.Automation;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Commands;

/// <summary>Get-NetNamespace: lists and opens network namespaces (<c>ip netns list</c>).</summary>
[Cmdlet(VerbsCommon.Get, "NetNamespace", DefaultParameterSetName = "Name")]
[OutputType(typeof(NetNamespace))]
public sealed class GetNetNamespaceCommand : NetworkingCmdlet
{
    /// <summary>Names under /run/netns; wildcards allowed. All when omitted.</summary>
    [Parameter(ParameterSetName = "Name", Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(NetNamespaceNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>A namespace file: a bind mount or /proc/PID/ns/net.</summary>
    [Parameter(ParameterSetName = "Path", Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The processes whose network namespace to open.</summary>
    [Parameter(ParameterSetName = "ProcessId", Mandatory = true)]
    [ValidateRange(1, int.MaxValue)]
    public int[] ProcessId { get; set; } = [];

    /// <summary>The namespace PowerShell itself runs in.</summary>
    [Parameter(ParameterSetName = "Current", Mandatory = true)]
    public SwitchParameter Current { get; set; }

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case "Current":
                WriteObject(NetNamespaceCache.Current);
                break;
            case "Path":
                if (Try(Path, () => NetNamespaceCache.Get(Path), out var byPath)) WriteObject(byPath);
                break;
            case "ProcessId":
                foreach (var pid in ProcessId)
                {
                    if (!Directory.Exists($"/proc/{pid}"))
                        WriteError("ProcessNotFound", ErrorCategory.ObjectNotFound, $"Process {pid} does not exist, so it has no network namespace. Check the id with Get-Process.", pid);
                    else if (Try(pid, () => NetNamespaceCache.Get($"/proc/{pid}/ns/net"), out var byPid)) WriteObject(byPid);
                }
                break;
            default:
                var names = FilterByName(NetNamespace.ListNames(), n => n, Name, n => NotFound(n));
                foreach (var name in names)
                {
                    if (TryOpenNamespace(name, Name, out var ns)) WriteObject(ns);
                }
                break;
        }
    }

    private static ErrorRecord NotFound(string name) => ErrorMapping.ToErrorRecord(new NetNamespaceNotFoundException(name,
        $"Network namespace '{name}' does not exist (no {NetNamespace.RunDirectory}/{name}). List them with Get-NetNamespace; create it with New-NetNamespace -Name {name}."), name)!;
}
