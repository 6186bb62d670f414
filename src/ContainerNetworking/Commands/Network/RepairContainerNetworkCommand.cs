using System.Management.Automation;
using ContainerNetworking.Model;

namespace ContainerNetworking.Commands;

/// <summary>
/// Repair-ContainerNetwork: finds what a crashed or killed process left behind (half-built networks and endpoints,
/// endpoints whose namespace is gone, leases without an endpoint, veths without an owner, published ports that point at
/// addresses nobody owns, flushed rules, records a power cut left empty and the temporary files of killed writers) and
/// removes, sets aside or re-creates it. With -WhatIf it lists the findings and changes nothing.
/// </summary>
[Cmdlet(VerbsDiagnostic.Repair, "ContainerNetwork", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RepairFinding))]
public sealed class RepairContainerNetworkCommand : PipelineContainerNetworkCmdlet
{
    protected override bool NeedsSysAdmin => true;

    protected override void ProcessRecord()
    {
        var manager = Manager;
        var target = $"container networks{In(manager.Host)} (state {manager.State.Root})";
        IReadOnlyList<RepairFinding> findings;
        if (IsWhatIf)
        {
            // What -WhatIf shows: the findings it would act on, each as What if: and as an object; nothing changes.
            if (!Try(target, () => manager.Repair(whatIf: true), out findings)) return;
            foreach (var f in findings) ShouldProcess($"{f.Kind} {f.Object} on network {f.Network}{In(manager.Host)}", f.Action == "WouldRecreate" ? "Recreate" : "Remove");
            if (findings.Count == 0) ShouldProcess(target, "Repair (nothing to repair)");
        }
        else
        {
            if (!ShouldProcess(target, "Repair leftovers")) return;
            if (!Try(target, () => manager.Repair(whatIf: false), out findings)) return;
        }
        foreach (var f in findings)
        {
            if (f.Action == "Failed")
                WriteWarning($"{f.Kind} {f.Object} on network {f.Network}: {f.Detail}");
            WriteRecord(f, manager);
        }
    }
}
