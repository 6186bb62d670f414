<#
    Runbook S002 "from one veth to a bridge, then to the world", as Pester tests you can read and run:
        sudo pwsh -c "Invoke-Pester ./tests/Pester/Runbooks/S002.Bridge.Runbook.Tests.ps1 -Output Detailed"

    A namespace on one veth works; a second one the same way breaks (two host routes for one subnet); a bridge fixes
    it; the host reaches the namespaces once the bridge has 172.18.0.1/16, and they reach the host's uplink with a
    default route. Throwaway namespaces only: one plays "the host".
#>
BeforeAll {
    . (Join-Path $PSScriptRoot '../TestHelpers.ps1')
    $hostNs = New-TestNamespace 'host' -LoopbackUp
    $netns0 = New-TestNamespace 'netns0'
    $netns1 = New-TestNamespace 'netns1'
    # The host's own "eth0" (its uplink), with an address outside the containers' subnet: one end of a veth pair.
    New-VethPair -NetNamespace $hostNs -Name eth0 -PeerName eth0-far -Up | Out-Null
    New-NetIPAddress -NetNamespace $hostNs eth0 10.0.2.15/24 | Out-Null
}
AfterAll { Remove-TestNamespaces }

Describe 'S002: from one veth to a bridge' -Tag 'Root', 'Runbook' {
    It 'a new namespace has only lo, down, and no routes' {
        (Get-NetLink -NetNamespace $netns0).Name | Should -Be 'lo'
        (Get-NetLink -NetNamespace $netns0).IsUp | Should -BeFalse
        Get-NetRoute -NetNamespace $netns0 | Should -BeNullOrEmpty
    }

    It 'netns0 on one veth: 172.18.0.11/16 on the host end, .10/16 inside, both sides ping' {
        New-VethPair -NetNamespace $hostNs -Name veth0 -PeerName ceth0 -PeerNetNamespace $netns0 -Up | Out-Null
        Set-NetLink -NetNamespace $netns0 -InterfaceAlias lo -Up
        New-NetIPAddress -NetNamespace $hostNs veth0 172.18.0.11/16 | Out-Null
        New-NetIPAddress -NetNamespace $netns0 ceth0 172.18.0.10/16 | Out-Null
        Test-Ping $hostNs.Name 172.18.0.10 | Should -BeTrue
        Test-Ping $netns0.Name 172.18.0.11 | Should -BeTrue
    }

    It 'netns1 the same way breaks: two host routes for 172.18.0.0/16, the first wins' {
        New-VethPair -NetNamespace $hostNs -Name veth1 -PeerName ceth1 -PeerNetNamespace $netns1 -Up | Out-Null
        New-NetIPAddress -NetNamespace $hostNs veth1 172.18.0.21/16 | Out-Null
        New-NetIPAddress -NetNamespace $netns1 ceth1 172.18.0.20/16 | Out-Null
        @(Get-NetRoute -NetNamespace $hostNs 172.18.0.0/16).Count | Should -Be 2
        Test-Ping $hostNs.Name 172.18.0.20 | Should -BeFalse
    }

    It 'the fix is a bridge: no addresses on the host ends, both enslaved to br0; the namespaces reach each other at L2' {
        Get-NetIPAddress -NetNamespace $hostNs -InterfaceAlias veth0, veth1 -AddressFamily IPv4 | Remove-NetIPAddress -Confirm:$false
        New-NetBridge -NetNamespace $hostNs -Name br0 -Up | Out-Null
        Add-BridgePort -NetNamespace $hostNs -Bridge br0 -InterfaceAlias veth0, veth1
        Test-Ping $netns0.Name 172.18.0.20 | Should -BeTrue
        (Get-NetNeighbor -NetNamespace $netns0 -IPAddress 172.18.0.20).LinkLayerAddress |
            Should -Be (Get-NetLink -NetNamespace $netns1 -InterfaceAlias ceth1).MacAddress
    }

    It 'the host reaches them once br0 has 172.18.0.1/16' {
        Test-Ping $hostNs.Name 172.18.0.10 | Should -BeFalse
        New-NetIPAddress -NetNamespace $hostNs br0 172.18.0.1/16 | Out-Null
        Test-Ping $hostNs.Name 172.18.0.10 | Should -BeTrue
        Test-Ping $hostNs.Name 172.18.0.20 | Should -BeTrue
    }

    It 'the namespaces reach the host''s eth0 address once they have default via 172.18.0.1' {
        Test-Ping $netns0.Name 10.0.2.15 | Should -BeFalse
        New-NetRoute -NetNamespace $netns0 default -NextHop 172.18.0.1 | Out-Null
        New-NetRoute -NetNamespace $netns1 default -NextHop 172.18.0.1 | Out-Null
        Test-Ping $netns0.Name 10.0.2.15 | Should -BeTrue
        Test-Ping $netns1.Name 10.0.2.15 | Should -BeTrue
    }
}
