# Add-/Get-/Remove-NatMasquerade, Publish-/Get-/Unpublish-ContainerPort. Tagged Root: throwaway namespaces only.
# Seed scenario S000 in namespaces: "host" with br0 192.168.0.1/24 and an uplink eth0 198.18.0.1/24 to "outside"
# (198.18.0.2, no route to 192.168.0.0/24); container net1 at 192.168.0.2/24 behind br0. The module's rules are read
# back with `nft -j list ruleset` and proven with real TCP connections (ncat listeners started in the namespaces).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Listeners = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()

    function New-S000Topology {
        # host + outside + net1, forwarding on in the host. Returns the names.
        $h = New-TestNamespace 'host' -LoopbackUp
        $o = New-TestNamespace 'out' -LoopbackUp
        $c = New-TestNamespace 'net1' -LoopbackUp
        New-NetBridge -NetNamespace $h -Name br0 -Up | Out-Null
        New-NetIPAddress -NetNamespace $h -InterfaceAlias br0 -IPAddress 192.168.0.1/24 | Out-Null
        New-VethPair -NetNamespace $h -Name eth0 -PeerName eth0 -PeerNetNamespace $o -Up | Out-Null
        New-NetIPAddress -NetNamespace $h -InterfaceAlias eth0 -IPAddress 198.18.0.1/24 | Out-Null
        New-NetIPAddress -NetNamespace $o -InterfaceAlias eth0 -IPAddress 198.18.0.2/24 | Out-Null
        New-VethPair -NetNamespace $h -Name veth1 -PeerName eth0 -PeerNetNamespace $c -Bridge br0 -Up | Out-Null
        New-NetIPAddress -NetNamespace $c -InterfaceAlias eth0 -IPAddress 192.168.0.2/24 | Out-Null
        New-NetRoute -NetNamespace $c -DestinationPrefix default -NextHop 192.168.0.1 | Out-Null
        Enable-IpForwarding -NetNamespace $h
        [pscustomobject]@{ Host = $h.Name; Outside = $o.Name; Container = $c.Name }
    }

    function Start-Listener([string] $Namespace, [string] $Address, [int] $Port, [string] $Tag) {
        # ncat in the namespace; answers every connection with "TAG PEER-ADDRESS-IT-SAW".
        $psi = [System.Diagnostics.ProcessStartInfo]::new('ip')
        foreach ($a in 'netns', 'exec', $Namespace, 'ncat', '-lk', $Address, "$Port", '--sh-exec', "echo `"$Tag `$NCAT_REMOTE_ADDR`"") { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $script:Listeners.Add([System.Diagnostics.Process]::Start($psi))
        # wait until it listens (ss inside the namespace), so that a failed connect means "closed", not "not yet"
        for ($i = 0; $i -lt 50; $i++) {
            if (& ip netns exec $Namespace ss -Htln "sport = :$Port") { return }
            Start-Sleep -Milliseconds 100
        }
        throw "ncat did not start listening on ${Address}:$Port in $Namespace"
    }

    function Stop-Listeners {
        foreach ($p in $script:Listeners) { try { if (-not $p.HasExited) { $p.Kill($true) }; $p.WaitForExit(2000) | Out-Null } catch { } }
        $script:Listeners.Clear()
    }

    function Connect-Tcp([string] $Namespace, [string] $Address, [int] $Port, [int] $Attempts = 3) {
        # What the listener said, or $null when no connection could be made.
        for ($i = 0; $i -lt $Attempts; $i++) {
            $out = & ip netns exec $Namespace ncat -w 2 --recv-only $Address "$Port" 2>$null
            if ($LASTEXITCODE -eq 0 -and $out) { return ($out -join "`n").Trim() }
            Start-Sleep -Milliseconds 200
        }
        $null
    }

    function Get-NftRuleset([string] $Namespace) {
        # The oracle: nft's own reading of the namespace's ruleset.
        $text = & ip netns exec $Namespace nft -j list ruleset
        (($text -join "`n") | ConvertFrom-Json).nftables
    }

    function Get-NftRules([string] $Namespace, [string] $Chain) {
        Get-NftRuleset $Namespace | Where-Object { $_.PSObject.Properties['rule'] } | ForEach-Object rule |
            Where-Object { $_.table -eq 'containernetworking' -and $_.family -eq 'inet' -and $_.chain -eq $Chain }
    }

    function Get-NftMapElements([string] $Namespace, [string] $Map) {
        # map elements as "proto . port => address . port" strings
        $m = Get-NftRuleset $Namespace | Where-Object { $_.PSObject.Properties['map'] } | ForEach-Object map |
            Where-Object { $_.table -eq 'containernetworking' -and $_.name -eq $Map }
        if (-not $m -or -not $m.PSObject.Properties['elem']) { return @() }
        foreach ($e in $m.elem) {
            $key = $e[0]; $value = $e[1]
            if ($key.PSObject.Properties['elem']) { $key = $key.elem.val }
            "$($key.concat -join ' . ') => $($value.concat -join ' . ')"
        }
    }

    function Get-ConntrackTo([string] $Namespace, [int] $Port) {
        # conntrack entries whose original destination port is $Port (the oracle for the flush)
        @(& ip netns exec $Namespace conntrack -L -p tcp --orig-port-dst $Port 2>$null) | Where-Object { $_ -match 'dport' }
    }
}

AfterAll {
    Stop-Listeners
    Remove-TestNamespaces
}

Describe 'NAT cmdlet metadata' {
    It 'exports the six NAT cmdlets with -NetNamespace, and -WhatIf where they change state' {
        foreach ($name in 'Add-NatMasquerade', 'Get-NatMasquerade', 'Remove-NatMasquerade', 'Publish-ContainerPort', 'Get-ContainerPort', 'Unpublish-ContainerPort') {
            $cmd = Get-Command $name -Module ContainerNetworking
            $cmd.Parameters.Keys | Should -Contain 'NetNamespace'
            if ($name -notlike 'Get-*') { $cmd.Parameters.Keys | Should -Contain 'WhatIf' }
        }
    }

    It 'Publish-ContainerPort has a parameter set for ports and one for Docker strings, and -Protocol is tcp|udp|sctp' {
        $cmd = Get-Command Publish-ContainerPort
        $cmd.ParameterSets.Name | Sort-Object | Should -Be 'Port', 'Publish'
        $cmd.DefaultParameterSet | Should -Be 'Port'
        $validate = $cmd.Parameters['Protocol'].Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] }
        $validate.ValidValues | Should -Be 'tcp', 'udp', 'sctp'
        (Get-Command Unpublish-ContainerPort).Parameters['InputObject'].ParameterType.FullName | Should -Be 'ContainerNetworking.Netfilter.PortMapping[]'
    }
}

Describe 'Add-, Get-, Remove-NatMasquerade (S000: -s 192.168.0.0/24 ! -o br0 -j MASQUERADE)' -Tag 'Root' {
    BeforeEach {
        $t = New-S000Topology
        Start-Listener $t.Outside 198.18.0.2 7000 'outside'
    }
    AfterEach {
        Stop-Listeners
        Remove-TestNamespaces
    }

    It 'is one line; nft shows the rule; the container reaches the outside, which sees the host''s address' {
        # without NAT the outside has no route back to 192.168.0.0/24
        Connect-Tcp $t.Container 198.18.0.2 7000 -Attempts 1 | Should -BeNullOrEmpty

        $m = Add-NatMasquerade -NetNamespace $t.Host -SourcePrefix 192.168.0.0/24 -ExcludeInterface br0 -Owner s000
        $m.Source.ToString() | Should -Be '192.168.0.0/24'
        $m.ExcludeOutInterface | Should -Be 'br0'
        $m.SnatAddress | Should -BeNullOrEmpty
        $m.Owner | Should -Be 's000'
        $m.NetNamespace | Should -Be $t.Host

        # nft's reading: ip saddr 192.168.0.0/24 oifname != "br0" counter masquerade, with the owner in the comment
        $rule = Get-NftRules $t.Host 'nat-postrouting' | Where-Object { $_.PSObject.Properties['comment'] -and $_.comment -like 'cn:masquerade 192.168.0.0/24*' }
        @($rule).Count | Should -Be 1
        $rule.handle | Should -Be $m.Handle
        $rule.comment | Should -BeLike '*owner=s000'
        $json = $rule.expr | ConvertTo-Json -Depth 10 -Compress
        $json | Should -Match '"saddr"'
        $json | Should -Match '"addr":"192.168.0.0","len":24'
        $json | Should -Match '"op":"!=".*"right":"br0"'
        $json | Should -Match '"masquerade"'

        Connect-Tcp $t.Container 198.18.0.2 7000 | Should -Be 'outside 198.18.0.1'
        $counted = Get-NatMasquerade -NetNamespace $t.Host -SourcePrefix 192.168.0.0/24
        $counted.Packets | Should -BeGreaterThan 0
        $counted.Bytes | Should -BeGreaterThan 0
    }

    It '-SnatAddress translates to a fixed address instead (SNAT)' {
        New-NetIPAddress -NetNamespace $t.Host -InterfaceAlias eth0 -IPAddress 198.18.0.3/24 | Out-Null
        $m = Add-NatMasquerade -NetNamespace $t.Host 192.168.0.0/24 br0 -SnatAddress 198.18.0.3
        $m.SnatAddress.ToString() | Should -Be '198.18.0.3'
        $json = (Get-NftRules $t.Host 'nat-postrouting' | Where-Object { $_.PSObject.Properties['comment'] -and $_.comment -like 'cn:masquerade 192.168.0.0/24*' }).expr | ConvertTo-Json -Depth 10 -Compress
        $json | Should -Match '"snat"'
        $json | Should -Match '198\.18\.0\.3'
        Connect-Tcp $t.Container 198.18.0.2 7000 | Should -Be 'outside 198.18.0.3'
    }

    It 'running it twice leaves one rule' {
        $a = Add-NatMasquerade -NetNamespace $t.Host 192.168.0.0/24 -ExcludeInterface br0
        $b = Add-NatMasquerade -NetNamespace $t.Host 192.168.0.0/24 -ExcludeInterface br0
        $b.Handle | Should -Be $a.Handle
        @(Get-NftRules $t.Host 'nat-postrouting' | Where-Object { $_.PSObject.Properties['comment'] -and $_.comment -like 'cn:masquerade*' }).Count | Should -Be 1
    }

    It '-WhatIf adds nothing' {
        Add-NatMasquerade -NetNamespace $t.Host 192.168.0.0/24 -ExcludeInterface br0 -WhatIf
        Get-NftRuleset $t.Host | Where-Object { $_.PSObject.Properties['table'] -and $_.table.name -eq 'containernetworking' } | Should -BeNullOrEmpty
        Get-NatMasquerade -NetNamespace $t.Host | Should -BeNullOrEmpty
    }

    It 'warns that forwarding is off, and names a foreign FORWARD chain whose policy is drop' {
        Disable-IpForwarding -NetNamespace $t.Host
        & ip netns exec $t.Host nft 'add table ip filter; add chain ip filter FORWARD { type filter hook forward priority 0; policy drop; }'
        $LASTEXITCODE | Should -Be 0
        Add-NatMasquerade -NetNamespace $t.Host 192.168.0.0/24 -ExcludeInterface br0 -WarningVariable w -WarningAction SilentlyContinue | Out-Null
        ($w -join "`n") | Should -Match 'net\.ipv4\.ip_forward is 0'
        ($w -join "`n") | Should -Match "Enable-IpForwarding -NetNamespace $([regex]::Escape($t.Host))"
        ($w -join "`n") | Should -Match 'table ip filter chain FORWARD .*policy drop'
        # the foreign table is left exactly as it was
        (Get-NftRuleset $t.Host | Where-Object { $_.PSObject.Properties['chain'] } | ForEach-Object chain |
            Where-Object { $_.table -eq 'filter' -and $_.name -eq 'FORWARD' }).policy | Should -Be 'drop'
    }

    It 'Get-NatMasquerade filters; Remove-NatMasquerade takes pipeline input and honours -WhatIf' {
        Add-NatMasquerade -NetNamespace $t.Host 192.168.0.0/24 -ExcludeInterface br0 -Owner s000 | Out-Null
        Add-NatMasquerade -NetNamespace $t.Host 172.18.0.0/16 -ExcludeInterface br0 -Owner s002 | Out-Null
        Add-NatMasquerade -NetNamespace $t.Host 192.168.15.0/24 -Owner s003 | Out-Null
        (Get-NatMasquerade -NetNamespace $t.Host).Count | Should -Be 3
        (Get-NatMasquerade -NetNamespace $t.Host -SourcePrefix '192.168.*').Count | Should -Be 2
        (Get-NatMasquerade -NetNamespace $t.Host -Owner s002).Source.ToString() | Should -Be '172.18.0.0/16'
        (Get-NatMasquerade -NetNamespace $t.Host -ExcludeInterface br0).Count | Should -Be 2

        Get-NatMasquerade -NetNamespace $t.Host -Owner s002 | Remove-NatMasquerade -WhatIf
        @(Get-NftRules $t.Host 'nat-postrouting' | Where-Object { $_.PSObject.Properties['comment'] -and $_.comment -like 'cn:masquerade*' }).Count | Should -Be 3

        # the piped objects carry their namespace: no -NetNamespace on Remove-NatMasquerade
        Get-NatMasquerade -NetNamespace $t.Host -Owner s002, s003 | Remove-NatMasquerade -Confirm:$false
        $left = Get-NftRules $t.Host 'nat-postrouting' | Where-Object { $_.PSObject.Properties['comment'] -and $_.comment -like 'cn:masquerade*' }
        @($left).Count | Should -Be 1
        $left.comment | Should -BeLike 'cn:masquerade 192.168.0.0/24*'

        Remove-NatMasquerade -NetNamespace $t.Host -SourcePrefix 192.168.0.0/24 -Confirm:$false
        Get-NatMasquerade -NetNamespace $t.Host | Should -BeNullOrEmpty
        Connect-Tcp $t.Container 198.18.0.2 7000 -Attempts 1 | Should -BeNullOrEmpty
    }

    It 'reports the documented failures with their ErrorIds and changes nothing' {
        { Add-NatMasquerade -NetNamespace $t.Host 192.168.0.1/24 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSourcePrefix,*'
        { Add-NatMasquerade -NetNamespace $t.Host -SourcePrefix 10.0.0.300/24 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSourcePrefix,*' -ExpectedMessage '*not a source prefix*'
        { Add-NatMasquerade -NetNamespace $t.Host 192.168.0.0/24 -SnatAddress 'not-an-ip' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidIPAddress,*'
        { Add-NatMasquerade -NetNamespace $t.Host 192.168.0.0/24 -SnatAddress fd00::1 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidMasquerade,*'
        { Remove-NatMasquerade -NetNamespace $t.Host -SourcePrefix 10.1.0.0/16 -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'MasqueradeNotFound,*'
        Get-NatMasquerade -NetNamespace $t.Host | Should -BeNullOrEmpty
    }
}

Describe 'Publish-, Get-, Unpublish-ContainerPort (S000: -p 8088:80)' -Tag 'Root' {
    BeforeAll {
        # warnings (a foreign drop policy, forwarding off) are tested on their own
        $PSDefaultParameterValues['Publish-ContainerPort:WarningAction'] = 'SilentlyContinue'
    }
    AfterAll { $PSDefaultParameterValues.Remove('Publish-ContainerPort:WarningAction') }
    BeforeEach {
        $t = New-S000Topology
        Start-Listener $t.Container 0.0.0.0 80 'net1'
    }
    AfterEach {
        Stop-Listeners
        Remove-TestNamespaces
    }

    It 'publishes host port 8088 to 192.168.0.2:80: nft shows the map element, and a client connects through it' {
        Connect-Tcp $t.Outside 198.18.0.1 8088 -Attempts 1 | Should -BeNullOrEmpty

        $m = Publish-ContainerPort -NetNamespace $t.Host -HostPort 8088 -ContainerAddress 192.168.0.2 -ContainerPort 80 -Owner net1
        $m.Protocol | Should -Be 'Tcp'
        $m.HostPort | Should -Be 8088
        $m.HostPortEnd | Should -Be 8088
        $m.ContainerAddress.ToString() | Should -Be '192.168.0.2'
        $m.ContainerPort | Should -Be 80
        $m.HostAddress | Should -BeNullOrEmpty
        $m.Owner | Should -Be 'net1'
        $m.NetNamespace | Should -Be $t.Host

        Get-NftMapElements $t.Host 'ports4' | Should -Be 'tcp . 8088 => 192.168.0.2 . 80'

        # from "another machine": the listener inside net1 answers and sees the client's own address
        Connect-Tcp $t.Outside 198.18.0.1 8088 | Should -Be 'net1 198.18.0.2'
        # from the host itself, to its own address (output hook)
        Connect-Tcp $t.Host 198.18.0.1 8088 | Should -Match '^net1 '
        (Get-ContainerPort -NetNamespace $t.Host -HostPort 8088).Packets | Should -BeGreaterThan 0
    }

    It 'takes Docker strings (-p 9001:80, 127.0.0.1:9002:80, 8000-8002:80-82/udp)' {
        $out = Publish-ContainerPort -NetNamespace $t.Host -Publish '9001:80', '127.0.0.1:9002:80', '8000-8002:80-82/udp' -ContainerAddress 192.168.0.2
        $out.Count | Should -Be 3
        $range = $out | Where-Object Protocol -eq 'Udp'
        $range.HostPort, $range.HostPortEnd, $range.ContainerPort, $range.ContainerPortEnd | Should -Be 8000, 8002, 80, 82
        ($out | Where-Object HostPort -eq 9002).HostAddress.ToString() | Should -Be '127.0.0.1'

        Get-NftMapElements $t.Host 'ports4' | Sort-Object | Should -Be @(
            'tcp . 9001 => 192.168.0.2 . 80'
            'udp . 8000 => 192.168.0.2 . 80'
            'udp . 8001 => 192.168.0.2 . 81'
            'udp . 8002 => 192.168.0.2 . 82')
        Get-NftMapElements $t.Host 'hostports4' | Should -Be '127.0.0.1 . tcp . 9002 => 192.168.0.2 . 80'
        Connect-Tcp $t.Outside 198.18.0.1 9001 | Should -Be 'net1 198.18.0.2'
        # bound to 127.0.0.1 only: not reachable on the host's outside address
        Connect-Tcp $t.Outside 198.18.0.1 9002 -Attempts 1 | Should -BeNullOrEmpty
    }

    It 'publishes several -Publish strings all or nothing, and chooses distinct free host ports' {
        Publish-ContainerPort -NetNamespace $t.Host -Publish '9001:80' -ContainerAddress 192.168.0.2 | Out-Null
        { Publish-ContainerPort -NetNamespace $t.Host -Publish '9100:80', '9001:81' -ContainerAddress 192.168.0.2 -ErrorAction Stop } | Should -Throw -ErrorId 'PortAlreadyPublished,*'
        { Publish-ContainerPort -NetNamespace $t.Host -Publish '9100:80', '9101:80/bogus' -ContainerAddress 192.168.0.2 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidPortSpec,*'
        Get-NftMapElements $t.Host 'ports4' | Should -Be 'tcp . 9001 => 192.168.0.2 . 80'

        $chosen = Publish-ContainerPort -NetNamespace $t.Host -Publish '80', '81' -ContainerAddress 192.168.0.2
        $chosen.HostPort | Should -Be 49153, 49154
        $chosen.ContainerPort | Should -Be 80, 81
        Connect-Tcp $t.Outside 198.18.0.1 49153 | Should -Be 'net1 198.18.0.2'
    }

    It 'S001 curl 127.0.0.1:9001: the host reaches the container through its 127.0.0.1 on a hand-built bridge, route_localnet on br0 only' {
        (& ip netns exec $t.Host sysctl -n net.ipv4.conf.br0.route_localnet) | Should -Be '0'
        Publish-ContainerPort -NetNamespace $t.Host -Publish '9001:80' -ContainerAddress 192.168.0.2 -WarningVariable w -WarningAction SilentlyContinue | Out-Null
        ($w -join "`n") | Should -Not -Match 'route_localnet'
        Connect-Tcp $t.Host 127.0.0.1 9001 | Should -Match '^net1 '
        (& ip netns exec $t.Host sysctl -n net.ipv4.conf.br0.route_localnet) | Should -Be '1'
        (& ip netns exec $t.Host sysctl -n net.ipv4.conf.all.route_localnet) | Should -Be '0'
        (& ip netns exec $t.Host sysctl -n net.ipv4.conf.default.route_localnet) | Should -Be '0'
        # the CVE-2020-8558 guard: a neighbour still cannot reach the host's 127.0.0.1 through br0
        (Get-NftRules $t.Host 'raw-prerouting' | ConvertTo-Json -Depth 12 -Compress) | Should -Match '127\.0\.0\.0'
    }

    It 'publishes a range given as a string, or as -HostPortEnd (S002: 5005 -> 172.17.0.2:5000 style)' {
        $a = Publish-ContainerPort -NetNamespace $t.Host -HostPort '8100-8102' -ContainerAddress 192.168.0.2 -ContainerPort '80-82'
        $a.HostPortEnd | Should -Be 8102
        $a.ContainerPortEnd | Should -Be 82
        $b = Publish-ContainerPort -NetNamespace $t.Host -HostPort 5005 -HostPortEnd 5006 -ContainerAddress 192.168.0.2 -ContainerPort 80
        $b.ContainerPortEnd | Should -Be 81
        @(Get-NftMapElements $t.Host 'ports4').Count | Should -Be 5
        Connect-Tcp $t.Outside 198.18.0.1 5005 | Should -Be 'net1 198.18.0.2'
        (Get-ContainerPort -NetNamespace $t.Host -HostPort 8101).HostPort | Should -Be 8100
    }

    It '-WhatIf publishes nothing' {
        Publish-ContainerPort -NetNamespace $t.Host -HostPort 8088 -ContainerAddress 192.168.0.2 -ContainerPort 80 -WhatIf
        Publish-ContainerPort -NetNamespace $t.Host -Publish '9001:80' -ContainerAddress 192.168.0.2 -WhatIf
        Get-NftRuleset $t.Host | Where-Object { $_.PSObject.Properties['table'] -and $_.table.name -eq 'containernetworking' } | Should -BeNullOrEmpty
        Connect-Tcp $t.Outside 198.18.0.1 8088 -Attempts 1 | Should -BeNullOrEmpty
    }

    It 'reports the documented failures with their ErrorIds and leaves the ruleset as it was' {
        Publish-ContainerPort -NetNamespace $t.Host 8088 192.168.0.2 80 | Out-Null
        $before = (& ip netns exec $t.Host nft list ruleset) -join "`n"

        { Publish-ContainerPort -NetNamespace $t.Host 8088 192.168.0.2 81 -ErrorAction Stop } | Should -Throw -ErrorId 'PortAlreadyPublished,*'
        { Publish-ContainerPort -NetNamespace $t.Host -Publish '8088:80' -ContainerAddress 192.168.0.2 -ErrorAction Stop } | Should -Throw -ErrorId 'PortAlreadyPublished,*'
        { Publish-ContainerPort -NetNamespace $t.Host '8080-8090' 192.168.0.2 80 -ContainerPortEnd 85 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidPortRange,*'
        { Publish-ContainerPort -NetNamespace $t.Host 0 192.168.0.2 80 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidPort,*'
        { Publish-ContainerPort -NetNamespace $t.Host 65536 192.168.0.2 80 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidPort,*'
        { Publish-ContainerPort -NetNamespace $t.Host 9000 192.168.0.2 0 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidPort,*'
        { Publish-ContainerPort -NetNamespace $t.Host 9000 10.1.2.3 80 -ErrorAction Stop } | Should -Throw -ErrorId 'ContainerAddressOutsideSubnets,*'
        { Publish-ContainerPort -NetNamespace $t.Host 9000 192.168.0.2 80 -Protocol icmp -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Publish-ContainerPort -NetNamespace $t.Host -Publish '9000:80/icmp' -ContainerAddress 192.168.0.2 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidPortSpec,*'
        { Publish-ContainerPort -NetNamespace $t.Host 9000 192.168.0.300 80 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidIPAddress,*'

        ((& ip netns exec $t.Host nft list ruleset) -join "`n") | Should -Be $before
    }

    It 'the outside-subnet error names the bridge subnets and the fix' {
        Publish-ContainerPort -NetNamespace $t.Host 9000 10.1.2.3 80 -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].Exception.Message | Should -Match '192\.168\.0\.0/24'
        $e[0].Exception.Message | Should -Match 'give the address the container has'
        $e[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e[0].TargetObject | Should -Not -BeNullOrEmpty
    }

    It 'Get-ContainerPort filters by host port, protocol, container address and owner' {
        Publish-ContainerPort -NetNamespace $t.Host 8088 192.168.0.2 80 -Owner net1 | Out-Null
        Publish-ContainerPort -NetNamespace $t.Host 8088 192.168.0.2 80 -Protocol udp | Out-Null
        Publish-ContainerPort -NetNamespace $t.Host -Publish '9001:80' -ContainerAddress 192.168.0.3 | Out-Null
        (Get-ContainerPort -NetNamespace $t.Host).Count | Should -Be 3
        (Get-ContainerPort -NetNamespace $t.Host -HostPort 8088).Count | Should -Be 2
        (Get-ContainerPort -NetNamespace $t.Host -HostPort 8088 -Protocol udp).Protocol | Should -Be 'Udp'
        (Get-ContainerPort -NetNamespace $t.Host -ContainerAddress '192.168.0.3').HostPort | Should -Be 9001
        (Get-ContainerPort -NetNamespace $t.Host -ContainerAddress '192.168.0.*').Count | Should -Be 3
        (Get-ContainerPort -NetNamespace $t.Host -Owner net1).HostPort | Should -Be 8088
        # the table view reads like docker port
        $text = Get-ContainerPort -NetNamespace $t.Host -Owner net1 | Out-String -Width 120
        $text | Should -Match 'tcp\s+0\.0\.0\.0:8088\s+192\.168\.0\.2:80\s'
    }

    It 'Get-ContainerPort | Unpublish-ContainerPort removes them all; -WhatIf removes nothing' {
        Publish-ContainerPort -NetNamespace $t.Host 8088 192.168.0.2 80 | Out-Null
        Publish-ContainerPort -NetNamespace $t.Host -Publish '9001:80', '8000-8002:80-82/udp' -ContainerAddress 192.168.0.2 | Out-Null

        Get-ContainerPort -NetNamespace $t.Host | Unpublish-ContainerPort -WhatIf
        @(Get-NftMapElements $t.Host 'ports4').Count | Should -Be 5

        $removed = Get-ContainerPort -NetNamespace $t.Host | Unpublish-ContainerPort -Confirm:$false -PassThru
        $removed.Count | Should -Be 3
        Get-NftMapElements $t.Host 'ports4' | Should -BeNullOrEmpty
        Get-ContainerPort -NetNamespace $t.Host | Should -BeNullOrEmpty
        Connect-Tcp $t.Outside 198.18.0.1 8088 -Attempts 1 | Should -BeNullOrEmpty
    }

    It 'Unpublish-ContainerPort by host port and protocol closes the port and flushes its conntrack entries' {
        Publish-ContainerPort -NetNamespace $t.Host 8088 192.168.0.2 80 | Out-Null
        Publish-ContainerPort -NetNamespace $t.Host 8088 192.168.0.2 80 -Protocol udp | Out-Null
        Connect-Tcp $t.Outside 198.18.0.1 8088 | Should -Be 'net1 198.18.0.2'
        Get-ConntrackTo $t.Host 8088 | Should -Not -BeNullOrEmpty

        Unpublish-ContainerPort -NetNamespace $t.Host -HostPort 8088 -Protocol tcp -Confirm:$false
        Get-NftMapElements $t.Host 'ports4' | Should -Be 'udp . 8088 => 192.168.0.2 . 80'
        Get-ConntrackTo $t.Host 8088 | Should -BeNullOrEmpty
        Connect-Tcp $t.Outside 198.18.0.1 8088 -Attempts 1 | Should -BeNullOrEmpty

        { Unpublish-ContainerPort -NetNamespace $t.Host -HostPort 8088 -Protocol tcp -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'PortNotPublished,*'
    }
}
