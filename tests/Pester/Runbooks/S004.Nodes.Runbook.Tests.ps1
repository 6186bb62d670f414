<#
    Runbook S004, second half: pods across nodes, as flannel does it, as Pester tests you can read and run to verify a host:
        sudo pwsh -c "Invoke-Pester ./tests/Pester/Runbooks/S004.Nodes.Runbook.Tests.ps1 -Output Detailed"

    A real etcd (etcd-server, started here on 127.0.0.1 with free ports and a temporary data directory, stopped at the
    end) holds the cluster network 10.244.0.0/16. Three "nodes", namespaces on one underlay bridge (198.18.56.0/24)
    inside a switch namespace, connect: each leases a /24, gets a pod network on it and two pods, and every pod reaches
    every pod on the other nodes, first over VXLAN (flannel.1), then with host-gw routes. Nothing in the namespace you
    run it from changes: no VXLAN device, route or rule there, and etcd answers on 127.0.0.1 only.
#>
BeforeAll {
    . (Join-Path $PSScriptRoot '../TestHelpers.ps1')
    . (Join-Path $PSScriptRoot '../ClusterHelpers.ps1')
    $script:stateDir = Join-Path ([System.IO.Path]::GetTempPath()) "cn-s004-$PID"
    $script:oldStateDir = $env:CONTAINERNETWORKING_STATE_DIR
    $env:CONTAINERNETWORKING_STATE_DIR = $script:stateDir
    $script:rootRoutes = (& ip -j route show) -join ''
    $script:etcd = Start-TestEtcd
    $script:listeners = [System.Collections.Generic.List[object]]::new()
}
AfterAll {
    foreach ($l in $script:listeners) { Stop-Process -Id $l.Id -ErrorAction Ignore }
    Remove-TestNamespaces
    Stop-TestEtcd $script:etcd
    $env:CONTAINERNETWORKING_STATE_DIR = $script:oldStateDir
    Remove-Item $script:stateDir -Recurse -Force -ErrorAction Ignore
}

Describe 'S004: pods across nodes over <Backend>' -Tag 'Root', 'Runbook' -ForEach @(
    @{ Backend = 'Vxlan'; Prefix = '/s004/vxlan' }
    @{ Backend = 'HostGateway'; Prefix = '/s004/hostgw' }
) {
    BeforeAll {
        $sw = New-TestUnderlay
        $nodes = 1..3 | ForEach-Object { New-TestNode $sw $_ }
        $p = @{ Store = $etcd.Url; Prefix = $Prefix }
        $pods = @{}
        function Get-PeerState($Node) {
            # What the node has for the other nodes, read back with iproute2: routes into 10.244.0.0/16 (not its own),
            # and with VXLAN the neighbours and FDB entries on flannel.1.
            $routes = Get-IpJson $Node.Name @('route', 'show') | Where-Object { $_.dst -like '10.244.*' -and -not $_.prefsrc } | ForEach-Object dst
            $neigh = if ($Backend -eq 'Vxlan') { Get-IpJson $Node.Name @('neigh', 'show', 'dev', 'flannel.1') | ForEach-Object dst } else { @() }
            $fdb = if ($Backend -eq 'Vxlan') { (& bridge -n $Node.Name -j fdb show dev flannel.1 | ConvertFrom-Json) | Where-Object dst | ForEach-Object dst } else { @() }
            [pscustomobject]@{ Routes = @($routes | Sort-Object); Neighbors = @($neigh | Sort-Object); Fdb = @($fdb | Sort-Object) }
        }
    }

    It 'step 1: the cluster network 10.244.0.0/16 goes into etcd as flannel writes it' {
        $c = New-ContainerCluster -Subnet 10.244.0.0/16 -Backend $Backend @p
        $c.SubnetMin | Should -Be ([System.Net.IPNetwork]::Parse('10.244.1.0/24'))
        $raw = Invoke-RestMethod -Method Post "$($etcd.Url)/v3/kv/range" -Body (@{ key = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes("$Prefix/config")) } | ConvertTo-Json)
        $json = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($raw.kvs[0].value)) | ConvertFrom-Json
        $json.Network | Should -Be '10.244.0.0/16'
        $json.SubnetLen | Should -Be 24
        $json.Backend.Type | Should -Be ($Backend -eq 'Vxlan' ? 'vxlan' : 'host-gw')
    }

    It 'step 2: three nodes connect; each leases a /24 (the first skipped) and gets a pod network and the backend device' {
        $i = 0
        foreach ($n in $nodes) {
            $i++
            $node = Connect-ContainerCluster -Interface eth0 -NetNamespace $n @p
            $node.Subnet | Should -Be ([System.Net.IPNetwork]::Parse("10.244.$i.0/24"))
            $node.PublicIP | Should -Be "198.18.56.$(10 + $i)"
            (Get-ContainerNetwork cluster -NetNamespace $n).Subnet | Should -Be $node.Subnet
            if ($Backend -eq 'Vxlan') {
                $vx = (Get-IpJson $n.Name @('link', 'show', 'flannel.1'))[0]
                $vx.linkinfo.info_data.id | Should -Be 1
                $vx.linkinfo.info_data.port | Should -Be 8472
                $vx.linkinfo.info_data.learning | Should -BeFalse
                $vx.linkinfo.info_data.local | Should -Be "198.18.56.$(10 + $i)"
                $vx.mtu | Should -Be 1450
                $vx.address | Should -Be $node.VtepMac
            } else {
                Get-NetLink -NetNamespace $n | Where-Object Kind -eq vxlan | Should -BeNullOrEmpty
            }
        }
        $leases = Get-ContainerClusterNode @p
        $leases.Subnet.ForEach({ $_.ToString() }) | Should -Be '10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24'
        $leases | ForEach-Object { $_.Expires | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddHours(23)) }
    }

    It 'step 3: after a sync every node has exactly the routes, neighbours and FDB entries of the two others' {
        foreach ($n in $nodes) { Sync-ContainerCluster -NetNamespace $n | Out-Null }
        for ($i = 1; $i -le 3; $i++) {
            $others = 1..3 | Where-Object { $_ -ne $i }
            $s = Get-PeerState $nodes[$i - 1]
            $s.Routes | Should -Be ($others | ForEach-Object { "10.244.$_.0/24" })
            if ($Backend -eq 'Vxlan') {
                $s.Neighbors | Should -Be ($others | ForEach-Object { "10.244.$_.0" })
                $s.Fdb | Should -Be ($others | ForEach-Object { "198.18.56.$(10 + $_)" })
            } else {
                (Get-IpJson $nodes[$i - 1].Name @('route', 'show') | Where-Object { $_.dst -like '10.244.*' -and $_.gateway }).gateway | Sort-Object | Should -Be ($others | ForEach-Object { "198.18.56.$(10 + $_)" })
            }
        }
    }

    It 'step 4: two pods per node; every pod pings and connects over TCP to every pod on the other nodes' {
        for ($i = 1; $i -le 3; $i++) {
            foreach ($k in 'a', 'b') {
                $name = "cnp-pod$i$k-$PID-$Prefix".Replace('/', '')
                $script:CreatedNamespaces.Add($name)
                $e = Connect-ContainerNetwork cluster -Container $name -CreateNamespace -NetNamespace $nodes[$i - 1]
                $pods["$i$k"] = [pscustomobject]@{ Ns = $name; Ip = $e.IPv4Address.ToString(); Node = $i }
                $script:listeners.Add((Start-TcpListener $name 8080 "pod$i$k"))
            }
        }
        $failed = foreach ($a in $pods.Values) {
            foreach ($b in $pods.Values | Where-Object Node -ne $a.Node) {
                if (-not (Test-Ping $a.Ns $b.Ip)) { "ping $($a.Ns) -> $($b.Ip)" }
                $answer = Read-TcpAnswer $a.Ns $b.Ip 8080
                if ($answer -ne "pod$($b.Node)$(($pods.GetEnumerator() | Where-Object { $_.Value -eq $b }).Key[1])") { "tcp $($a.Ns) -> $($b.Ip): '$answer'" }
            }
        }
        $failed | Should -BeNullOrEmpty
    }

    It 'step 5: pods see each other''s own addresses (no masquerade inside the cluster)' {
        $server = Start-TcpListener $pods['2a'].Ns 8081 '$NCAT_REMOTE_ADDR'
        $script:listeners.Add($server)
        $answer = Read-TcpAnswer $pods['1a'].Ns $pods['2a'].Ip 8081
        if (-not $answer) { $answer = Read-TcpAnswer $pods['1a'].Ns $pods['2a'].Ip 8081 }
        $answer | Should -Be $pods['1a'].Ip
    }

    It 'step 6 (vxlan): the receiving node counts the encapsulated UDP; a 1422-byte DF ping passes, 1423 does not' -Skip:($Backend -ne 'Vxlan') {
        $before = [long](((& ip netns exec $nodes[1].Name nstat -az UdpInDatagrams) -match 'UdpInDatagrams') -split '\s+')[1]
        & ip netns exec $pods['1a'].Ns ping -c 5 -i 0.2 -W 2 -q $pods['2a'].Ip *> $null
        $LASTEXITCODE | Should -Be 0
        $after = [long](((& ip netns exec $nodes[1].Name nstat -az UdpInDatagrams) -match 'UdpInDatagrams') -split '\s+')[1]
        ($after - $before) | Should -BeGreaterOrEqual 5
        & ip netns exec $pods['1a'].Ns ping -c 1 -W 2 -M do -s 1422 $pods['2a'].Ip *> $null
        $LASTEXITCODE | Should -Be 0
        & ip netns exec $pods['1a'].Ns ping -c 1 -W 2 -M do -s 1423 $pods['2a'].Ip *> $null
        $LASTEXITCODE | Should -Not -Be 0
    }

    It 'step 6b: Test-ContainerNetwork -Destination walks pod 1a''s path to pod 2a hop by hop, all Ok; Get-NetTopology draws the overlay' {
        $hops = Test-ContainerNetwork $pods['1a'].Ns -Destination $pods['2a'].Ip -NetNamespace $nodes[0]
        $hops | Where-Object Status -ne Ok | Should -BeNullOrEmpty
        $hops.Hop | Should -Contain 'PeerRoute'
        $hops.Hop | Should -Contain 'PeerLease'
        $topo = Get-NetTopology -NetNamespace $nodes.Name -Store $etcd.Url -Prefix $Prefix
        $text = $topo.ToText()
        if ($Backend -eq 'Vxlan') {
            foreach ($i in 2, 3) { $text | Should -Match ([regex]::Escape("peer 198.18.56.$(10 + $i) ($($nodes[$i - 1].Name))")) }
        } else {
            foreach ($i in 2, 3) { $text | Should -Match ([regex]::Escape("route 10.244.$i.0/24 via 198.18.56.$(10 + $i) dev eth0 ($($nodes[$i - 1].Name))")) }
        }
        @((Export-NetTopology -Format Dot -NetNamespace $nodes.Name) -split "`n" | Where-Object { $_ -match 'class=overlay' }) | Should -HaveCount 3
    }

    It 'step 7: a node that disconnects leaves no entry on the others after their sync' {
        Get-ContainerEndpoint -Network cluster -NetNamespace $nodes[2] | Disconnect-ContainerNetwork
        Disconnect-ContainerCluster -NetNamespace $nodes[2]
        Get-ContainerClusterNode @p | ForEach-Object { $_.Subnet.ToString() } | Should -Not -Contain '10.244.3.0/24'
        Get-NetLink -NetNamespace $nodes[2] | Where-Object Name -in 'flannel.1', 'cni0' | Should -BeNullOrEmpty
        $r = Sync-ContainerCluster -NetNamespace $nodes[0]
        $r.Removed.Subnet | Should -Be '10.244.3.0/24'
        Sync-ContainerCluster -NetNamespace $nodes[1] | Out-Null
        foreach ($n in $nodes[0], $nodes[1]) {
            $s = Get-PeerState $n
            $s.Routes | Should -Not -Contain '10.244.3.0/24'
            $s.Neighbors | Should -Not -Contain '10.244.3.0'
            $s.Fdb | Should -Not -Contain '198.18.56.13'
        }
        Test-Ping $pods['1a'].Ns $pods['2b'].Ip | Should -BeTrue   # the others are untouched
    }

    It 'step 8: the node reconnects and gets its old subnet back' {
        Connect-ContainerCluster -Interface eth0 -NetNamespace $nodes[2] @p | Out-Null
        (Get-ContainerClusterNode @p | Where-Object PublicIP -eq '198.18.56.13').Subnet.ToString() | Should -Be '10.244.3.0/24'
    }

    It 'step 9: a fourth node shows up on node 1 at once with -Watch, and on node 2 after its sync' {
        $n4 = New-TestNode $sw 4
        $job = Start-ThreadJob -ArgumentList $nodes[0].Name, $script:ModuleManifest -ScriptBlock {
            param($ns, $manifest)
            Import-Module $manifest
            Sync-ContainerCluster -NetNamespace $ns -Watch -Interval 01:00:00
        }
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            while (-not $job.Output.Count -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }   # the first sync ran
            $job.Output.Count | Should -BeGreaterThan 0
            Connect-ContainerCluster -Interface eth0 -NetNamespace $n4 @p | Select-Object -ExpandProperty Subnet | Should -Be ([System.Net.IPNetwork]::Parse('10.244.4.0/24'))
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            while (-not ((Get-PeerState $nodes[0]).Routes -contains '10.244.4.0/24') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            (Get-PeerState $nodes[0]).Routes | Should -Contain '10.244.4.0/24'
        } finally {
            $job | Stop-Job
            $job | Remove-Job -Force
        }
        (Get-PeerState $nodes[1]).Routes | Should -Not -Contain '10.244.4.0/24'
        Sync-ContainerCluster -NetNamespace $nodes[1] | Out-Null
        (Get-PeerState $nodes[1]).Routes | Should -Contain '10.244.4.0/24'
        $script:CreatedNamespaces.Add("cnp-pod4-$PID-$($Prefix.Replace('/', ''))")
        $e = Connect-ContainerNetwork cluster -Container "cnp-pod4-$PID-$($Prefix.Replace('/', ''))" -CreateNamespace -NetNamespace $n4
        Test-Ping $pods['2a'].Ns $e.IPv4Address.ToString() | Should -BeTrue
    }

    It 'step 10: everything comes out again; the root namespace never had a VXLAN device or a pod route' {
        foreach ($n in (Get-NetNamespace | Where-Object Name -like "cnp-node*-$PID-*")) {
            Disconnect-ContainerCluster -NetNamespace $n -Force -ErrorAction SilentlyContinue
        }
        Remove-ContainerCluster @p -Force -Confirm:$false
        { Get-ContainerCluster @p -ErrorAction Stop } | Should -Throw -ErrorId 'ClusterNotFound*'
        (& ip -j -d link show type vxlan) -join '' | Should -BeIn '', '[]'
        ((& ip -j route show) -join '') | Should -Be $script:rootRoutes
    }
}
