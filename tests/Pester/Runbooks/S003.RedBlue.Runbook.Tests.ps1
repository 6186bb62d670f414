<#
    Runbook S003 "red and blue", as Pester tests you can read and run to verify a host:
        sudo pwsh -c "Invoke-Pester ./tests/Pester/Runbooks/S003.RedBlue.Runbook.Tests.ps1 -Output Detailed"

    Two namespaces, red and blue, on a bridge br0 ping each other; the host reaches them once br0 has an address;
    with a default route and forwarding, red reaches the outside, and with masquerading the outside answers.
    Everything happens in throwaway namespaces: one plays "the host", another "the outside world" (reached over a
    veth "uplink" in 198.18.0.0/24). Nothing in the namespace you run it from changes.
#>
BeforeAll {
    . (Join-Path $PSScriptRoot '../TestHelpers.ps1')
    $hostNs = New-TestNamespace 'host' -LoopbackUp
    $outside = New-TestNamespace 'outside' -LoopbackUp
    $red = New-TestNamespace 'red' -LoopbackUp
    $blue = New-TestNamespace 'blue' -LoopbackUp
    # The outside world: an uplink from the host, 198.18.0.1 (host) <-> 198.18.0.2 (outside).
    New-VethPair -NetNamespace $hostNs -Name uplink -PeerName eth0 -PeerNetNamespace $outside -Up | Out-Null
    New-NetIPAddress -NetNamespace $hostNs uplink 198.18.0.1/24 | Out-Null
    New-NetIPAddress -NetNamespace $outside eth0 198.18.0.2/24 | Out-Null
}
AfterAll { Remove-TestNamespaces }

Describe 'S003: red and blue' -Tag 'Root', 'Runbook' {
    It 'step 1: a bridge br0 on the host, and a veth pair per namespace with the ends on br0, all up' {
        New-NetBridge -NetNamespace $hostNs -Name br0 -Up | Out-Null
        New-VethPair -NetNamespace $hostNs -Name veth-red-br -PeerName veth-red -PeerNetNamespace $red -Bridge br0 -Up | Out-Null
        New-VethPair -NetNamespace $hostNs -Name veth-blue-br -PeerName veth-blue -PeerNetNamespace $blue -Bridge br0 -Up | Out-Null
        (Get-NetLink -NetNamespace $hostNs | Where-Object Master -eq 'br0').Name | Sort-Object | Should -Be 'veth-blue-br', 'veth-red-br'
        (Get-NetLink -NetNamespace $red -InterfaceAlias veth-red).IsUp | Should -BeTrue
    }

    It 'step 2: 192.168.15.1/24 on veth-red and .2/24 on veth-blue: they ping each other, the bridge has no address' {
        New-NetIPAddress -NetNamespace $red -InterfaceAlias veth-red -IPAddress 192.168.15.1 -PrefixLength 24 | Out-Null
        New-NetIPAddress -NetNamespace $blue -InterfaceAlias veth-blue -IPAddress 192.168.15.2 -PrefixLength 24 | Out-Null
        Test-Ping $red.Name 192.168.15.2 | Should -BeTrue
        Test-Ping $blue.Name 192.168.15.1 | Should -BeTrue
        Get-NetIPAddress -NetNamespace $hostNs -InterfaceAlias br0 -AddressFamily IPv4 | Should -BeNullOrEmpty
    }

    It 'step 3: the host cannot reach red until br0 has 192.168.15.5/24' {
        Test-Ping $hostNs.Name 192.168.15.1 | Should -BeFalse
        New-NetIPAddress -NetNamespace $hostNs -InterfaceAlias br0 -IPAddress 192.168.15.5/24 | Out-Null
        Test-Ping $hostNs.Name 192.168.15.1 | Should -BeTrue
    }

    It 'step 4: red has no route to the outside ("Network is unreachable") until default via 192.168.15.5' {
        $out = Invoke-NetNamespace $red -FilePath ping -ArgumentList '-c', '1', '-W', '1', '198.18.0.2' -IgnoreExitCode 2>&1
        $LASTEXITCODE | Should -Not -Be 0
        Get-NetRoute -NetNamespace $red -DestinationPrefix default | Should -BeNullOrEmpty
        New-NetRoute -NetNamespace $red -DestinationPrefix default -NextHop 192.168.15.5 | Out-Null
        New-NetRoute -NetNamespace $blue -DestinationPrefix default -NextHop 192.168.15.5 | Out-Null
        (Get-NetRoute -NetNamespace $red default -AddressFamily IPv4).NextHop.ToString() | Should -Be '192.168.15.5'
    }

    It 'step 5: with forwarding on, requests leave with source 192.168.15.1, and the outside cannot answer' {
        Enable-IpForwarding -NetNamespace $hostNs
        (Get-IpForwarding -NetNamespace $hostNs -AddressFamily IPv4).Enabled | Should -BeTrue
        # The outside has no route back to 192.168.15.0/24: no reply, as the walkthrough's capture shows.
        Test-Ping $red.Name 198.18.0.2 | Should -BeFalse
    }

    It 'step 6: with masquerading of 192.168.15.0/24, the outside answers' {
        Add-NatMasquerade -NetNamespace $hostNs -SourcePrefix 192.168.15.0/24 | Out-Null
        Test-Ping $red.Name 198.18.0.2 | Should -BeTrue
        Test-Ping $blue.Name 198.18.0.2 | Should -BeTrue
    }

    It 'troubleshooting: routes inside, link states, the bridge''s learned addresses' {
        (Get-NetRoute -NetNamespace $red -AddressFamily IPv4).DestinationPrefix | Should -Contain '192.168.15.0/24'
        (Get-NetLink -NetNamespace $hostNs -InterfaceAlias br0).State | Should -Be 'UP'
        (Get-BridgeFdb -NetNamespace $hostNs -Bridge br0 -Learned).InterfaceAlias | Should -Contain 'veth-red-br'
    }
}
