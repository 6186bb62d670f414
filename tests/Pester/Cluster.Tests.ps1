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
