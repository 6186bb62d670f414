# New-/Get-/Remove-NetIPAddress, New-/Get-/Remove-NetRoute, Get-NetNeighbor, Get-BridgeFdb. Root; throwaway namespaces.
BeforeAll { . (Join-Path $PSScriptRoot 'TestHelpers.ps1') }
AfterAll { Remove-TestNamespaces }

Describe 'Addresses' -Tag 'Root' {
    BeforeEach {
        $ns = New-TestNamespace 'addr'
        New-NetBridge -NetNamespace $ns -Name br0 -Up | Out-Null
    }
    AfterEach { Remove-TestNamespaces }

    It 'New-NetIPAddress adds IPv4 and IPv6 addresses and emits them' {
        $a = New-NetIPAddress -NetNamespace $ns -InterfaceAlias br0 -IPAddress 192.168.15.5 -PrefixLength 24
        $a.IPAddress.ToString() | Should -Be '192.168.15.5'
        $a.PrefixLength | Should -Be 24
        New-NetIPAddress -NetNamespace $ns br0 fd00:15::5/64 | Out-Null
        $ip = (Get-IpJson $ns.Name 'addr', 'show', 'br0').addr_info
        ($ip | Where-Object family -eq 'inet').local | Should -Be '192.168.15.5'
        ($ip | Where-Object { $_.family -eq 'inet6' -and $_.scope -eq 'global' }).local | Should -Be 'fd00:15::5'
    }

    It 'Get-NetIPAddress filters by family and address' {
        New-NetIPAddress -NetNamespace $ns br0 192.168.15.5/24 | Out-Null
        New-NetIPAddress -NetNamespace $ns br0 fd00:15::5/64 | Out-Null
        (Get-NetIPAddress -NetNamespace $ns -AddressFamily IPv4 -InterfaceAlias br0).IPAddress.ToString() | Should -Be '192.168.15.5'
        (Get-NetIPAddress -NetNamespace $ns -IPAddress 'fd00:*').InterfaceAlias | Should -Be 'br0'
    }

    It 'rejects bad input with a clear ErrorId and adds nothing' {
        { New-NetIPAddress -NetNamespace $ns br0 192.168.15.5/33 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidPrefixLength,*'
        { New-NetIPAddress -NetNamespace $ns br0 192.168.15.300/24 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidIPAddress,*'
        { New-NetIPAddress -NetNamespace $ns br0 192.168.15.5 -ErrorAction Stop } | Should -Throw -ErrorId 'PrefixLengthRequired,*'
        { New-NetIPAddress -NetNamespace $ns nosuch 192.168.15.5/24 -ErrorAction Stop } | Should -Throw -ErrorId 'LinkNotFound,*'
        (Get-IpJson $ns.Name 'addr', 'show', 'br0').addr_info | Where-Object family -eq 'inet' | Should -BeNullOrEmpty
    }

    It 'New-NetIPAddress -WhatIf adds nothing; a duplicate is Kernel.EEXIST' {
        New-NetIPAddress -NetNamespace $ns br0 192.168.15.5/24 -WhatIf
        (Get-IpJson $ns.Name 'addr', 'show', 'br0').addr_info | Where-Object family -eq 'inet' | Should -BeNullOrEmpty
        New-NetIPAddress -NetNamespace $ns br0 192.168.15.5/24 | Out-Null
        { New-NetIPAddress -NetNamespace $ns br0 192.168.15.5/24 -ErrorAction Stop } | Should -Throw -ErrorId 'Kernel.EEXIST,*'
    }

    It 'Remove-NetIPAddress removes piped addresses; -WhatIf removes nothing; a missing one is AddressNotFound' {
        New-NetIPAddress -NetNamespace $ns br0 192.168.15.5/24 | Out-Null
        Get-NetIPAddress -NetNamespace $ns -InterfaceAlias br0 -AddressFamily IPv4 | Remove-NetIPAddress -WhatIf
        (Get-IpJson $ns.Name 'addr', 'show', 'br0').addr_info | Where-Object family -eq 'inet' | Should -Not -BeNullOrEmpty
        Get-NetIPAddress -NetNamespace $ns -InterfaceAlias br0 -AddressFamily IPv4 | Remove-NetIPAddress -Confirm:$false
        (Get-IpJson $ns.Name 'addr', 'show', 'br0').addr_info | Where-Object family -eq 'inet' | Should -BeNullOrEmpty
        { Remove-NetIPAddress -NetNamespace $ns br0 192.168.15.5 -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'AddressNotFound,*'
    }

    It 'Remove-NetIPAddress -IPAddress alone finds the interface (as on Windows), never prompts; several or none is a clear error' {
        New-NetBridge -NetNamespace $ns -Name br1 -Up | Out-Null
        New-NetIPAddress -NetNamespace $ns br0 198.51.100.2/24 | Out-Null
        New-NetIPAddress -NetNamespace $ns br1 198.51.100.3/24 | Out-Null
        # In a runspace without a host a prompt for -InterfaceAlias would be an error: there must be none.
        $run = Invoke-InRunspace { param($ns) Remove-NetIPAddress -IPAddress 198.51.100.2/24 -NetNamespace $ns -Confirm:$false } @{ ns = $ns.Name }
        $run.Errors | Should -BeNullOrEmpty
        @((Get-IpJson $ns.Name 'addr', 'show', 'br0').addr_info | Where-Object family -eq 'inet') | Should -BeNullOrEmpty
        # Address first, prefix looked up, by position.
        Remove-NetIPAddress 198.51.100.3 -NetNamespace $ns -Confirm:$false
        @((Get-IpJson $ns.Name 'addr', 'show', 'br1').addr_info | Where-Object family -eq 'inet') | Should -BeNullOrEmpty

        New-NetIPAddress -NetNamespace $ns br0 198.51.100.9/24 | Out-Null
        New-NetIPAddress -NetNamespace $ns br1 198.51.100.9/24 | Out-Null
        $e = { Remove-NetIPAddress -IPAddress 198.51.100.9 -NetNamespace $ns -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'AmbiguousAddress,*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.TargetObject | Should -Be '198.51.100.9'
        $e.Exception.Message | Should -Match 'br0, br1'
        $e.Exception.Message | Should -Match '-InterfaceAlias'
        @((Get-IpJson $ns.Name 'addr', 'show').addr_info | Where-Object local -eq '198.51.100.9').Count | Should -Be 2
        Remove-NetIPAddress 198.51.100.9 -InterfaceAlias br1 -NetNamespace $ns -Confirm:$false
        (Get-IpJson $ns.Name 'addr', 'show', 'br0').addr_info.local | Should -Contain '198.51.100.9'
        (Get-IpJson $ns.Name 'addr', 'show', 'br1').addr_info.local | Should -Not -Contain '198.51.100.9'

        $e = { Remove-NetIPAddress -IPAddress 203.0.113.7/24 -NetNamespace $ns -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'AddressNotFound,*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e.Exception.Message | Should -Match "not on any interface in netns $([regex]::Escape($ns.Name))"
        # The interface-first order of New-NetIPAddress still works.
        Remove-NetIPAddress br0 198.51.100.9/24 -NetNamespace $ns -Confirm:$false
        (Get-IpJson $ns.Name 'addr', 'show', 'br0').addr_info.local | Should -Not -Contain '198.51.100.9'
    }
}

Describe 'Routes' -Tag 'Root' {
    BeforeEach {
        $ns = New-TestNamespace 'route'
        New-NetBridge -NetNamespace $ns -Name br0 -Up | Out-Null
        New-NetIPAddress -NetNamespace $ns br0 192.168.15.1/24 | Out-Null
    }
    AfterEach { Remove-TestNamespaces }

    It 'New-NetRoute adds a default route via a gateway, as ip sees it' {
        $r = New-NetRoute -NetNamespace $ns -DestinationPrefix default -NextHop 192.168.15.5
        $r.IsDefault | Should -BeTrue
        $r.NextHop.ToString() | Should -Be '192.168.15.5'
        $ipr = Get-IpJson $ns.Name 'route', 'show', 'default'
        $ipr.gateway | Should -Be '192.168.15.5'
        $ipr.dev | Should -Be 'br0'
    }

    It 'New-NetRoute adds a route with a metric, and -Replace replaces it' {
        New-NetRoute -NetNamespace $ns 10.20.0.0/16 -NextHop 192.168.15.7 -RouteMetric 50 | Out-Null
        { New-NetRoute -NetNamespace $ns 10.20.0.0/16 -NextHop 192.168.15.7 -RouteMetric 50 -ErrorAction Stop } | Should -Throw -ErrorId 'Kernel.EEXIST,*'
        New-NetRoute -NetNamespace $ns 10.20.0.0/16 -NextHop 192.168.15.8 -RouteMetric 50 -Replace | Out-Null
        $ipr = Get-IpJson $ns.Name 'route', 'show', '10.20.0.0/16'
        @($ipr).Count | Should -Be 1
        $ipr.gateway | Should -Be '192.168.15.8'
        $ipr.metric | Should -Be 50
    }

    It 'kernel errors keep errno and the kernel''s text, and add advice naming the fix, with the right category' {
        New-NetRoute -NetNamespace $ns 0.0.0.0/0 -NextHop 192.168.15.254 | Out-Null
        # An existing default: EEXIST, and the advice names -Replace.
        $e = { New-NetRoute -NetNamespace $ns 0.0.0.0/0 -NextHop 192.168.15.253 -ErrorAction Stop } | Should -Throw -ErrorId 'Kernel.EEXIST,*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'ResourceExists'
        $e.Exception.Message | Should -BeLike 'RTM_NEWROUTE: File exists (EEXIST)*0.0.0.0/0 via 192.168.15.253*'
        $e.ToString().StartsWith($e.Exception.Message) | Should -BeTrue -Because 'the kernel''s text comes first, whole'
        $e.ToString() | Should -Match 'New-NetRoute -Replace'
        $e.ErrorDetails.RecommendedAction | Should -Match 'New-NetRoute -Replace'
        # An unreachable gateway: ENETUNREACH with the kernel's extended ACK, a ConnectionError naming the gateway and the fix.
        $e = { New-NetRoute -NetNamespace $ns 10.99.0.0/16 -NextHop 10.1.1.1 -ErrorAction Stop } | Should -Throw -ErrorId 'Kernel.ENETUNREACH,*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'ConnectionError'
        $e.Exception.Message | Should -Match 'ENETUNREACH'
        $e.Exception.Message | Should -Match 'Nexthop has invalid gateway'
        $e.ToString() | Should -Match 'The gateway 10\.1\.1\.1 is not on a network'
        $e.ToString() | Should -Match 'New-NetIPAddress'
        Get-IpJson $ns.Name 'route', 'show', '10.99.0.0/16' | Should -BeNullOrEmpty
        # The same table serves the other kinds of operation: an address, a link.
        $e = { New-NetIPAddress -NetNamespace $ns br0 192.168.15.1/24 -ErrorAction Stop } | Should -Throw -ErrorId 'Kernel.EEXIST,*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'ResourceExists'
        $e.ToString() | Should -Match 'Address already assigned'
        $e.ToString() | Should -Match 'Remove-NetIPAddress'
        $e = { New-NetBridge -NetNamespace $ns br0 -ErrorAction Stop } | Should -Throw -ErrorId 'Kernel.EEXIST,*' -PassThru
        $e.ToString() | Should -Match 'Remove-NetLink'
        $e = { Remove-NetIPAddress -NetNamespace $ns 192.168.15.9/24 -InterfaceAlias br0 -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'Kernel.EADDRNOTAVAIL,*' -PassThru
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e.ToString() | Should -Match 'Get-NetIPAddress'
    }

    It 'rejects bad prefixes and next hops, adding nothing' {
        { New-NetRoute -NetNamespace $ns 10.20.0.5/16 -NextHop 192.168.15.7 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidDestinationPrefix,*'
        { New-NetRoute -NetNamespace $ns 10.20.0.0/16 -NextHop fd00::1 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidNextHop,*'
        { New-NetRoute -NetNamespace $ns 10.20.0.0/16 -ErrorAction Stop } | Should -Throw -ErrorId 'NextHopOrInterfaceRequired,*'
        Get-IpJson $ns.Name 'route', 'show', '10.20.0.0/16' | Should -BeNullOrEmpty
    }

    It 'Get-NetRoute lists what ip route shows, and filters' {
        New-NetRoute -NetNamespace $ns default -NextHop 192.168.15.5 | Out-Null
        $routes = Get-NetRoute -NetNamespace $ns -AddressFamily IPv4
        $routes.DestinationPrefix | Sort-Object | Should -Be ('0.0.0.0/0', '192.168.15.0/24')
        (Get-NetRoute -NetNamespace $ns default -AddressFamily IPv4).NextHop.ToString() | Should -Be '192.168.15.5'
    }

    It 'Remove-NetRoute removes piped routes; -WhatIf removes nothing' {
        New-NetRoute -NetNamespace $ns default -NextHop 192.168.15.5 | Out-Null
        Get-NetRoute -NetNamespace $ns default -AddressFamily IPv4 | Remove-NetRoute -WhatIf
        Get-IpJson $ns.Name 'route', 'show', 'default' | Should -Not -BeNullOrEmpty
        Get-NetRoute -NetNamespace $ns default -AddressFamily IPv4 | Remove-NetRoute -Confirm:$false
        Get-IpJson $ns.Name 'route', 'show', 'default' | Should -BeNullOrEmpty
        { Remove-NetRoute -NetNamespace $ns default -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'RouteNotFound,*'
    }
}

Describe 'Neighbours and the bridge FDB' -Tag 'Root' {
    BeforeAll {
        $hostNs = New-TestNamespace 'host'
        $a = New-TestNamespace 'a' -LoopbackUp
        $b = New-TestNamespace 'b' -LoopbackUp
        New-NetBridge -NetNamespace $hostNs br0 -Up | Out-Null
        New-VethPair -NetNamespace $hostNs va eth0 -PeerNetNamespace $a -Bridge br0 -PeerMacAddress 02:42:ac:11:00:02 -Up | Out-Null
        New-VethPair -NetNamespace $hostNs vb eth0 -PeerNetNamespace $b -Bridge br0 -PeerMacAddress 02:42:ac:11:00:03 -Up | Out-Null
        New-NetIPAddress -NetNamespace $a eth0 172.17.0.2/16 | Out-Null
        New-NetIPAddress -NetNamespace $b eth0 172.17.0.3/16 | Out-Null
        $pinged = Test-Ping $a.Name 172.17.0.3
    }

    It 'the containers reach each other through the bridge' { $pinged | Should -BeTrue }

    It 'Get-NetNeighbor shows the peer''s MAC address (ARP)' {
        $n = Get-NetNeighbor -NetNamespace $a -IPAddress 172.17.0.3
        $n.LinkLayerAddress | Should -Be '02:42:ac:11:00:03'
        $n.InterfaceAlias | Should -Be 'eth0'
    }

    It 'Get-BridgeFdb shows the learned MAC addresses on their ports' {
        $learned = Get-BridgeFdb -NetNamespace $hostNs -Bridge br0 -Learned
        ($learned | Where-Object MacAddress -eq '02:42:ac:11:00:02').InterfaceAlias | Should -Be 'va'
        ($learned | Where-Object MacAddress -eq '02:42:ac:11:00:03').InterfaceAlias | Should -Be 'vb'
        { Get-BridgeFdb -NetNamespace $hostNs -Bridge nosuch -ErrorAction Stop } | Should -Throw -ErrorId 'LinkNotFound,*'
    }
}

Describe 'IP forwarding' -Tag 'Root' {
    BeforeAll { $ns = New-TestNamespace 'fwd' }

    It 'is off in a new namespace' {
        (Get-IpForwarding -NetNamespace $ns -AddressFamily IPv4).Enabled | Should -BeFalse
    }

    It 'Enable-IpForwarding -WhatIf changes nothing' {
        Enable-IpForwarding -NetNamespace $ns -WhatIf
        (& ip netns exec $ns.Name cat /proc/sys/net/ipv4/ip_forward) | Should -Be '0'
    }

    It 'Enable- and Disable-IpForwarding switch both families, as /proc/sys inside shows' {
        $on = Enable-IpForwarding -NetNamespace $ns -AddressFamily Both -PassThru
        $on.Enabled | Should -Be @($true, $true)
        (& ip netns exec $ns.Name cat /proc/sys/net/ipv4/ip_forward) | Should -Be '1'
        (& ip netns exec $ns.Name cat /proc/sys/net/ipv6/conf/all/forwarding) | Should -Be '1'
        Get-NetNamespace -Name $ns.Name | Disable-IpForwarding -AddressFamily IPv4
        (& ip netns exec $ns.Name cat /proc/sys/net/ipv4/ip_forward) | Should -Be '0'
        (Get-IpForwarding -NetNamespace $ns).Enabled | Should -Be @($false, $true)
    }

    It 'Enable-IpForwarding IPv6 sets accept_ra 2 where it was 1 (a router keeps learning its default route by SLAAC), and leaves 0 alone' {
        $r = New-TestNamespace 'ra'
        & ip -n $r.Name link add up0 type bridge
        & ip -n $r.Name link add off0 type bridge
        & ip netns exec $r.Name sysctl -qw net.ipv6.conf.up0.accept_ra=1 net.ipv6.conf.off0.accept_ra=0
        $verbose = Enable-IpForwarding -NetNamespace $r -AddressFamily IPv6 -Verbose 4>&1
        (& ip netns exec $r.Name cat /proc/sys/net/ipv6/conf/all/forwarding) | Should -Be '1'
        (& ip netns exec $r.Name cat /proc/sys/net/ipv6/conf/up0/accept_ra) | Should -Be '2'
        (& ip netns exec $r.Name cat /proc/sys/net/ipv6/conf/off0/accept_ra) | Should -Be '0'
        ($verbose -join "`n") | Should -Match 'accept_ra 1 -> 2 on .*up0'
    }
}
