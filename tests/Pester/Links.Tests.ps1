# New-VethPair, New-NetBridge, Add-/Remove-BridgePort, Get-/Set-/Remove-NetLink. Root; throwaway namespaces only.
BeforeAll { . (Join-Path $PSScriptRoot 'TestHelpers.ps1') }
AfterAll { Remove-TestNamespaces }

Describe 'New-VethPair' -Tag 'Root' {
    BeforeEach {
        $hostNs = New-TestNamespace 'host'
        $c = New-TestNamespace 'c'
    }
    AfterEach { Remove-TestNamespaces }

    It 'creates the peer directly in the container namespace under its final name, enslaved and up' {
        New-NetBridge -NetNamespace $hostNs -Name br0 -Up | Out-Null
        $veth = New-VethPair -NetNamespace $hostNs -Name veth1 -PeerName eth0 -PeerNetNamespace $c -Bridge br0 -Mtu 1400 -PeerMacAddress 02:42:ac:11:00:02 -Up
        $veth.Name | Should -Be 'veth1'
        $veth.Master | Should -Be 'br0'
        $veth.Peer | Should -Be "eth0@$($c.Name)"
        $peer = Get-IpJson $c.Name 'link', 'show', 'eth0'
        $peer.address | Should -Be '02:42:ac:11:00:02'
        $peer.mtu | Should -Be 1400
        $peer.flags | Should -Contain 'UP'
        (Get-IpJson $hostNs.Name 'link', 'show', 'veth1').master | Should -Be 'br0'
    }

    It '-WhatIf creates nothing' {
        New-VethPair -NetNamespace $hostNs -Name veth1 -PeerName eth0 -PeerNetNamespace $c -WhatIf
        (Get-IpJson $hostNs.Name 'link', 'show').ifname | Should -Not -Contain 'veth1'
    }

    It 'rejects a name longer than 15 bytes with InvalidInterfaceName and leaves nothing behind' {
        { New-VethPair -NetNamespace $hostNs -Name 'averyveryverylongname' -PeerName eth0 -PeerNetNamespace $c -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidInterfaceName,*'
        (Get-IpJson $c.Name 'link', 'show').ifname | Should -Be @('lo')
    }

    It 'reports LinkNotFound for a bridge that does not exist and leaves nothing behind' {
        { New-VethPair -NetNamespace $hostNs -Name veth1 -PeerName eth0 -PeerNetNamespace $c -Bridge nosuchbr -ErrorAction Stop } | Should -Throw -ErrorId 'LinkNotFound,*'
        (Get-IpJson $hostNs.Name 'link', 'show').ifname | Should -Not -Contain 'veth1'
        (Get-IpJson $c.Name 'link', 'show').ifname | Should -Be @('lo')
    }

    It 'reports Kernel.EEXIST for a duplicate name' {
        New-VethPair -NetNamespace $hostNs -Name veth1 -PeerName eth0 -PeerNetNamespace $c | Out-Null
        { New-VethPair -NetNamespace $hostNs -Name veth1 -PeerName eth1 -PeerNetNamespace $c -ErrorAction Stop } | Should -Throw -ErrorId 'Kernel.EEXIST,*'
    }

    It 'creates pairs from objects in the pipeline (by property name)' {
        $rows = [pscustomobject]@{ Name = 'va'; PeerName = 'eth0'; PeerNetNamespace = $c.Name; NetNamespace = $hostNs.Name },
                [pscustomobject]@{ Name = 'vb'; PeerName = 'eth1'; PeerNetNamespace = $c.Name; NetNamespace = $hostNs.Name }
        ($rows | New-VethPair).Name | Should -Be 'va', 'vb'
        (Get-IpJson $c.Name 'link', 'show').ifname | Should -Contain 'eth1'
    }
}

Describe 'Bridges and ports' -Tag 'Root' {
    BeforeEach {
        $hostNs = New-TestNamespace 'host'
        New-NetBridge -NetNamespace $hostNs -Name br0 -Up | Out-Null
        New-VethPair -NetNamespace $hostNs -Name va -PeerName pa | Out-Null
        New-VethPair -NetNamespace $hostNs -Name vb -PeerName pb | Out-Null
    }
    AfterEach { Remove-TestNamespaces }

    It 'New-NetBridge creates a bridge with the given MAC address' {
        $br = New-NetBridge -NetNamespace $hostNs -Name br1 -MacAddress 02:42:ac:11:00:01
        $br.Kind | Should -Be 'bridge'
        (Get-IpJson $hostNs.Name 'link', 'show', 'br1').address | Should -Be '02:42:ac:11:00:01'
    }

    It 'Add-BridgePort enslaves links from the pipeline and sets hairpin and learning' {
        Get-NetLink -NetNamespace $hostNs -InterfaceAlias va, vb | Add-BridgePort -Bridge br0 -Hairpin -Learning:$false
        $ports = & ip -n $hostNs.Name -j -d link show master br0 | ConvertFrom-Json
        $ports.ifname | Sort-Object | Should -Be 'va', 'vb'
        $va = $ports | Where-Object ifname -eq 'va'
        $va.linkinfo.info_slave_data.hairpin | Should -BeTrue
        $va.linkinfo.info_slave_data.learning | Should -BeFalse
    }

    It 'Add-BridgePort -WhatIf changes nothing' {
        Add-BridgePort -NetNamespace $hostNs -Bridge br0 -InterfaceAlias va -WhatIf
        (Get-IpJson $hostNs.Name 'link', 'show', 'va').PSObject.Properties.Name | Should -Not -Contain 'master'
    }

    It 'Add-BridgePort reports LinkNotFound for a bridge that does not exist' {
        { Add-BridgePort -NetNamespace $hostNs -Bridge nosuch -InterfaceAlias va -ErrorAction Stop } | Should -Throw -ErrorId 'LinkNotFound,*'
    }

    It 'Remove-BridgePort releases a port and reports NotABridgePort for one that is not' {
        Add-BridgePort -NetNamespace $hostNs -Bridge br0 -InterfaceAlias va
        Remove-BridgePort -NetNamespace $hostNs -InterfaceAlias va -PassThru | ForEach-Object Master | Should -BeNullOrEmpty
        (Get-IpJson $hostNs.Name 'link', 'show', 'va').PSObject.Properties.Name | Should -Not -Contain 'master'
        { Remove-BridgePort -NetNamespace $hostNs -InterfaceAlias vb -ErrorAction Stop } | Should -Throw -ErrorId 'NotABridgePort,*'
    }
}

Describe 'Get-, Set-, Remove-NetLink' -Tag 'Root' {
    BeforeEach {
        $hostNs = New-TestNamespace 'host'
        $c = New-TestNamespace 'c'
        New-NetBridge -NetNamespace $hostNs -Name br0 | Out-Null
        New-VethPair -NetNamespace $hostNs -Name veth1 -PeerName eth0 -PeerNetNamespace $c -Bridge br0 | Out-Null
        New-NetIPAddress -NetNamespace $c -InterfaceAlias eth0 -IPAddress 10.99.0.2/24 | Out-Null
    }
    AfterEach { Remove-TestNamespaces }

    It 'Get-NetLink lists links with kind, master, peer and addresses, as ip does' {
        $links = Get-NetLink -NetNamespace $hostNs
        $links.Name | Sort-Object | Should -Be ((Get-IpJson $hostNs.Name 'link', 'show').ifname | Sort-Object)
        $veth = $links | Where-Object Name -eq 'veth1'
        $veth.Kind | Should -Be 'veth'
        $veth.Master | Should -Be 'br0'
        $veth.Peer | Should -Be "eth0@$($c.Name)"
        (Get-NetLink -NetNamespace $c -InterfaceAlias eth0).IPAddress | Should -Be '10.99.0.2/24'
        (Get-NetLink -NetNamespace $hostNs -Kind bridge).Name | Should -Be 'br0'
    }

    It 'Get-NetLink''s table fits a 120-column console: name, state, kind, master and peer, and every address in full' {
        Set-NetLink -NetNamespace $hostNs br0, veth1 -Up
        Set-NetLink -NetNamespace $c eth0 -Up
        New-NetIPAddress -NetNamespace $hostNs br0 172.17.0.1/16 | Out-Null
        New-NetIPAddress -NetNamespace $hostNs br0 198.51.100.1/24 | Out-Null
        # The kernel raises a bridge's and a veth's operstate to UP a moment after they are set up (carrier comes
        # asynchronously): wait for it, as ip would show it, before reading the table.
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while (@(Get-IpJson $hostNs.Name 'link', 'show' | Where-Object { $_.ifname -in 'br0', 'veth1' -and $_.operstate -eq 'UP' }).Count -lt 2 -and [DateTime]::UtcNow -lt $deadline) {
            Start-Sleep -Milliseconds 50
        }
        $lines = (Get-NetLink -NetNamespace $hostNs | Out-String -Width 120) -split "`n" | ForEach-Object TrimEnd
        $lines | Should -Contain "   NetNamespace: $($hostNs.Name)"
        $lines -match [char]0x2026 | Should -BeNullOrEmpty -Because 'nothing is cut off'
        $lines -match '^br0\s+UP\s+bridge\s+172\.17\.0\.1/16 198\.51\.100\.1/24( fe80::[0-9a-f:]+/64)?$' | Should -HaveCount 1
        $lines -match "^veth1\s+UP\s+veth\s+br0 $([char]0x21C4) eth0@$([regex]::Escape($c.Name))(\s+fe80::[0-9a-f:]+/64)?$" | Should -HaveCount 1
        $lines -match "^eth0\s" | Should -BeNullOrEmpty
        $lines = (Get-NetLink -NetNamespace $c | Out-String -Width 120) -split "`n" | ForEach-Object TrimEnd
        $lines -match "^eth0\s+UP\s+veth\s+$([char]0x21C4) veth1@$([regex]::Escape($hostNs.Name))\s+10\.99\.0\.2/24( fe80::[0-9a-f:]+/64)?$" | Should -HaveCount 1
        # The list view keeps what the table leaves out.
        (Get-NetLink -NetNamespace $hostNs br0 | Format-List | Out-String) | Should -Match 'Mtu\s+: 1500'
    }

    It 'Get-NetLink reports LinkNotFound for a literal name, nothing for a wildcard' {
        { Get-NetLink -NetNamespace $hostNs -InterfaceAlias nosuch -ErrorAction Stop } | Should -Throw -ErrorId 'LinkNotFound,*'
        Get-NetLink -NetNamespace $hostNs -InterfaceAlias 'nosuch*' -ErrorAction Stop | Should -BeNullOrEmpty
    }

    It 'Set-NetLink brings piped links up, in their own namespace' {
        Get-NetLink -NetNamespace $c | Set-NetLink -Up
        (Get-IpJson $c.Name 'link', 'show', 'eth0').flags | Should -Contain 'UP'
        (Get-IpJson $c.Name 'link', 'show', 'lo').flags | Should -Contain 'UP'
    }

    It 'Set-NetLink changes MTU, MAC address and name' {
        Set-NetLink -NetNamespace $c -InterfaceAlias eth0 -Mtu 1450 -MacAddress 02:00:00:00:00:99 -NewName eth9
        $l = Get-IpJson $c.Name 'link', 'show', 'eth9'
        $l.mtu | Should -Be 1450
        $l.address | Should -Be '02:00:00:00:00:99'
    }

    It 'Set-NetLink moves a link into another namespace under a new name' {
        $other = New-TestNamespace 'other'
        New-VethPair -NetNamespace $hostNs -Name vm -PeerName vmp | Out-Null
        Set-NetLink -NetNamespace $hostNs -InterfaceAlias vmp -TargetNetNamespace $other -NewName eth0 -PassThru | ForEach-Object Name | Should -Be 'eth0'
        (Get-IpJson $other.Name 'link', 'show').ifname | Should -Contain 'eth0'
    }

    It 'Set-NetLink rejects a bad MTU and a bad MAC address, changing nothing' {
        { Set-NetLink -NetNamespace $c -InterfaceAlias eth0 -Mtu 10 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        { Set-NetLink -NetNamespace $c -InterfaceAlias eth0 -MacAddress 'zz:00' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidMacAddress,*'
        { Set-NetLink -NetNamespace $c -InterfaceAlias eth0 -Up -Down -ErrorAction Stop } | Should -Throw -ErrorId 'ConflictingArguments,*'
        (Get-IpJson $c.Name 'link', 'show', 'eth0').mtu | Should -Be 1500
    }

    It 'Set-NetLink -IPv6AddressGeneration None -Up: the link comes up without a link-local address, its peer with one' {
        Set-NetLink -NetNamespace $c -InterfaceAlias eth0 -IPv6AddressGeneration None -Up -WhatIf
        (Get-IpJson $c.Name 'link', 'show', 'eth0').inet6_addr_gen_mode | Should -Be 'eui64'
        Set-NetLink -NetNamespace $c -InterfaceAlias eth0 -IPv6AddressGeneration None -Up -PassThru |
            ForEach-Object IPv6AddressGeneration | Should -Be 'None'
        Set-NetLink -NetNamespace $hostNs -InterfaceAlias veth1 -Up
        (Get-IpJson $c.Name 'link', 'show', 'eth0').inet6_addr_gen_mode | Should -Be 'none'
        (Get-IpJson $c.Name 'link', 'show', 'eth0').flags | Should -Contain 'UP'
        # The host end makes its fe80:: address once the pair has its carrier; by then eth0 would have made its own.
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while (-not (Get-IpJson $hostNs.Name '-6', 'addr', 'show', 'dev', 'veth1').addr_info -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        (Get-IpJson $hostNs.Name '-6', 'addr', 'show', 'dev', 'veth1').addr_info.local | Should -Match '^fe80:'
        (Get-IpJson $c.Name '-6', 'addr', 'show', 'dev', 'eth0').addr_info | Should -BeNullOrEmpty
    }

    It 'Set-NetLink -WhatIf changes nothing' {
        Set-NetLink -NetNamespace $c -InterfaceAlias eth0 -Up -WhatIf
        (Get-IpJson $c.Name 'link', 'show', 'eth0').flags | Should -Not -Contain 'UP'
    }

    It 'Remove-NetLink deletes both ends of a veth, from the pipeline' {
        Get-NetLink -NetNamespace $hostNs -InterfaceAlias veth1 | Remove-NetLink -Confirm:$false
        (Get-IpJson $hostNs.Name 'link', 'show').ifname | Should -Not -Contain 'veth1'
        (Get-IpJson $c.Name 'link', 'show').ifname | Should -Not -Contain 'eth0'
    }

    It 'Remove-NetLink -WhatIf deletes nothing; a missing link is LinkNotFound' {
        Remove-NetLink -NetNamespace $hostNs -InterfaceAlias veth1 -WhatIf
        (Get-IpJson $hostNs.Name 'link', 'show').ifname | Should -Contain 'veth1'
        { Remove-NetLink -NetNamespace $hostNs -InterfaceAlias nosuch -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'LinkNotFound,*'
    }
}
