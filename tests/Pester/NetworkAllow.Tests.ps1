# Set-ContainerNetwork -AllowNetwork / -DisallowNetwork: lifting the isolation between two bridge networks on request.
# Root; throwaway namespaces only (one plays the host), a temporary -StateDirectory; nothing in the namespace the tests
# run in changes.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    function New-ContainerName([string] $Role = 'c') {
        $n = New-TestName $Role
        $script:CreatedNamespaces.Add($n)
        $n
    }

    function Get-AllowRule([string] $Namespace) {
        # The pair's rules as nft shows them (comment "cn:allow BRIDGE1 BRIDGE2 …").
        $rs = ((& ip netns exec $Namespace nft -j list ruleset) -join "`n") | ConvertFrom-Json
        @($rs.nftables.rule | Where-Object { $_ -and $_.comment -like 'cn:allow *' })
    }
}
AfterAll { Remove-TestNamespaces }

Describe 'Set-ContainerNetwork -AllowNetwork / -DisallowNetwork' -Tag 'Root' {
    BeforeEach {
        $hostNs = New-TestNamespace 'host' -LoopbackUp
        $sd = Join-Path ([IO.Path]::GetTempPath()) "cnp-state-$PID-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
        $p = @{ NetNamespace = $hostNs; StateDirectory = $sd }
        New-ContainerNetwork front -Subnet 172.30.1.0/24 -BridgeName cnp-front @p | Out-Null
        New-ContainerNetwork back -Subnet 172.30.2.0/24 -BridgeName cnp-back @p | Out-Null
        $a = New-ContainerName 'front'
        $b = New-ContainerName 'back'
        $ea = Connect-ContainerNetwork front -Container $a -CreateNamespace @p
        $eb = Connect-ContainerNetwork back -Container $b -CreateNamespace @p
    }
    AfterEach {
        Remove-TestNamespaces
        Remove-Item -Recurse -Force $sd -ErrorAction Ignore
    }

    It 'isolates by default, lets the pair talk both ways after -AllowNetwork, and isolates again after -DisallowNetwork' {
        Test-Ping $a $eb.IPv4Address | Should -BeFalse
        $n = Get-ContainerNetwork front @p | Set-ContainerNetwork -AllowNetwork back -PassThru
        $n.AllowedNetworks | Should -Be @('back')
        (Get-ContainerNetwork back @p).AllowedNetworks | Should -Be @('front')
        Test-Ping $a $eb.IPv4Address | Should -BeTrue
        Test-Ping $b $ea.IPv4Address | Should -BeTrue
        (Get-AllowRule $hostNs.Name).Count | Should -Be 2
        (Get-AllowRule $hostNs.Name)[0].comment | Should -BeLike 'cn:allow cnp-back cnp-front*'

        Set-ContainerNetwork front -DisallowNetwork back @p | Should -BeNullOrEmpty
        Test-Ping $a $eb.IPv4Address | Should -BeFalse
        (Get-AllowRule $hostNs.Name).Count | Should -Be 0
        (Get-ContainerNetwork front @p).AllowedNetworks | Should -BeNullOrEmpty
    }

    It '-WhatIf changes nothing; an unknown network is a NetworkNotFound error' {
        Set-ContainerNetwork front -AllowNetwork back @p -WhatIf
        (Get-AllowRule $hostNs.Name).Count | Should -Be 0
        (Get-ContainerNetwork front @p).AllowedNetworks | Should -BeNullOrEmpty
        { Set-ContainerNetwork front -AllowNetwork nosuchnet @p -ErrorAction Stop } | Should -Throw -ErrorId 'NetworkNotFound,*'
    }
}
