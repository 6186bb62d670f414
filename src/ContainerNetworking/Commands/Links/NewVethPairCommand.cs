using System.Management.Automation;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;

namespace ContainerNetworking.Commands;

/// <summary>
/// New-VethPair: creates a veth pair in one request, the peer directly in its namespace under its final name
/// (<c>ip link add NAME type veth peer name PEER netns NS</c>), optionally enslaved to a bridge and up.
/// </summary>
[Cmdlet(VerbsCommon.New, "VethPair", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(LinkInfo))]
public sealed class NewVethPairCommand : NamespacedCmdlet
{
    /// <summary>The name of the local end (in -NetNamespace).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    /// <summary>The name of the peer end (in -PeerNetNamespace), e.g. eth0.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    public string PeerName { get; set; } = "";

    /// <summary>The namespace the peer is created in; default: the same as the local end.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [NetNamespaceTransformation]
    [ArgumentCompleter(typeof(NetNamespaceNameCompleter))]
    public NetNamespace? PeerNetNamespace { get; set; }

    /// <summary>The MTU of both ends.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)] [ValidateRange(68, 65535)] public int? Mtu { get; set; }

    /// <summary>The MAC address of the local end.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)] public string? MacAddress { get; set; }

    /// <summary>The MAC address of the peer end.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)] public string? PeerMacAddress { get; set; }

    /// <summary>The bridge to enslave the local end to, in the same request.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(BridgeNameCompleter))]
    public string? Bridge { get; set; }

    /// <summary>Bring both ends up.</summary>
    [Parameter] public SwitchParameter Up { get; set; }

    protected override void ProcessRecord()
    {
        var ns = Namespace;
        var peerNs = PeerNetNamespace is { } p && p.Id != ns.Id ? p : null;
        if (!ShouldProcess($"veth {Name}{In(ns)} (peer {PeerName}{(peerNs is null ? "" : In(peerNs))})", "Create veth pair")) return;
        // -Up brings up both ends; the core does the peer's in a second request through the peer namespace's own
        // connection (the kernel refuses IFF_UP on a peer in the create request) and deletes the pair if that fails.
        var options = new VethOptions { Mtu = Mtu, MacAddress = MacAddress, PeerMacAddress = PeerMacAddress, Master = Bridge, Up = Up, PeerUp = Up };
        var ok = Try(Name, () => ns.Rtnl.CreateVeth(Name, PeerName, peerNs?.Handle, options, (peerNs ?? ns).Rtnl), out var link);
        if (ok) WriteObject(LinkView.Decorate(link, null, peerNs is null ? PeerName : $"{PeerName}@{peerNs}"));
    }
}
