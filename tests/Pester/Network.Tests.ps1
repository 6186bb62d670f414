# New-/Get-/Remove-ContainerNetwork, Connect-/Disconnect-ContainerNetwork, Get-ContainerEndpoint,
# Repair-/Test-ContainerNetwork. Root; throwaway namespaces only (one plays the host, one the outside world), a
# temporary -StateDirectory per test group; nothing in the namespace the tests run in changes.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    function New-StateDirectory {
        $d = Join-Path ([IO.Path]::GetTempPath()) "cnp-state-$PID-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
        New-Item -ItemType Directory -Path $d | Out-Null
        $d
    }

    function New-ContainerName([string] $Role = 'c') {
        # A unique container (and namespace) name that Remove-TestNamespaces deletes if a test leaves it behind.
        $n = New-TestName $Role
        $script:CreatedNamespaces.Add($n)
        $n
    }

    function Get-StateSnapshot([string] $Directory) {
        # Every file under the state directory with its content hash: "unchanged" means this is equal. Not the spares
        # (ROOT/.spare: recycled inodes of removed files and links, whose number and content mean nothing).
        if (-not (Test-Path $Directory)) { return @('<absent>') }
        $spares = Join-Path $Directory '.spare'
        @(Get-ChildItem -Recurse -Force -File $Directory | Where-Object { -not $_.FullName.StartsWith("$spares/") } | Sort-Object FullName | ForEach-Object {
            "$($_.FullName.Substring($Directory.Length)) $((Get-FileHash $_.FullName -Algorithm SHA256).Hash)"
        })
    }

    function Get-Ruleset([string] $Namespace) {
        # The namespace's whole nf_tables ruleset as JSON, without the packet counters (traffic moves them).
        ((& ip netns exec $Namespace nft -j list ruleset) -join "`n") -replace '\{"counter": \{"packets": \d+, "bytes": \d+\}\}', '{"counter"}'
    }
    function Get-LinkNames([string] $Namespace) { @((Get-IpJson $Namespace 'link', 'show').ifname | Sort-Object) }

    function Invoke-WhatIfText([string] $Command) {
        # -WhatIf writes to the host, not to a stream: run the command in a child pwsh and read what it prints.
        $script = "`$ErrorActionPreference = 'Stop'; Import-Module '$script:ModuleManifest'; $Command"
        (& pwsh -NoProfile -NonInteractive -Command $script 2>&1 | Out-String)
    }


}
AfterAll { Remove-TestNamespaces }

Describe 'New-, Get- and Remove-ContainerNetwork' -Tag 'Root' {
    BeforeEach {
        $hostNs = New-TestNamespace 'host' -LoopbackUp
        $sd = New-StateDirectory
        $p = @{ NetNamespace = $hostNs; StateDirectory = $sd }
    }
    AfterEach {
        Remove-TestNamespaces
        Remove-Item -Recurse -Force $sd -ErrorAction Ignore
    }

    It 'creates the bridge with the gateway, forwarding and the masquerade rule; Get-ContainerNetwork shows subnet, gateway, bridge and endpoint count' {
        $n = New-ContainerNetwork bridge -Subnet 172.17.0.0/16 -BridgeName docker0 @p
        $n.Name | Should -Be 'bridge'
        $n.Subnet.ToString() | Should -Be '172.17.0.0/16'
        $n.Gateway.ToString() | Should -Be '172.17.0.1'
        $n.EndpointCount | Should -Be 0
        $n.NetNamespace | Should -Be $hostNs.Name
        # Kernel state through iproute2 and nft, not through the module.
        $link = Get-IpJson $hostNs.Name 'link', 'show', 'docker0'
        $link.linkinfo.info_kind | Should -Be 'bridge'
        $link.flags | Should -Contain 'UP'
        $addr = (Get-IpJson $hostNs.Name 'addr', 'show', 'docker0').addr_info | Where-Object family -eq 'inet'
        "$($addr.local)/$($addr.prefixlen)" | Should -Be '172.17.0.1/16'
        (& ip netns exec $hostNs.Name sysctl -n net.ipv4.ip_forward) | Should -Be '1'
        $rules = (& ip netns exec $hostNs.Name nft list ruleset) -join "`n"
        $rules | Should -Match '172\.17\.0\.0/16'
        $rules | Should -Match 'masquerade'
        (Get-ContainerNetwork @p).Name | Should -Be 'host', 'none', 'bridge'
        $view = Get-ContainerNetwork bridge @p | Format-Table | Out-String -Width 200
        $view | Should -Match 'bridge\s+Bridge\s+docker0\s+172\.17\.0\.0/16\s+172\.17\.0\.1\s+0'
    }

    It 'Get-NatMasquerade lists the network''s masquerade (each subnet) with its owner; Remove-NatMasquerade refuses it (MasqueradeOwnedByNetwork)' {
        New-ContainerNetwork bridge -Subnet 172.17.0.0/16 -SubnetV6 fd00:17::/64 -BridgeName docker0 @p | Out-Null
        $m = @(Get-NatMasquerade -NetNamespace $hostNs)
        $m.Source | ForEach-Object ToString | Should -Be '172.17.0.0/16', 'fd00:17::/64'
        $m.ExcludeOutInterface | Should -Be 'docker0', 'docker0'
        $m.Owner | Should -Be 'network:bridge', 'network:bridge'
        @(Get-NatMasquerade -NetNamespace $hostNs -Owner *).Count | Should -Be 2
        @(Get-NatMasquerade -NetNamespace $hostNs -Owner 'network:*' -SourcePrefix '172.17.*').Count | Should -Be 1
        # The handles are the kernel's rules, as nft reads them: masquerade of the subnet.
        $rules = ((& ip netns exec $hostNs.Name nft -j -a list chain inet containernetworking nat-postrouting) -join "`n" | ConvertFrom-Json).nftables |
            Where-Object { $_.PSObject.Properties['rule'] } | ForEach-Object rule
        foreach ($x in $m) {
            $text = (($rules | Where-Object handle -eq $x.Handle).expr | ConvertTo-Json -Depth 10 -Compress)
            $text | Should -Match '"masquerade"'
            $text | Should -Match ([regex]::Escape('"addr":"' + $x.Source.BaseAddress + '"'))
        }
        $view = Get-NatMasquerade -NetNamespace $hostNs | Out-String -Width 120
        $view | Should -Match '172\.17\.0\.0/16\s+! docker0\s+masquerade\s+\d+\s+\d+ network:bridge'
        { $m[0] | Remove-NatMasquerade -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'MasqueradeOwnedByNetwork,*'
        { Remove-NatMasquerade -NetNamespace $hostNs -SourcePrefix 172.17.0.0/16 -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'MasqueradeOwnedByNetwork,*'
        @(Get-NatMasquerade -NetNamespace $hostNs).Count | Should -Be 2
        Remove-ContainerNetwork bridge @p -Confirm:$false
        Get-NatMasquerade -NetNamespace $hostNs | Should -BeNullOrEmpty
    }

    It 'picks free private subnets that do not overlap when -Subnet is omitted' {
        $a = New-ContainerNetwork neta @p
        $b = New-ContainerNetwork netb @p
        $a.Subnet | Should -Not -BeNullOrEmpty
        $a.Subnet.ToString() | Should -Not -Be $b.Subnet.ToString()
        $a.Subnet.BaseAddress.ToString() | Should -Match '^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.)'
        $a.Subnet.Contains($b.Subnet.BaseAddress) | Should -BeFalse
        $b.Subnet.Contains($a.Subnet.BaseAddress) | Should -BeFalse
    }

    It 'Get-ContainerNetwork takes wildcards and reports NetworkNotFound for a literal name that matches nothing' {
        New-ContainerNetwork web-net -Subnet 10.88.0.0/24 @p | Out-Null
        New-ContainerNetwork web-net2 -Subnet 10.88.1.0/24 @p | Out-Null
        (Get-ContainerNetwork web* @p).Name | Should -Be 'web-net', 'web-net2'
        Get-ContainerNetwork 'nomatch*' @p | Should -BeNullOrEmpty
        { Get-ContainerNetwork nosuchnet @p -ErrorAction Stop } | Should -Throw -ErrorId 'NetworkNotFound,*'
    }

    It '-WhatIf prints the whole plan and changes no link, rule or state file' {
        New-ContainerNetwork first -Subnet 10.89.0.0/24 @p | Out-Null
        $links = Get-LinkNames $hostNs.Name
        $rules = Get-Ruleset $hostNs.Name
        $state = Get-StateSnapshot $sd
        $text = Invoke-WhatIfText "New-ContainerNetwork bridge -Subnet 172.17.0.0/16 -BridgeName docker0 -NetNamespace $($hostNs.Name) -StateDirectory '$sd' -WhatIf"
        $text | Should -Match 'What if: Create network bridge \(172\.17\.0\.0/16\) on bridge docker0'
        $text | Should -Match 'CreateBridge: ip link add docker0 type bridge'
        $text | Should -Match 'AddGatewayAddress: ip addr add 172\.17\.0\.1/16 dev docker0'
        $text | Should -Match 'InstallNetworkRules:'
        Get-LinkNames $hostNs.Name | Should -Be $links
        Get-Ruleset $hostNs.Name | Should -Be $rules
        Get-StateSnapshot $sd | Should -Be $state
        # And in-process: nothing returned, nothing made.
        New-ContainerNetwork bridge -Subnet 172.17.0.0/16 -BridgeName docker0 @p -WhatIf | Should -BeNullOrEmpty
        Get-LinkNames $hostNs.Name | Should -Be $links
    }

    It 'refuses bad input with SubnetOverlap, GatewayOutsideSubnet, InvalidSubnet, NetworkExists and BridgeExists, and changes nothing' {
        New-ContainerNetwork bridge -Subnet 172.17.0.0/16 -BridgeName docker0 @p | Out-Null
        $links = Get-LinkNames $hostNs.Name
        $rules = Get-Ruleset $hostNs.Name
        $state = Get-StateSnapshot $sd
        { New-ContainerNetwork other -Subnet 172.17.128.0/24 @p -ErrorAction Stop } | Should -Throw -ErrorId 'SubnetOverlap,*'
        { New-ContainerNetwork other -Subnet 10.90.0.0/24 -Gateway 10.91.0.1 @p -ErrorAction Stop } | Should -Throw -ErrorId 'GatewayOutsideSubnet,*'
        { New-ContainerNetwork other -Subnet 10.90.0.1/24 @p -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSubnet,*'
        { New-ContainerNetwork bridge -Subnet 10.90.0.0/24 @p -ErrorAction Stop } | Should -Throw -ErrorId 'NetworkExists,*'
        { New-ContainerNetwork other -Subnet 10.90.0.0/24 -BridgeName docker0 @p -ErrorAction Stop } | Should -Throw -ErrorId 'BridgeExists,*'
        $err = $null
        New-ContainerNetwork other -Subnet 172.17.128.0/24 @p -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $err[0].TargetObject | Should -Be 'other'
        $err[0].Exception.Message | Should -Match 'overlaps'
        Get-LinkNames $hostNs.Name | Should -Be $links
        Get-Ruleset $hostNs.Name | Should -Be $rules
        Get-StateSnapshot $sd | Should -Be $state
    }

    It 'Remove-ContainerNetwork refuses while endpoints exist (NetworkHasEndpoints); -WhatIf keeps it; -Force from the pipeline removes endpoints, bridge, rules and record' {
        New-ContainerNetwork bridge -Subnet 172.17.0.0/16 -BridgeName docker0 @p | Out-Null
        $c = New-ContainerName
        Connect-ContainerNetwork bridge -Container $c -CreateNamespace @p | Out-Null
        { Remove-ContainerNetwork bridge @p -ErrorAction Stop } | Should -Throw -ErrorId 'NetworkHasEndpoints,*'
        (Get-ContainerNetwork bridge @p).EndpointCount | Should -Be 1
        Remove-ContainerNetwork bridge @p -Force -WhatIf
        Get-LinkNames $hostNs.Name | Should -Contain 'docker0'
        Test-Path "/run/netns/$c" | Should -BeTrue
        Get-ContainerNetwork bridge @p | Remove-ContainerNetwork -Force
        Get-LinkNames $hostNs.Name | Should -Not -Contain 'docker0'
        @(Get-LinkNames $hostNs.Name | Where-Object { $_ -like 'veth*' }) | Should -BeNullOrEmpty
        Test-Path "/run/netns/$c" | Should -BeFalse
        (& ip netns exec $hostNs.Name nft list ruleset) -join "`n" | Should -Not -Match '172\.17\.0\.0/16'
        Test-Path (Join-Path $sd 'networks/bridge') | Should -BeFalse
        # The last network and endpoint are gone: so is the state directory (networks/ and .lock included).
        Test-Path $sd | Should -BeFalse
        (Get-ContainerNetwork @p).Name | Should -Be 'host', 'none'
        Test-Path $sd | Should -BeFalse -Because 'reading creates nothing'
        { Remove-ContainerNetwork bridge @p -ErrorAction Stop } | Should -Throw -ErrorId 'NetworkNotFound,*'
        { Remove-ContainerNetwork host @p -ErrorAction Stop } | Should -Throw -ErrorId 'PredefinedNetwork,*'
    }
}

Describe 'Connect-, Disconnect-ContainerNetwork and Get-ContainerEndpoint' -Tag 'Root' {
    BeforeAll {
        $hostNs = New-TestNamespace 'host' -LoopbackUp
        $outside = New-TestNamespace 'outside' -LoopbackUp
        # The outside world: an uplink from the host, 198.18.0.1 (host) <-> 198.18.0.2 (outside); the outside has
        # no route to the container subnet, so only masquerading lets it answer.
        New-VethPair -NetNamespace $hostNs -Name uplink -PeerName eth0 -PeerNetNamespace $outside -Up | Out-Null
        New-NetIPAddress -NetNamespace $hostNs uplink 198.18.0.1/24 | Out-Null
        New-NetIPAddress -NetNamespace $outside eth0 198.18.0.2/24 | Out-Null
        $sd = New-StateDirectory
        $p = @{ NetNamespace = $hostNs; StateDirectory = $sd }
        New-ContainerNetwork bridge -Subnet 172.17.0.0/16 -BridgeName docker0 @p | Out-Null
        $web = New-ContainerName 'web'
        $db = New-ContainerName 'db'
        $listeners = [System.Collections.Generic.List[object]]::new()
    }
    AfterAll {
        foreach ($l in $listeners) { Stop-Process -Id $l.Id -Force -ErrorAction Ignore }
        Remove-TestNamespaces
        Remove-Item -Recurse -Force $sd -ErrorAction Ignore
    }

    It 'gives two containers eth0 with 172.17.0.2 and .3, Docker MACs and the default route, and they ping each other' {
        $w = Connect-ContainerNetwork bridge -Container $web -CreateNamespace -Publish 8088:80 @p
        $d = Connect-ContainerNetwork bridge -Container $db -CreateNamespace @p
        $w.IPv4Address.ToString() | Should -Be '172.17.0.2'
        $d.IPv4Address.ToString() | Should -Be '172.17.0.3'
        $w.MacAddress | Should -Be '02:42:ac:11:00:02'
        $eth0 = Get-IpJson $web 'addr', 'show', 'eth0'
        $eth0.address | Should -Be '02:42:ac:11:00:02'
        ($eth0.addr_info | Where-Object family -eq 'inet').local | Should -Be '172.17.0.2'
        (Get-IpJson $web 'route', 'show', 'default').gateway | Should -Be '172.17.0.1'
        (Get-IpJson $hostNs.Name 'link', 'show', $w.HostInterface).master | Should -Be 'docker0'
        Test-Ping $web 172.17.0.3 | Should -BeTrue
        Test-Ping $db 172.17.0.2 | Should -BeTrue
        Test-Ping $web 172.17.0.1 | Should -BeTrue
        (Get-ContainerNetwork bridge @p).EndpointCount | Should -Be 2
    }

    It 'lets a container reach the outside through masquerading' {
        Test-Ping $web 198.18.0.2 | Should -BeTrue
    }

    It 'answers a TCP connect from the outside on the published port 8088 with the container''s port 80' {
        $listeners.Add((Start-TcpListener $web 80 'hello-from-web'))
        Read-TcpAnswer $outside.Name 198.18.0.1 8088 | Should -Be 'hello-from-web'
        # No port was published for 8089: nothing answers there.
        Read-TcpAnswer $outside.Name 198.18.0.1 8089 | Should -BeNullOrEmpty
    }

    It 'drops direct access from a neighbour that routes the subnet via the host (Docker 28); a -Routed network lets it in' {
        & ip netns exec $outside.Name ip route add 172.16.0.0/12 via 198.18.0.1
        try {
            # the published port answers; the container's own address does not, not even on the published port's container side
            Read-TcpAnswer $outside.Name 198.18.0.1 8088 | Should -Be 'hello-from-web'
            Read-TcpAnswer $outside.Name 172.17.0.2 80 | Should -BeNullOrEmpty
            Test-Ping $outside.Name 172.17.0.2 | Should -BeFalse
            $n = New-ContainerNetwork lab -Subnet 172.29.0.0/24 -BridgeName cn-lab -Routed @p
            $n.Routed | Should -BeTrue
            $r = New-ContainerName 'routed'
            Connect-ContainerNetwork lab -Container $r -CreateNamespace @p | Out-Null
            $listeners.Add((Start-TcpListener $r 80 'hello-from-routed'))
            Read-TcpAnswer $outside.Name 172.29.0.2 80 | Should -Be 'hello-from-routed'
            # -Publish on an internal network is refused and changes nothing
            New-ContainerNetwork inside -Subnet 172.30.0.0/24 -BridgeName cn-inside -Internal @p | Out-Null
            $rules = Get-Ruleset $hostNs.Name
            $state = Get-StateSnapshot $sd
            $i = New-ContainerName 'internal'
            { Connect-ContainerNetwork inside -Container $i -CreateNamespace -Publish 8090:80 @p -ErrorAction Stop } | Should -Throw -ErrorId 'PortsNotSupported,*'
            Get-Ruleset $hostNs.Name | Should -Be $rules
            Get-StateSnapshot $sd | Should -Be $state
        }
        finally {
            Get-ContainerEndpoint -Network lab @p -ErrorAction Ignore | Disconnect-ContainerNetwork -ErrorAction Ignore
            Remove-ContainerNetwork lab @p -Force -ErrorAction Ignore
            Remove-ContainerNetwork inside @p -Force -ErrorAction Ignore
            & ip netns exec $outside.Name ip route del 172.16.0.0/12 via 198.18.0.1
        }
    }

    It 'Get-ContainerEndpoint filters by container and network with wildcards, and reports what it cannot find' {
        (Get-ContainerEndpoint @p).Container | Should -Be $web, $db
        (Get-ContainerEndpoint 'cnp-web*' @p).Container | Should -Be $web
        (Get-ContainerEndpoint -Network 'bri*' @p).Count | Should -Be 2
        $e = Get-ContainerEndpoint $web @p
        (Get-ContainerEndpoint $e.Id.Substring(0, 12) @p).Container | Should -Be $web
        ($e.Ports | ForEach-Object ToString) | Should -Be '8088:80/tcp'
        ($e | Format-Table | Out-String -Width 200) | Should -Match '8088->80/tcp'
        { Get-ContainerEndpoint nosuchcontainer @p -ErrorAction Stop } | Should -Throw -ErrorId 'EndpointNotFound,*'
        { Get-ContainerEndpoint -Network nosuchnet @p -ErrorAction Stop } | Should -Throw -ErrorId 'NetworkNotFound,*'
    }

    It '-WhatIf prints the whole plan and creates no namespace, link, rule, lease or record' {
        $c = New-ContainerName 'wi'
        $links = Get-LinkNames $hostNs.Name
        $rules = Get-Ruleset $hostNs.Name
        $state = Get-StateSnapshot $sd
        $text = Invoke-WhatIfText "Connect-ContainerNetwork bridge -Container $c -CreateNamespace -Publish 9001:80 -NetNamespace $($hostNs.Name) -StateDirectory '$sd' -WhatIf"
        $text | Should -Match "What if: Connect $c to network bridge: 172\.17\.0\.4 on eth0 \(02:42:ac:11:00:04\)"
        $text | Should -Match "CreateNamespace: ip netns add $c"
        $text | Should -Match 'CreateVeth: ip link add veth[0-9a-f]{7} master docker0 up type veth peer name eth0'
        $text | Should -Match "AddDefaultRoute: ip -n $c route add default via 172\.17\.0\.1 dev eth0"
        $text | Should -Match 'PublishPorts: .*9001:80/tcp -> 172\.17\.0\.4:80'
        Test-Path "/run/netns/$c" | Should -BeFalse
        Get-LinkNames $hostNs.Name | Should -Be $links
        Get-Ruleset $hostNs.Name | Should -Be $rules
        Get-StateSnapshot $sd | Should -Be $state
        Disconnect-ContainerNetwork bridge $web @p -WhatIf
        Get-LinkNames $hostNs.Name | Should -Be $links
        Get-StateSnapshot $sd | Should -Be $state
    }

    It 'refuses AddressInUse, AddressOutsideRange, NetworkNotFound, EndpointExists, NamespaceAlreadyAttached, InvalidPortSpec and PortAlreadyAllocated, and changes nothing' {
        $c = New-ContainerName 'bad'
        $links = Get-LinkNames $hostNs.Name
        $rules = Get-Ruleset $hostNs.Name
        $state = Get-StateSnapshot $sd
        { Connect-ContainerNetwork bridge -Container $c -CreateNamespace -IPv4Address 172.17.0.2 @p -ErrorAction Stop } | Should -Throw -ErrorId 'AddressInUse,*'
        { Connect-ContainerNetwork bridge -Container $c -CreateNamespace -IPv4Address 10.1.2.3 @p -ErrorAction Stop } | Should -Throw -ErrorId 'AddressOutsideRange,*'
        { Connect-ContainerNetwork nosuchnet -Container $c -CreateNamespace @p -ErrorAction Stop } | Should -Throw -ErrorId 'NetworkNotFound,*'
        { Connect-ContainerNetwork bridge -Container $web -ContainerNetNamespace $c -CreateNamespace @p -ErrorAction Stop } | Should -Throw -ErrorId 'EndpointExists,*'
        { Connect-ContainerNetwork bridge -Container $c -ContainerNetNamespace $web @p -ErrorAction Stop } | Should -Throw -ErrorId 'NamespaceAlreadyAttached,*'
        { Connect-ContainerNetwork bridge -Container $c -CreateNamespace -Publish '80:abc' @p -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidPortSpec,*'
        { Connect-ContainerNetwork bridge -Container $c -CreateNamespace -Publish 8088:80 @p -ErrorAction Stop } | Should -Throw -ErrorId 'PortAlreadyAllocated,*'
        { Connect-ContainerNetwork bridge @p -ErrorAction Stop } | Should -Throw -ErrorId 'ContainerRequired,*'
        Test-Path "/run/netns/$c" | Should -BeFalse
        Get-LinkNames $hostNs.Name | Should -Be $links
        Get-Ruleset $hostNs.Name | Should -Be $rules
        Get-StateSnapshot $sd | Should -Be $state
    }

    It 'container mode: a pod''s second container shares the first one''s namespace and they talk over localhost' {
        $pod = New-ContainerName 'pod'
        $first = Connect-ContainerNetwork bridge -Container $pod -CreateNamespace @p
        $side = Connect-ContainerNetwork -Container 'sidecar' -ShareWith $pod @p
        $side.Mode | Should -Be 'Container'
        $side.Namespace | Should -Be $pod
        $side.IPv4Address.ToString() | Should -Be $first.IPv4Address.ToString()
        $listeners.Add((Start-TcpListener $pod 8080 'hello-from-pod'))
        Read-TcpAnswer $pod 127.0.0.1 8080 | Should -Be 'hello-from-pod'
        { Disconnect-ContainerNetwork bridge $pod @p -ErrorAction Stop } | Should -Throw -ErrorId 'EndpointInUse,*'
        Disconnect-ContainerNetwork -Network bridge -Container $pod -Force @p
        Test-Path "/run/netns/$pod" | Should -BeFalse
        (Get-ContainerEndpoint @p).Container | Should -Not -Contain 'sidecar'
    }

    It 'one container on two networks: eth1 on the second, one default route (-GatewayPriority), either network leaves and the other works' {
        New-ContainerNetwork second -Subnet 172.28.0.0/24 @p | Out-Null
        $peer = New-ContainerName 'peer'
        $multi = New-ContainerName 'multi'
        Connect-ContainerNetwork second -Container $peer -CreateNamespace @p | Out-Null
        $first = Connect-ContainerNetwork bridge -Container $multi -CreateNamespace @p
        $second = Connect-ContainerNetwork second -Container $multi -GatewayPriority 5 @p
        $second.InterfaceName | Should -Be 'eth1'
        ((Get-IpJson $multi 'addr', 'show', 'eth1').addr_info | Where-Object family -eq 'inet').local | Should -Be $second.IPv4Address.ToString()
        $default = @(Get-IpJson $multi '-4', 'route', 'show', 'default')
        $default.Count | Should -Be 1
        $default[0].gateway | Should -Be '172.28.0.1'
        @(Get-ContainerEndpoint $multi @p).Network | Sort-Object | Should -Be @('bridge', 'second')
        Test-Ping $multi 172.17.0.3 | Should -BeTrue
        Test-Ping $multi 172.28.0.2 | Should -BeTrue

        Disconnect-ContainerNetwork second $multi @p
        (Get-IpJson $multi '-4', 'route', 'show', 'default').gateway | Should -Be '172.17.0.1'
        Test-Ping $multi 172.17.0.3 | Should -BeTrue
        Connect-ContainerNetwork second -Container $multi @p | Out-Null
        Disconnect-ContainerNetwork bridge $multi @p
        Test-Path "/run/netns/$multi" | Should -BeTrue
        (Get-IpJson $multi '-4', 'route', 'show', 'default').gateway | Should -Be '172.28.0.1'
        Test-Ping $multi 172.28.0.2 | Should -BeTrue
        Disconnect-ContainerNetwork second $multi, $peer @p
        Test-Path "/run/netns/$multi" | Should -BeFalse
        Remove-ContainerNetwork second @p
    }

    It 'New-ContainerNetwork -Route puts the routes into every container, -NoDefaultRoute leaves none; a bad route is InvalidRoute' {
        $routed = New-ContainerNetwork routed -Subnet 172.27.0.0/24 -Route '10.99.0.0/16=172.27.0.254', '10.98.0.0/24' -NoDefaultRoute @p
        @($routed.Routes).Count | Should -Be 2
        $r = New-ContainerName 'routed'
        Connect-ContainerNetwork routed -Container $r -CreateNamespace @p | Out-Null
        $routes = @(Get-IpJson $r '-4', 'route', 'show' | Where-Object gateway | ForEach-Object { "$($_.dst) via $($_.gateway) dev $($_.dev)" } | Sort-Object)
        $routes | Should -Be @('10.98.0.0/24 via 172.27.0.1 dev eth0', '10.99.0.0/16 via 172.27.0.254 dev eth0')
        { New-ContainerNetwork bad -Subnet 172.26.0.0/24 -Route '10.99.0.0/16=10.1.1.1' @p -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidRoute,*'
        Get-ContainerNetwork bad @p -ErrorAction Ignore | Should -BeNullOrEmpty
        Remove-ContainerNetwork routed -Force @p -Confirm:$false
        Test-Path "/run/netns/$r" | Should -BeFalse
    }

    It 'containers of a network resolve each other by name and -Alias, through ip netns exec and Invoke-NetNamespace; Disconnect takes the name away' {
        New-ContainerNetwork names -Subnet 172.28.0.0/24 @p | Out-Null
        $a = New-ContainerName 'na'
        $b = New-ContainerName 'nb'
        Connect-ContainerNetwork names -Container $a -CreateNamespace @p | Out-Null
        $eb = Connect-ContainerNetwork names -Container $b -CreateNamespace -Alias 'database' @p
        (& ip netns exec $a getent -s files hosts $b) | Should -Match "^$([regex]::Escape($eb.IPv4Address.ToString()))\s"
        (Invoke-NetNamespace $a -- getent -s files hosts database) | Should -Match "^$([regex]::Escape($eb.IPv4Address.ToString()))\s+$b database"
        (Invoke-NetNamespace $a -ErrorAction Stop -- ping -c 1 -W 2 database) -join "`n" | Should -Match ' 0% packet loss'
        Get-Content /etc/hosts -Raw | Should -Not -Match $b    # the mounts were the child's only
        { Connect-ContainerNetwork names -Container (New-ContainerName 'nbad') -CreateNamespace -Alias 'bad name' @p -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidName,*'
        Disconnect-ContainerNetwork names $b @p -Confirm:$false
        Invoke-NetNamespace $a -IgnoreExitCode -- getent -s files hosts database | Should -BeNullOrEmpty
        Test-Path "/etc/netns/$b" | Should -BeFalse
        Remove-ContainerNetwork names -Force @p -Confirm:$false
        Test-Path "/etc/netns/$a" | Should -BeFalse
    }

    It 'none mode gives only lo, up; host mode records the container only' {
        $n = New-ContainerName 'none'
        $e = Connect-ContainerNetwork none -Container $n -CreateNamespace @p
        $e.Mode | Should -Be 'None'
        $links = Get-IpJson $n 'link', 'show'
        $links.ifname | Should -Be @('lo')
        $links[0].flags | Should -Contain 'UP'
        $h = Connect-ContainerNetwork host -Container 'hostmode' @p
        $h.Mode | Should -Be 'Host'
        { Connect-ContainerNetwork none -Container 'x' -ContainerNetNamespace $n -Publish 80:80 @p -ErrorAction Stop } | Should -Throw -ErrorId 'PortsNotSupported,*'
        Get-ContainerEndpoint -Network none, host @p | Disconnect-ContainerNetwork
        Test-Path "/run/netns/$n" | Should -BeFalse
        Get-ContainerEndpoint -Network none, host @p | Should -BeNullOrEmpty
    }

    It 'connects many containers from the pipeline with distinct addresses and a progress bar, and Get-ContainerEndpoint | Disconnect-ContainerNetwork removes exactly them' {
        $before = Get-LinkNames $hostNs.Name
        $ports = @(Get-IpJson $hostNs.Name 'link', 'show', 'master', 'docker0').Count
        $names = 1..12 | ForEach-Object { New-ContainerName 'many' }
        $run = Invoke-InRunspace { param($names, $p) $names | Connect-ContainerNetwork bridge -CreateNamespace @p } @{ names = $names; p = $p }
        $run.Errors | Should -BeNullOrEmpty
        $eps = $run.Output
        # Pipeline input (total unknown): silent for 9 items, a record from the 10th on, completed at the end.
        $shown = @($run.Progress | Where-Object RecordType -eq 'Processing')
        $shown.Count | Should -BeGreaterThan 0
        $shown[0].Activity | Should -Be 'Connecting containers to network bridge'
        $shown[0].StatusDescription | Should -Be "$($names[9]) (10 so far)"
        $run.Progress[-1].RecordType | Should -Be 'Completed'
        $eps.Count | Should -Be 12
        ($eps.IPv4Address | ForEach-Object ToString | Sort-Object -Unique).Count | Should -Be 12
        Test-Ping $names[0] $eps[11].IPv4Address.ToString() | Should -BeTrue
        @(Get-IpJson $hostNs.Name 'link', 'show', 'master', 'docker0').Count | Should -Be ($ports + 12)
        $run = Invoke-InRunspace { param($p) Get-ContainerEndpoint 'cnp-many*' @p | Disconnect-ContainerNetwork } @{ p = $p }
        $run.Errors | Should -BeNullOrEmpty
        @($run.Progress | Where-Object { $_.RecordType -eq 'Processing' -and $_.Activity -eq 'Disconnecting containers' }).Count | Should -BeGreaterThan 0
        $run.Progress[-1].RecordType | Should -Be 'Completed'
        foreach ($n in $names) { Test-Path "/run/netns/$n" | Should -BeFalse }
        Get-LinkNames $hostNs.Name | Should -Be $before
        (Get-ContainerEndpoint @p).Container | Should -Not -Contain $names[0]
        (Get-ContainerEndpoint @p).Container | Should -Contain $web
        (Get-ChildItem (Join-Path $sd 'networks/bridge/leases') -File | Where-Object Name -NotLike '.*').Count | Should -Be @(Get-ContainerEndpoint -Network bridge @p | Where-Object Mode -eq 'Bridge').Count
    }

    It 'a bulk pipeline with a failing middle item: one error for it (TargetObject the item), every other container connected and disconnected, progress shown' {
        $ports = @(Get-IpJson $hostNs.Name 'link', 'show', 'master', 'docker0').Count
        $names = 1..11 | ForEach-Object { New-ContainerName 'bulk' }
        # The sixth name is a namespace that exists already: -CreateNamespace refuses it, and it is left as it was.
        $taken = New-TestNamespace 'taken'
        $names[5] = $taken.Name
        $run = Invoke-InRunspace { param($names, $p) $names | Connect-ContainerNetwork bridge -CreateNamespace -Publish 80 @p } @{ names = $names; p = $p }
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'NetNamespaceExists,*'
        $run.Errors[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $run.Errors[0].TargetObject | Should -Be $taken.Name
        $shown = @($run.Progress | Where-Object RecordType -eq 'Processing')
        $shown.Count | Should -BeGreaterThan 0
        $shown[0].StatusDescription | Should -Be "$($names[9]) (10 so far)"
        $run.Progress[-1].RecordType | Should -Be 'Completed'
        $ok = @($names | Where-Object { $_ -ne $taken.Name })
        $eps = $run.Output
        $eps.Container | Should -Be $ok
        # The kernel's state read back: ten more ports on the bridge, each container's eth0 up with its address and
        # its default route, and a host port of its own published for it.
        @(Get-IpJson $hostNs.Name 'link', 'show', 'master', 'docker0').Count | Should -Be ($ports + 10)
        foreach ($e in $eps) {
            $addr = Get-IpJson $e.Container 'addr', 'show', 'eth0'
            $addr.operstate | Should -Be 'UP'
            ($addr.addr_info | Where-Object family -eq 'inet').local | Should -Be $e.IPv4Address.ToString()
            (Get-IpJson $e.Container 'route', 'show', 'default').gateway | Should -Be '172.17.0.1'
        }
        ($eps.Ports | ForEach-Object HostPort | Sort-Object -Unique).Count | Should -Be 10
        Test-Ping $ok[0] $eps[-1].IPv4Address.ToString() | Should -BeTrue
        (Get-IpJson $taken.Name 'link', 'show').ifname | Should -Be @('lo')
        # Disconnect, the same way: by name through the pipeline, a middle item that is not connected.
        $items = $names | ForEach-Object { [pscustomobject]@{ Network = 'bridge'; Container = $_ } }
        $run = Invoke-InRunspace { param($items, $p) $items | Disconnect-ContainerNetwork @p } @{ items = $items; p = $p }
        $run.Errors.Count | Should -Be 1
        $run.Errors[0].FullyQualifiedErrorId | Should -BeLike 'EndpointNotFound,*'
        $run.Errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $run.Errors[0].TargetObject | Should -Be $taken.Name
        @($run.Progress | Where-Object { $_.RecordType -eq 'Processing' -and $_.Activity -eq 'Disconnecting containers' }).Count | Should -BeGreaterThan 0
        $run.Progress[-1].RecordType | Should -Be 'Completed'
        foreach ($n in $ok) { Test-Path "/run/netns/$n" | Should -BeFalse }
        Test-Path "/run/netns/$($taken.Name)" | Should -BeTrue
        @(Get-IpJson $hostNs.Name 'link', 'show', 'master', 'docker0').Count | Should -Be $ports
        (Get-ContainerEndpoint @p).Container | Should -Not -Contain $ok[0]
        ((& ip netns exec $hostNs.Name nft list ruleset) -join "`n") | Should -Not -Match "\b$($eps[0].Ports[0].HostPort)\b"
    }

    It 'the container namespace can come as a NetNamespace object through the pipeline, and the endpoint pipes into Disconnect-ContainerNetwork' {
        $ns = New-TestNamespace 'piped'
        $e = $ns | Connect-ContainerNetwork bridge @p
        $e.Container | Should -Be $ns.Name
        $e.NetNamespace | Should -Be $hostNs.Name
        (Get-IpJson $ns.Name 'link', 'show', 'eth0').ifname | Should -Be 'eth0'
        $e | Disconnect-ContainerNetwork
        # Connect did not create this namespace, so Disconnect keeps it and only removes eth0.
        Test-Path "/run/netns/$($ns.Name)" | Should -BeTrue
        (Get-IpJson $ns.Name 'link', 'show').ifname | Should -Be @('lo')
    }

    It 'Disconnect-ContainerNetwork removes the veth even while a process still runs in the container''s namespace (docker network disconnect of a running container)' {
        $c = New-ContainerName 'busy'
        $e = Connect-ContainerNetwork bridge -Container $c -CreateNamespace @p
        $listeners.Add(($busy = Start-TcpListener $c 7070 'still-running'))
        # NETWORK CONTAINER, as docker network disconnect and Connect-ContainerNetwork take them.
        Disconnect-ContainerNetwork bridge $c @p
        Test-Path "/run/netns/$c" | Should -BeFalse
        # The process keeps the namespace alive, so deleting /run/netns/NAME alone does not take the veth with it.
        Get-LinkNames $hostNs.Name | Should -Not -Contain $e.HostInterface
        Stop-Process -Id $busy.Id -Force
    }

    It 'Disconnect-ContainerNetwork removes the published port: the outside gets no answer any more' {
        Get-ContainerEndpoint $web @p | Disconnect-ContainerNetwork
        Test-Path "/run/netns/$web" | Should -BeFalse
        (& ip netns exec $hostNs.Name nft list ruleset) -join "`n" | Should -Not -Match '8088'
        Read-TcpAnswer $outside.Name 198.18.0.1 8088 | Should -BeNullOrEmpty
        { Disconnect-ContainerNetwork bridge $web @p -ErrorAction Stop } | Should -Throw -ErrorId 'EndpointNotFound,*'
        $syntax = (Get-Command Disconnect-ContainerNetwork).ParameterSets[0].ToString()
        $syntax | Should -BeLike '`[-Network`] <string> `[-Container`] <string`[`]> *'
    }
}

Describe 'Test- and Repair-ContainerNetwork' -Tag 'Root' {
    BeforeEach {
        $hostNs = New-TestNamespace 'host' -LoopbackUp
        $sd = New-StateDirectory
        $p = @{ NetNamespace = $hostNs; StateDirectory = $sd }
        New-ContainerNetwork bridge -Subnet 172.17.0.0/16 -BridgeName docker0 @p | Out-Null
        $c = New-ContainerName 'diag'
        $e = Connect-ContainerNetwork bridge -Container $c -CreateNamespace -Publish 8088:80 @p
    }
    AfterEach {
        Remove-TestNamespaces
        Remove-Item -Recurse -Force $sd -ErrorAction Ignore
    }

    It 'Test-ContainerNetwork reports every hop Ok on a working container, and names the broken hop with its fix' {
        $hops = Test-ContainerNetwork $c @p
        $hops.Hop | Should -Contain 'DefaultRoute'
        $hops.Hop | Should -Contain 'VethPeer'
        @($hops | Where-Object Status -eq 'Broken') | Should -BeNullOrEmpty
        & ip -n $hostNs.Name link set $e.HostInterface down
        $hops = Get-ContainerEndpoint $c @p | Test-ContainerNetwork
        $broken = @($hops | Where-Object Status -eq 'Broken')
        $broken.Count | Should -BeGreaterThan 0
        $broken[0].Hop | Should -Be 'VethPeer'
        $broken[0].Fix | Should -Not -BeNullOrEmpty
        ($hops | Format-Table | Out-String -Width 250) | Should -Match 'VethPeer\s+Broken'
        { Test-ContainerNetwork nosuch @p -ErrorAction Stop } | Should -Throw -ErrorId 'EndpointNotFound,*'
    }

    It 'every suggested fix names the namespace it acts on, and pasted as is (the cmdlet, or the ip command after # or:) repairs the hop' {
        $h = $hostNs.Name
        $addr = "$($e.IPv4Address)/$($e.PrefixLength)"
        # Hop, the namespace the fix must act in, and how to break the hop (ip as the oracle).
        $cases = @(
            @('Loopback', $c, "ip -n $c link set lo down"),
            @('ContainerInterface', $c, "ip -n $c addr del $addr dev eth0"),
            @('ContainerInterface', $c, "ip -n $c link set eth0 down"),
            @('DefaultRoute', $c, "ip -n $c route del default 2>/dev/null; true"),
            @('VethPeer', $h, "ip -n $h link set $($e.HostInterface) down"),
            @('VethPeer', $h, "ip -n $h link set $($e.HostInterface) nomaster"),
            @('Bridge', $h, "ip -n $h link set docker0 down"),
            @('BridgeAddress', $h, "ip -n $h addr del 172.17.0.1/16 dev docker0"),
            @('Forwarding', $h, "ip netns exec $h sysctl -qw net.ipv4.ip_forward=0")
        )
        foreach ($case in $cases) {
            $hop, $ns, $break = $case
            foreach ($way in 'cmdlet', 'ip') {
                & bash -c $break
                $found = Test-ContainerNetwork $c @p | Where-Object Hop -eq $hop
                $found.Status | Should -Be 'Broken' -Because "$break breaks $hop"
                $cmdlet, $ip = $found.Fix -split '  # or: ', 2
                # Checked before anything runs: a fix without its namespace would act on the namespace the tests run in.
                $cmdlet | Should -Match "-NetNamespace $([regex]::Escape($ns))$" -Because "the fix for $hop after '$break'"
                $ip | Should -Match "^ip (-n|netns exec) $([regex]::Escape($ns)) " -Because "the fix for $hop after '$break'"
                if ($way -eq 'cmdlet') { Invoke-Expression $found.Fix | Out-Null } else { & bash -c $ip }
                (Test-ContainerNetwork $c @p | Where-Object Hop -eq $hop).Status | Should -Be 'Ok' -Because "'$(if ($way -eq 'cmdlet') { $cmdlet } else { $ip })' repairs $hop"
            }
        }
        @(Test-ContainerNetwork $c @p | Where-Object Status -ne 'Ok') | Should -BeNullOrEmpty
        # A fix that rebuilds from the records names the host and the state directory.
        & ip netns exec $h nft delete table inet containernetworking
        $found = Test-ContainerNetwork $c @p | Where-Object Hop -eq 'NetworkRules'
        $found.Status | Should -Be 'Broken'
        $found.Fix | Should -Match "^Repair-ContainerNetwork -StateDirectory $([regex]::Escape($sd)) -NetNamespace $([regex]::Escape($h))  # "
        Invoke-Expression $found.Fix
        @(Test-ContainerNetwork $c @p | Where-Object Status -ne 'Ok') | Should -BeNullOrEmpty
    }

    It 'a record a power cut left empty is StateCorrupt, and the Repair command its message names, pasted as is, lets the network be made again' {
        Set-Content -Path (Join-Path $sd 'networks/bridge/network.json') -Value $null -NoNewline
        Get-ContainerNetwork bridge @p -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'StateCorrupt,*'
        $err[0].Exception.Message | Should -Match 'networks/bridge/network\.json cannot be read: it is empty'
        $fix = [regex]::Match($err[0].Exception.Message, 'Run (Repair-ContainerNetwork[^:]+):').Groups[1].Value
        $fix | Should -Be "Repair-ContainerNetwork -StateDirectory $sd -NetNamespace $($hostNs.Name)"
        $found = Invoke-Expression "$fix -Confirm:`$false"
        ($found | Where-Object Kind -eq 'CorruptNetworkRecord').Action | Should -Be 'Removed'
        Get-LinkNames $hostNs.Name | Should -Not -Contain 'docker0'
        Test-Path "/run/netns/$c" | Should -BeFalse
        (New-ContainerNetwork bridge -Subnet 172.17.0.0/16 -BridgeName docker0 @p).Name | Should -Be 'bridge'
        (Connect-ContainerNetwork bridge -Container (New-ContainerName 'again') -CreateNamespace @p).IPv4Address.ToString() | Should -Be '172.17.0.2'
    }

    It 'Repair-ContainerNetwork -WhatIf lists an endpoint whose namespace was deleted and changes nothing; without -WhatIf it cleans up' {
        & ip netns delete $c
        # The kernel destroys the veth pair with the namespace, asynchronously: wait for that before taking the snapshot.
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ((Get-LinkNames $hostNs.Name) -contains $e.HostInterface -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        $links = Get-LinkNames $hostNs.Name
        $rules = Get-Ruleset $hostNs.Name
        $state = Get-StateSnapshot $sd
        $findings = Repair-ContainerNetwork @p -WhatIf
        $findings | Should -Not -BeNullOrEmpty
        $findings.Action | Should -Not -Contain 'Removed'
        ($findings | Where-Object { $_.Object -like "$($e.Id.Substring(0, 12))*" -or $_.Detail -match [regex]::Escape($c) }) | Should -Not -BeNullOrEmpty
        Get-LinkNames $hostNs.Name | Should -Be $links
        Get-Ruleset $hostNs.Name | Should -Be $rules
        Get-StateSnapshot $sd | Should -Be $state
        $done = Repair-ContainerNetwork @p -Confirm:$false
        $done.Action | Should -Contain 'Removed'
        $done.Action | Should -Not -Contain 'Failed'
        Get-ContainerEndpoint @p | Should -BeNullOrEmpty
        @(Get-LinkNames $hostNs.Name | Where-Object { $_ -like 'veth*' }) | Should -BeNullOrEmpty
        (& ip netns exec $hostNs.Name nft list ruleset) -join "`n" | Should -Not -Match '8088'
        Repair-ContainerNetwork @p | Should -BeNullOrEmpty
    }

    It 'Repair-ContainerNetwork re-creates the rules after a flush, and the published port is back' {
        & ip netns exec $hostNs.Name nft flush ruleset
        (& ip netns exec $hostNs.Name nft list ruleset) -join "`n" | Should -Not -Match 'masquerade'
        $done = Repair-ContainerNetwork @p
        $done.Action | Should -Contain 'Recreated'
        $rules = (& ip netns exec $hostNs.Name nft list ruleset) -join "`n"
        $rules | Should -Match 'masquerade'
        $rules | Should -Match '8088'
    }
}

Describe 'The state lock: a time-out that names the holder, and Ctrl+C' -Tag 'Root' {
    BeforeEach {
        $hostNs = New-TestNamespace 'host' -LoopbackUp
        $sd = New-StateDirectory
        $p = @{ NetNamespace = $hostNs; StateDirectory = $sd }
        # Another process holds the lock, as a stuck command of another shell would: a shell that opens the lock file,
        # locks it with flock(1) (which ends at once: the lock stays with the shell's descriptor) and becomes sleep.
        $lockFile = Join-Path $sd '.lock'
        $holder = Start-Process -FilePath sh -ArgumentList '-c', "`"exec 9>$lockFile; flock -x 9; exec sleep 120`"" -PassThru
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ($true) {
            & flock -n $lockFile true
            if ($LASTEXITCODE -ne 0) { break }
            if ([DateTime]::UtcNow -gt $deadline) { throw 'the holder did not take the lock' }
            Start-Sleep -Milliseconds 50
        }
    }
    AfterEach {
        Stop-Process -Id $holder.Id -Force -ErrorAction Ignore
        Remove-Item Env:CONTAINERNETWORKING_LOCK_TIMEOUT -ErrorAction Ignore
        Remove-TestNamespaces
        Remove-Item -Recurse -Force $sd -ErrorAction Ignore
    }

    It 'fails with StateLocked after $env:CONTAINERNETWORKING_LOCK_TIMEOUT seconds, naming the pid and command that hold it, and changes nothing' {
        $env:CONTAINERNETWORKING_LOCK_TIMEOUT = '2'
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $n = New-ContainerNetwork bridge -Subnet 172.17.0.0/16 -BridgeName docker0 @p -ErrorVariable err -ErrorAction SilentlyContinue
        $sw.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1.9
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
        $n | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'StateLocked,*'
        $err[0].CategoryInfo.Category | Should -Be 'ResourceBusy'
        $err[0].Exception.Message | Should -BeLike "*held by pid $($holder.Id) (sleep 120)*"
        $err[0].Exception.Message | Should -BeLike "*kill $($holder.Id)*"
        @(Get-IpJson $hostNs.Name 'link', 'show', 'type', 'bridge') | Should -BeNullOrEmpty
        # Once the holder is gone the same command goes through at once.
        Stop-Process -Id $holder.Id -Force
        $holder.WaitForExit()
        (New-ContainerNetwork bridge -Subnet 172.17.0.0/16 -BridgeName docker0 @p).Name | Should -Be 'bridge'
    }

    It 'a pipeline waiting for the lock stops at once when it is stopped (Ctrl+C; PowerShell.Stop())' {
        # No time-out set: the default (60 s) would keep it waiting.
        $ps = New-ModuleRunspace
        try {
            $null = $ps.AddCommand('New-ContainerNetwork').AddParameters(@{ Name = 'bridge'; Subnet = '172.17.0.0/16'; BridgeName = 'docker0' } + $p)
            $async = $ps.BeginInvoke()
            Start-Sleep -Seconds 2   # well inside the wait for the lock
            $ps.InvocationStateInfo.State | Should -Be 'Running'
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 2
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally { Close-ModuleRunspace $ps }
        @(Get-IpJson $hostNs.Name 'link', 'show', 'type', 'bridge') | Should -BeNullOrEmpty
    }
}

Describe 'Network name completion' -Tag 'Root' {
    BeforeAll {
        $hostNs = New-TestNamespace 'host' -LoopbackUp
        $sd = New-StateDirectory
        New-ContainerNetwork complete-me -Subnet 10.77.0.0/24 -NetNamespace $hostNs -StateDirectory $sd | Out-Null
    }
    AfterAll {
        Remove-TestNamespaces
        Remove-Item -Recurse -Force $sd -ErrorAction Ignore
    }

    It 'completes network names from the state of the namespace and state directory given' {
        $line = "Remove-ContainerNetwork -NetNamespace $($hostNs.Name) -StateDirectory '$sd' -Name compl"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'complete-me'
        $line = "Get-ContainerNetwork -NetNamespace $($hostNs.Name) -StateDirectory '$sd' -Name "
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'complete-me', 'host', 'none'
    }
}
