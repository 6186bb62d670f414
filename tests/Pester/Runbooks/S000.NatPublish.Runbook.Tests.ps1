<#
    Runbook S000 "one namespace behind a bridge, out and in through NAT", as Pester tests you can read and run to
    verify a host:
        sudo pwsh -c "Invoke-Pester ./tests/Pester/Runbooks/S000.NatPublish.Runbook.Tests.ps1 -Output Detailed"

    The walkthrough builds by hand: a namespace net1 with 192.168.0.2/24 on veth1, the bridge br0 with 192.168.0.1/24
    on the host, the default route via 192.168.0.1, forwarding, `POSTROUTING -s 192.168.0.0/24 ! -o br0 -j MASQUERADE`,
    and `PREROUTING ! -i br0 -p tcp --dport 8088 -j DNAT --to-destination 192.168.0.2:80`, so that `nc -lp 80` in net1
    answers a telnet to host:8088 from another machine. Here New-ContainerNetwork and Connect-ContainerNetwork do it.
    Everything happens in throwaway namespaces: one plays "the host", another "the outside world" (the other machine,
    reached over a veth "uplink" in 198.18.0.0/24), with a throwaway state directory. Nothing in the namespace you run
    it from changes.
#>
BeforeAll {
    . (Join-Path $PSScriptRoot '../TestHelpers.ps1')
    $hostNs = New-TestNamespace 'host' -LoopbackUp
    $outside = New-TestNamespace 'outside' -LoopbackUp
    $net1 = New-TestName 'net1'            # the walkthrough's namespace "net1", with a unique name
    $script:CreatedNamespaces.Add($net1)
    $stateDir = Join-Path ([IO.Path]::GetTempPath()) "cnp-s000-$PID"
    $PSDefaultParameterValues = @{
        '*-ContainerNetwork:NetNamespace' = $hostNs; '*-ContainerNetwork:StateDirectory' = $stateDir
        '*-ContainerEndpoint:NetNamespace' = $hostNs; '*-ContainerEndpoint:StateDirectory' = $stateDir
    }
    # The outside world: the host's "eth0" is the uplink 198.18.0.1; the other machine is 198.18.0.2 and knows no
    # route to 192.168.0.0/24.
    New-VethPair -NetNamespace $hostNs -Name uplink -PeerName eth0 -PeerNetNamespace $outside -Up | Out-Null
    New-NetIPAddress -NetNamespace $hostNs uplink 198.18.0.1/24 | Out-Null
    New-NetIPAddress -NetNamespace $outside eth0 198.18.0.2/24 | Out-Null
    $listeners = [System.Collections.Generic.List[object]]::new()


}
AfterAll {
    foreach ($l in $listeners) { Stop-Process -Id $l.Id -Force -ErrorAction Ignore }
    Get-ContainerEndpoint -ErrorAction Ignore | Disconnect-ContainerNetwork -Force -ErrorAction Ignore
    Remove-ContainerNetwork net1 -Force -ErrorAction Ignore
    Remove-TestNamespaces
    Remove-Item -Recurse -Force $stateDir -ErrorAction Ignore
}

Describe 'S000: one namespace behind a bridge, out and in through NAT' -Tag 'Root', 'Runbook' {
    It 'step 1: br0 with 192.168.0.1/24 on the host, up; forwarding on; MASQUERADE for 192.168.0.0/24 leaving through another interface' {
        New-ContainerNetwork net1 -Subnet 192.168.0.0/24 -BridgeName br0 | Out-Null
        $br0 = Get-NetLink -NetNamespace $hostNs br0
        $br0.Kind | Should -Be 'bridge'
        $br0.IsUp | Should -BeTrue          # administratively up; it has carrier once a port is attached
        (Get-NetIPAddress -NetNamespace $hostNs -InterfaceAlias br0 -AddressFamily IPv4).IPAddress.ToString() | Should -Be '192.168.0.1'
        (Get-IpForwarding -NetNamespace $hostNs -AddressFamily IPv4).Enabled | Should -BeTrue
        $rules = (& ip netns exec $hostNs.Name nft list ruleset) -join "`n"
        $rules | Should -Match 'ip saddr 192\.168\.0\.0/24 .*masquerade'
    }

    It 'step 2: net1 gets veth1 with 192.168.0.2/24, up, its host end on br0, and port 8088 published to 80' {
        $e = Connect-ContainerNetwork net1 -Container net1 -ContainerNetNamespace $net1 -CreateNamespace -InterfaceName veth1 -IPv4Address 192.168.0.2 -Publish 8088:80
        $e.InterfaceName | Should -Be 'veth1'
        (Get-NetIPAddress -NetNamespace $net1 -InterfaceAlias veth1 -AddressFamily IPv4).IPAddress.ToString() | Should -Be '192.168.0.2'
        (Get-NetLink -NetNamespace $hostNs $e.HostInterface).Master | Should -Be 'br0'
        Test-Ping $net1 192.168.0.1 | Should -BeTrue
    }

    It 'step 3: net1 has the default route via 192.168.0.1 (no "Network is unreachable"), so it reaches the host''s outside address' {
        (Get-NetRoute -NetNamespace $net1 -DestinationPrefix default -AddressFamily IPv4).NextHop.ToString() | Should -Be '192.168.0.1'
        Test-Ping $net1 198.18.0.1 | Should -BeTrue
    }

    It 'step 4: the outside answers, and sees the host''s address as the source, not 192.168.0.2 (masquerade)' {
        Test-Ping $net1 198.18.0.2 | Should -BeTrue
        $listeners.Add((Start-TcpListener $outside.Name 7000 '$NCAT_REMOTE_ADDR'))
        Read-TcpAnswer $net1 198.18.0.2 7000 | Should -Be '198.18.0.1'
    }

    It 'step 5: `nc -lp 80` in net1 answers a telnet to host:8088 from the other machine (DNAT)' {
        $listeners.Add((Start-TcpListener $net1 80 'hello-from-net1'))  # nc -lp 80 in net1
        Read-TcpAnswer $outside.Name 198.18.0.1 8088 | Should -Be 'hello-from-net1'
        (Get-ContainerPort -NetNamespace $hostNs | Where-Object HostPort -eq 8088).ContainerAddress.ToString() | Should -Be '192.168.0.2'
    }

    It 'troubleshooting: Test-ContainerNetwork walks route, links, bridge, forwarding and rules and finds nothing broken' {
        $hops = Test-ContainerNetwork net1
        $hops.Hop | Should -Contain 'PublishedPorts'
        $hops | Where-Object Status -eq 'Broken' | Should -BeNullOrEmpty
    }
}
