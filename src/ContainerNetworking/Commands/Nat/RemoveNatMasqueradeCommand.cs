using System.Management.Automation;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Commands;

/// <summary>
/// Remove-NatMasquerade: deletes masquerade / SNAT rules the module set up, piped from Get-NatMasquerade or chosen by
/// source prefix (<c>nft delete rule inet containernetworking nat-postrouting handle H</c>;
/// <c>iptables -t nat -D POSTROUTING -s 192.168.0.0/24 ! -o br0 -j MASQUERADE</c>).
/// </summary>
[Cmdlet(VerbsCommon.Remove, "NatMasquerade", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "InputObject")]
[OutputType(typeof(void))]
public sealed class RemoveNatMasqueradeCommand : NatCmdlet
{
    /// <summary>The rules to delete, from Get-NatMasquerade (their NetNamespace property binds to -NetNamespace).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "InputObject")]
    public NatMasquerade[] InputObject { get; set; } = [];

    /// <summary>Delete the rules for these source prefixes (every rule for the prefix, whatever its exclusion or SNAT address).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "SourcePrefix")]
    [Alias("Source", "Subnet")]
    public string[] SourcePrefix { get; set; } = [];

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        var fw = Firewall(ns);
        if (ParameterSetName == "SourcePrefix")
        {
            if (!Try(ns, () => fw.GetMasquerades(), out var all)) return;
            foreach (var text in SourcePrefix)
            {
                if (!Try(text, () => InputParsing.ParsePrefix(text, source: true), out var prefix)) continue;
                var matching = all.Where(m => m.Source.Equals(prefix)).ToList();
                if (matching.Count == 0)
                {
                    WriteError("MasqueradeNotFound", ErrorCategory.ObjectNotFound,
                        $"There is no masquerade for {prefix}{In(ns)}; nothing to remove. List them with Get-NatMasquerade.", text);
                    continue;
                }
                foreach (var m in matching) Remove(fw, m, ns);
            }
            return;
        }
        foreach (var m in InputObject) Remove(fw, m, ns);
    }

    private void Remove(ContainerFirewall fw, NatMasquerade m, Namespaces.NetNamespace ns)
    {
        var what = $"{(m.SnatAddress is null ? "masquerade" : "SNAT to " + m.SnatAddress)} of {m.Source}" +
                   $"{(m.ExcludeOutInterface is null ? "" : " not leaving through " + m.ExcludeOutInterface)} (rule handle {m.Handle}){In(ns)}";
        if (ShouldProcess(what, "Remove NAT rule")) Try(m, () => fw.RemoveMasquerade(m));
    }
}
