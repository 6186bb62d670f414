# Cluster cmdlets against a real etcd (started here on 127.0.0.1, stopped in AfterAll): bad input and an unreachable
# store change nothing on the node; two processes connecting at the same moment never get the same subnet; a node
# whose lease expired is dropped by the others' next sync. Nodes are throwaway namespaces on a switch namespace.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'ClusterHelpers.ps1')
    $script:stateDir = Join-Path ([System.IO.Path]::GetTempPath()) "cn-cluster-$PID"
    $script:oldStateDir = $env:CONTAINERNETWORKING_STATE_DIR
    $env:CONTAINERNETWORKING_STATE_DIR = $script:stateDir
    $script:etcd = Start-TestEtcd
    $script:sw = New-TestUnderlay
    function Invoke-WhatIfText([string] $Command) {
        # -WhatIf writes to the host, not to a stream: run the command in a child pwsh and read what it prints.
        $pwsh = Get-PwshCommand
        $script = "`$ErrorActionPreference = 'Stop'; Import-Module '$script:ModuleManifest'; `$env:CONTAINERNETWORKING_STATE_DIR = '$script:stateDir'; $Command"
        (& $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $script 2>&1 | Out-String)
    }
}
AfterAll {
    Remove-TestNamespaces
    Stop-TestEtcd $script:etcd
    $env:CONTAINERNETWORKING_STATE_DIR = $script:oldStateDir
    Remove-Item $script:stateDir -Recurse -Force -ErrorAction Ignore
}

Describe 'Cluster: failures change nothing' -Tag 'Root' {
    It 'an etcd that is down gives ClusterStoreUnreachable naming the endpoint, and the node is untouched' {
        $n = New-TestNode $sw 1
        $before = (& ip -n $n.Name -j -d link show) -join ''
        $dead = "http://127.0.0.1:$(Get-FreeTcpPort)"
        $err = $null
        Connect-ContainerCluster -Store $dead -Interface eth0 -NetNamespace $n -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ClusterStoreUnreachable*'
        $err[0].Exception.Message | Should -BeLike "*$dead*"
        ((& ip -n $n.Name -j -d link show) -join '') | Should -Be $before
        Get-ContainerNetwork -NetNamespace $n | Where-Object Name -eq cluster | Should -BeNullOrEmpty
        (& ip netns exec $n.Name nft list tables) -join '' | Should -Not -Match 'containernetworking-cluster'
    }

    It 'bad input is refused before anything happens: no cluster config, a bad subnet length, an unknown interface' {
        $n = New-TestNode $sw 2
        { Connect-ContainerCluster -Store $etcd.Url -Prefix /nothing/here -Interface eth0 -NetNamespace $n -ErrorAction Stop } | Should -Throw -ErrorId 'ClusterNotFound*'
        { New-ContainerCluster -Subnet 10.244.0.0/16 -SubnetLength 8 -Store $etcd.Url -Prefix /bad -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidClusterConfig*'
        New-ContainerCluster -Subnet 10.250.0.0/16 -Store $etcd.Url -Prefix /bad2 | Out-Null
        { New-ContainerCluster -Subnet 10.251.0.0/16 -Store $etcd.Url -Prefix /bad2 -ErrorAction Stop } | Should -Throw -ErrorId 'ClusterExists*'
        { Connect-ContainerCluster -Store $etcd.Url -Prefix /bad2 -Interface nope0 -NetNamespace $n -ErrorAction Stop } | Should -Throw -ErrorId 'LinkNotFound*'
        Get-ContainerClusterNode -Store $etcd.Url -Prefix /bad2 | Should -BeNullOrEmpty
        Get-NetLink -NetNamespace $n | Where-Object Kind -eq vxlan | Should -BeNullOrEmpty
        { Sync-ContainerCluster -NetNamespace $n -ErrorAction Stop } | Should -Throw -ErrorId 'ClusterNotConnected*'
    }

    It '-WhatIf shows the plan and changes nothing' {
        $n = New-TestNode $sw 3
        New-ContainerCluster -Subnet 10.252.0.0/16 -Store $etcd.Url -Prefix /whatif | Out-Null
        $text = Invoke-WhatIfText "Connect-ContainerCluster -Store $($etcd.Url) -Prefix /whatif -Interface eth0 -NetNamespace $($n.Name) -WhatIf"
        $text | Should -Match 'type vxlan id 1 local 198.18.56.13 dev eth0 dstport 8472 nolearning mtu 1450'
        Get-ContainerClusterNode -Store $etcd.Url -Prefix /whatif | Should -BeNullOrEmpty
        Get-NetLink -NetNamespace $n | Where-Object Kind -eq vxlan | Should -BeNullOrEmpty
    }
}

Describe 'Cluster: leases' -Tag 'Root' {
    It 'two processes connecting nodes at the same moment get different subnets (etcd transactions)' {
        New-ContainerCluster -Subnet 10.253.0.0/16 -Store $etcd.Url -Prefix /race | Out-Null
        $a = New-TestNode $sw 4; $b = New-TestNode $sw 5
        $pwsh = Get-PwshCommand
        $start = [DateTime]::UtcNow.AddSeconds(4).ToString('o')
        $procs = foreach ($n in $a, $b) {
            $script = "Import-Module '$script:ModuleManifest'; `$env:CONTAINERNETWORKING_STATE_DIR = '$script:stateDir'; " +
                "while ([DateTime]::UtcNow -lt [DateTime]::Parse('$start').ToUniversalTime()) { Start-Sleep -Milliseconds 5 }; " +
                "(Connect-ContainerCluster -Store $($etcd.Url) -Prefix /race -Interface eth0 -NetNamespace $($n.Name) -ErrorAction Stop).Subnet.ToString()"
            Start-Process -FilePath $pwsh[0] -ArgumentList (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-Command', $script)) -PassThru `
                -RedirectStandardOutput "$script:stateDir-$($n.Name).out" -RedirectStandardError "$script:stateDir-$($n.Name).err"
        }
        $procs | ForEach-Object { $_.WaitForExit(60000) | Should -BeTrue }
        $subnets = foreach ($n in $a, $b) { (Get-Content "$script:stateDir-$($n.Name).out" -Raw).Trim() }
        Remove-Item "$script:stateDir-*.out", "$script:stateDir-*.err" -ErrorAction Ignore
        $subnets | Should -HaveCount 2
        $subnets[0] | Should -Not -Be $subnets[1]
        $subnets | ForEach-Object { $_ | Should -BeIn '10.253.1.0/24', '10.253.2.0/24' }
        (Get-ContainerClusterNode -Store $etcd.Url -Prefix /race).Subnet.ForEach({ $_.ToString() }) | Sort-Object | Should -Be '10.253.1.0/24', '10.253.2.0/24'
    }

    It 'a node whose lease expired is dropped by the others'' next sync' {
        New-ContainerCluster -Subnet 10.254.0.0/16 -Store $etcd.Url -Prefix /expiry | Out-Null
        $a = New-TestNode $sw 6; $b = New-TestNode $sw 7
        Connect-ContainerCluster -Store $etcd.Url -Prefix /expiry -Interface eth0 -NetNamespace $a | Out-Null
        Connect-ContainerCluster -Store $etcd.Url -Prefix /expiry -Interface eth0 -NetNamespace $b -LeaseDuration 00:00:03 | Out-Null
        (Sync-ContainerCluster -NetNamespace $a).Added.Subnet | Should -Be '10.254.2.0/24'
        Start-Sleep -Seconds 6
        (Get-ContainerClusterNode -Store $etcd.Url -Prefix /expiry).Subnet.ForEach({ $_.ToString() }) | Should -Be '10.254.1.0/24'
        (Sync-ContainerCluster -NetNamespace $a).Removed.Subnet | Should -Be '10.254.2.0/24'
        (Get-IpJson $a.Name @('route', 'show')).dst | Should -Not -Contain '10.254.2.0/24'
        # The expired node's next sync takes its subnet again, and the other one sees it after its own.
        (Sync-ContainerCluster -NetNamespace $b).Node.Subnet.ToString() | Should -Be '10.254.2.0/24'
        (Sync-ContainerCluster -NetNamespace $a).Added.Subnet | Should -Be '10.254.2.0/24'
        foreach ($n in $a, $b) { Disconnect-ContainerCluster -NetNamespace $n -Force }
    }
}

Describe 'Cluster: Test-ContainerNetwork -Destination follows the path to a pod on another node (<Backend>)' -Tag 'Root' -ForEach @(
    @{ Backend = 'Vxlan'; Prefix = '/diag/vxlan'; Subnet = '10.240.0.0/16'; First = 11 }
    @{ Backend = 'HostGateway'; Prefix = '/diag/hostgw'; Subnet = '10.241.0.0/16'; First = 14 }
) {
    BeforeAll {
        $p = @{ Store = $etcd.Url; Prefix = $Prefix }
        New-ContainerCluster -Subnet $Subnet -Backend $Backend @p | Out-Null
        $nodes = $First, ($First + 1), ($First + 2) | ForEach-Object { New-TestNode $sw $_ }
        foreach ($n in $nodes) { Connect-ContainerCluster -Interface eth0 -NetNamespace $n @p | Out-Null }
        $info = @{}
        foreach ($n in $nodes) { $info[$n.Name] = (Sync-ContainerCluster -NetNamespace $n).Node }
        $pods = foreach ($i in 0, 1) {
            $name = New-TestName "pod$i"
            $script:CreatedNamespaces.Add($name)
            $e = Connect-ContainerNetwork cluster -Container $name -CreateNamespace -NetNamespace $nodes[$i]
            [pscustomobject]@{ Name = $name; Ip = $e.IPv4Address.ToString() }
        }
        $web = $pods[0].Name; $dest = $pods[1].Ip; $node1 = $nodes[0]; $node2 = $nodes[1]
        $peerSubnet = $info[$node2.Name].Subnet
        function Invoke-Fix($Hop, [string] $Namespace) {
            # The fix as Test names it: the command before the comment, pasted as is; it names the namespace it acts on.
            $command = ($Hop.Fix -split '  #')[0]
            $command | Should -Be "Sync-ContainerCluster -NetNamespace $Namespace"
            Invoke-Expression $command | Out-Null
        }
        function Get-FirstBroken {
            $hops = Test-ContainerNetwork $web -Destination $dest -NetNamespace $node1
            $hops | Where-Object Status -eq Broken | Select-Object -First 1
        }
    }
    AfterAll {
        foreach ($n in $nodes) { Disconnect-ContainerCluster -NetNamespace $n -Force -ErrorAction SilentlyContinue }
    }

    It 'the healthy path passes: every hop Ok, the cluster''s hops in a packet''s order' {
        Test-Ping $web $dest | Should -BeTrue
        $hops = Test-ContainerNetwork $web -Destination $dest -NetNamespace $node1
        $hops | Where-Object Status -eq Broken | Should -BeNullOrEmpty
        $expected = if ($Backend -eq 'Vxlan') { 'PodRoute', 'VxlanDevice', 'PeerRoute', 'PeerNeighbor', 'PeerFdb', 'PeerLease', 'NodeLease' } else { 'PodRoute', 'PeerRoute', 'PeerLease', 'NodeLease' }
        $cluster = $hops | Select-Object -Skip ([array]::IndexOf($hops.Hop, 'PodRoute'))
        $cluster.Hop | Should -Be $expected
        $cluster.Status | Should -Not -Contain 'Skipped'
        ($hops | Where-Object Hop -eq Forwarding).Status | Should -Be Ok
        ($hops | Where-Object Hop -eq PeerLease).Detail | Should -BeLike "*$($node2.Name)*"
        $hops.Order | Should -Be (1..$hops.Count)
    }

    It 'a destination outside the cluster network is refused naming the range' {
        { Test-ContainerNetwork $web -Destination 192.0.2.1 -NetNamespace $node1 -ErrorAction Stop } | Should -Throw -ErrorId 'DestinationNotInCluster*'
    }

    # host-gw has a route per peer only; vxlan a route, a neighbour and an FDB entry.
    It 'each deleted entry is the hop Test names, and its fix makes packets cross again: <Break>' -ForEach @(
        @{ Break = 'route'; Hop = 'PeerRoute' }
        if ($Backend -eq 'Vxlan') {
            @{ Break = 'neighbour'; Hop = 'PeerNeighbor' }
            @{ Break = 'FDB entry'; Hop = 'PeerFdb' }
        }
    ) {
        $n = $node1.Name
        $peer = $info[$n].Peers | Where-Object Subnet -eq $peerSubnet.ToString()
        switch ($Break) {
            'route' { & ip -n $n route del $peerSubnet.ToString() }
            'neighbour' { & ip -n $n neigh del $peerSubnet.BaseAddress.ToString() dev flannel.1 }
            'FDB entry' { & bridge -n $n fdb del $peer.VtepMac dev flannel.1 dst $peer.PublicIP self }
        }
        $LASTEXITCODE | Should -Be 0
        Test-Ping $web $dest | Should -BeFalse
        $broken = Get-FirstBroken
        $broken.Hop | Should -Be $Hop
        $broken.Fix | Should -BeLike "Sync-ContainerCluster -NetNamespace $n*"
        Invoke-Fix $broken $n
        (Get-FirstBroken) | Should -BeNullOrEmpty
        Test-Ping $web $dest | Should -BeTrue
    }

    It 'a peer whose lease is gone from etcd is the PeerLease hop; the peer''s sync (the fix) takes it back' {
        $key = "$Prefix/subnets/$($peerSubnet.BaseAddress)-$($peerSubnet.PrefixLength)"
        $body = @{ key = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($key)) } | ConvertTo-Json
        [int](Invoke-RestMethod -Method Post "$($etcd.Url)/v3/kv/deleterange" -Body $body).deleted | Should -Be 1
        $broken = Get-FirstBroken
        $broken.Hop | Should -Be 'PeerLease'
        $broken.Detail | Should -BeLike "*$key*"
        $broken.Fix | Should -BeLike "Sync-ContainerCluster -NetNamespace $($node2.Name)*"
        Invoke-Fix $broken $node2.Name
        (Get-ContainerClusterNode @p).Subnet.ForEach({ $_.ToString() }) | Should -Contain $peerSubnet.ToString()
        Sync-ContainerCluster -NetNamespace $node1 | Out-Null   # the lease is the same: node1 keeps its entries
        (Get-FirstBroken) | Should -BeNullOrEmpty
        Test-Ping $web $dest | Should -BeTrue
    }

    It 'Get-NetTopology shows each node''s overlay and its peers named from the leases; Dot draws one overlay edge per node pair' {
        $names = $nodes.Name
        $topo = Get-NetTopology -NetNamespace $names -Store $etcd.Url -Prefix $Prefix
        $text = $topo.ToText()
        for ($i = 0; $i -lt 3; $i++) {
            $view = $topo.Namespaces | Where-Object Name -eq $names[$i]
            $others = 0..2 | Where-Object { $_ -ne $i }
            if ($Backend -eq 'Vxlan') {
                $view.Overlays | Should -HaveCount 1
                $text | Should -Match ([regex]::Escape("flannel.1 vxlan UNKNOWN 10.2")) -Because 'the device is drawn with its address'
                $text | Should -Match ([regex]::Escape("vni 1 local 198.18.56.$(10 + $First + $i) dstport 8472"))
                $view.Overlays[0].Device | Should -Be 'flannel.1'
                $view.Overlays[0].Vni | Should -Be 1
                $view.Overlays[0].Local | Should -Be "198.18.56.$(10 + $First + $i)"
                $view.Overlays[0].Peers.Remote | Should -Be ($others | ForEach-Object { "198.18.56.$(10 + $First + $_)" })
                $view.Overlays[0].Peers.Node | Should -Be ($others | ForEach-Object { $names[$_] })
                foreach ($j in $others) { $text | Should -Match ([regex]::Escape("peer 198.18.56.$(10 + $First + $j) ($($names[$j]))")) }
            } else {
                $view.GatewayRoutes.Gateway | Should -Be ($others | ForEach-Object { "198.18.56.$(10 + $First + $_)" })
                $view.GatewayRoutes.Node | Should -Be ($others | ForEach-Object { $names[$_] })
                foreach ($j in $others) { $text | Should -Match ([regex]::Escape("via 198.18.56.$(10 + $First + $j) dev eth0 ($($names[$j]))")) }
            }
        }
        $dot = Export-NetTopology -Format Dot -NetNamespace $names
        $file = Join-Path $stateDir "topology-$Backend.dot"
        New-Item -ItemType Directory -Force (Split-Path $file) | Out-Null
        Set-Content $file $dot
        & dot -Tsvg -o "$file.svg" $file
        $LASTEXITCODE | Should -Be 0
        (Get-Content "$file.svg" -Raw) | Should -Match '<svg'
        $overlay = @($dot -split "`n" | Where-Object { $_ -match 'class=overlay' })
        $overlay | Should -HaveCount 3   # node1-node2, node1-node3, node2-node3
        $overlay | Should -Not -Match 'remote'
        (Export-NetTopology -Format Mermaid -NetNamespace $names) | Should -Match ([regex]::Escape($Backend -eq 'Vxlan' ? '-.-|vxlan 1|' : '-.-|host-gw|'))
    }
}
