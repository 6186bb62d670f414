#
# Module manifest for ContainerNetworking.
# Layout (after ./build.ps1 Build, and the same under out/ContainerNetworking/<version>/ after ./build.ps1 Package):
#   ContainerNetworking.psd1            this file
#   bin/ContainerNetworking.dll         the cmdlets (and bin/ContainerNetworking.Core.dll, the library under them)
#   bin/ContainerNetworking.Format.ps1xml, bin/ContainerNetworking.Types.ps1xml
#   bin/runtimes/linux-<arch>/lib/<tfm>/Tmds.LibC.dll   the libc binding, one per architecture (x64, arm64, arm); the module
#                                       loads the one for the architecture pwsh runs on (pwsh reads no deps.json)
#   en-US/ContainerNetworking.dll-Help.xml   MAML help, built from en-US/*.md by ./build.ps1 Docs
#   en-US/about_ContainerNetworking.help.txt
# Adding a cmdlet: list it in CmdletsToExport (sorted by noun, then verb), write en-US/<Verb-Noun>.md, add a view for
# its output type to src/ContainerNetworking/ContainerNetworking.Format.ps1xml. The help check in
# tests/ContainerNetworking.Tests/Help fails until all three are done.
#
@{
    RootModule           = 'bin/ContainerNetworking.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '5b0c9a54-3f2e-4d8e-9a36-0d6f7c1e2b41'
    Author               = 'ContainerNetworking contributors'
    CompanyName          = 'ContainerNetworking contributors'
    Copyright            = '(c) ContainerNetworking contributors.'
    Description          = 'Docker-style container networking on Linux from PowerShell: network namespaces, veth pairs, bridges, addresses, routes, IP forwarding and nf_tables NAT and port publishing, as binary cmdlets that talk netlink to the kernel directly (no ip, iptables, nft or sysctl processes). Compatible with ip netns. Needs Linux, root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and PowerShell 7.4 or later.'
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('bin/ContainerNetworking.Format.ps1xml')
    TypesToProcess       = @('bin/ContainerNetworking.Types.ps1xml')
    CmdletsToExport      = @(
        'Get-BridgeFdb'
        'Add-BridgePort'
        'Remove-BridgePort'
        'Connect-ContainerCluster'
        'Disconnect-ContainerCluster'
        'Get-ContainerCluster'
        'New-ContainerCluster'
        'Remove-ContainerCluster'
        'Sync-ContainerCluster'
        'Get-ContainerClusterNode'
        'Get-ContainerEndpoint'
        'Connect-ContainerNetwork'
        'Disconnect-ContainerNetwork'
        'Get-ContainerNetwork'
        'New-ContainerNetwork'
        'Remove-ContainerNetwork'
        'Repair-ContainerNetwork'
        'Set-ContainerNetwork'
        'Test-ContainerNetwork'
        'Get-ContainerPort'
        'Publish-ContainerPort'
        'Unpublish-ContainerPort'
        'Disable-IpForwarding'
        'Enable-IpForwarding'
        'Get-IpForwarding'
        'Add-NatMasquerade'
        'Get-NatMasquerade'
        'Remove-NatMasquerade'
        'New-NetBridge'
        'Get-NetIPAddress'
        'New-NetIPAddress'
        'Remove-NetIPAddress'
        'Get-NetLink'
        'Remove-NetLink'
        'Set-NetLink'
        'Get-NetNamespace'
        'Invoke-NetNamespace'
        'New-NetNamespace'
        'Remove-NetNamespace'
        'Get-NetNeighbor'
        'Get-NetRoute'
        'Export-NetTopology'
        'Get-NetTopology'
        'New-NetRoute'
        'Remove-NetRoute'
        'New-VethPair'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Linux', 'Networking', 'Containers', 'Netlink', 'NetworkNamespace', 'netns', 'veth', 'Bridge', 'NAT', 'nftables', 'Docker', 'CNI', 'PSEdition_Core')
            ReleaseNotes = 'First release: namespaces, veth pairs, bridges, addresses, routes, neighbours, bridge FDB and IP forwarding.'
        }
    }
}
