using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Commands;

/// <summary>
/// Add-NatMasquerade: masquerades (or SNATs) the traffic of a source prefix that leaves through any interface but its
/// bridge: <c>iptables -t nat -A POSTROUTING -s 192.168.0.0/24 ! -o br0 -j MASQUERADE</c>, written to nf_tables as
/// <c>nft add rule inet containernetworking nat-postrouting ip saddr 192.168.0.0/24 oifname != "br0" counter masquerade</c>.
/// </summary>
[Cmdlet(VerbsCommon.Add, "NatMasquerade", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(NatMasquerade))]
public sealed class AddNatMasqueradeCommand : NatCmdlet
{
    /// <summary>The source prefix to translate, e.g. 192.168.0.0/24 or fd00:c0::/64 (iptables -s).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Source", "Subnet")]
    public string SourcePrefix { get; set; } = "";

    /// <summary>The bridge the prefix lives behind: traffic leaving through it is not translated (iptables ! -o br0).</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("ExcludeOutInterface")]
    [ArgumentCompleter(typeof(BridgeNameCompleter))]
    public string? ExcludeInterface { get; set; }

    /// <summary>Translate to this fixed source address (SNAT, iptables -j SNAT --to-source) instead of the outgoing interface's address (masquerade).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("ToSource")]
    public string? SnatAddress { get; set; }

    /// <summary>Who the rule belongs to (a container, a network, a runbook); written into the rule's comment and shown by Get-NatMasquerade.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Owner { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        if (!Try(SourcePrefix, () => InputParsing.ParsePrefix(SourcePrefix, source: true), out var source)) return;
        IPAddress? snat = null;
        if (SnatAddress is not null && !Try(SnatAddress, () => InputParsing.ParseAddress(SnatAddress, "SNAT address"), out snat)) return;
        var spec = new MasqueradeSpec(source) { ExcludeOutInterface = ExcludeInterface, SnatAddress = snat, Owner = Owner };
        var rule = $"{(snat is null ? "masquerade" : "SNAT to " + snat)} of {source}{(ExcludeInterface is null ? "" : " not leaving through " + ExcludeInterface)}";
        if (!ShouldProcess(rule + In(ns), "Add NAT rule")) return;
        var fw = Firewall(ns);
        if (!Try(spec, () => fw.AddMasquerade(spec), out var added)) return;
        WarnIfTrafficIsStopped(ns, fw, source.BaseAddress.AddressFamily, $"The {rule}");
        WriteRecord(added, ns);
    }
}
