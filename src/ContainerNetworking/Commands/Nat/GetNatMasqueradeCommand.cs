using System.Management.Automation;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Commands;

/// <summary>
/// Get-NatMasquerade: lists the masquerade and SNAT rules the module set up, with their packet and byte counters
/// (<c>nft -a list chain inet containernetworking nat-postrouting</c>; <c>iptables -t nat -L POSTROUTING -v</c>).
/// </summary>
[Cmdlet(VerbsCommon.Get, "NatMasquerade")]
[OutputType(typeof(NatMasquerade))]
public sealed class GetNatMasqueradeCommand : NatCmdlet
{
    /// <summary>Only rules for these source prefixes, e.g. 192.168.0.0/24; wildcards allowed (192.168.*).</summary>
    [Parameter(Position = 0)]
    [Alias("Source", "Subnet")]
    [SupportsWildcards]
    public string[]? SourcePrefix { get; set; }

    /// <summary>Only rules that exclude traffic leaving through these interfaces (the bridges); wildcards allowed.</summary>
    [Parameter]
    [Alias("ExcludeOutInterface")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(BridgeNameCompleter))]
    public string[]? ExcludeInterface { get; set; }

    /// <summary>Only rules of these owners; wildcards allowed.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Owner { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        if (!Try(ns, () => Firewall(ns).GetMasquerades(), out var all)) return;
        foreach (var m in all)
        {
            if (Matches(SourcePrefix, m.Source.ToString()) && Matches(ExcludeInterface, m.ExcludeOutInterface) && Matches(Owner, m.Owner))
                WriteRecord(m, ns);
        }
    }

    private static bool Matches(string[]? patterns, string? value) =>
        patterns is not { Length: > 0 } || (value is not null && patterns.Any(p => new WildcardPattern(p, WildcardOptions.IgnoreCase).IsMatch(value)));
}
