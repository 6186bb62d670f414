<#
    Runbook S001 "two containers on docker0" (Docker's bridge network), as Pester tests you can read and run to
    verify a host:
        sudo pwsh -c "Invoke-Pester ./tests/Pester/Runbooks/S001.DockerBridge.Runbook.Tests.ps1 -Output Detailed"

    Docker's default network: docker0, a Linux bridge with 172.17.0.1/16; containers get 172.17.0.2, .3 … on eth0,
    one end of a veth pair whose other end is a port of docker0, with a MAC address derived from the IP (02:42:ac:11:…).
    Two containers reach each other through the bridge (ARP, then the bridge learns where each MAC is), and ports
    published with -p 9001:80 / -p 9002:80 reach the containers from the host.
    Everything happens in throwaway namespaces, one of which plays "the host", with a throwaway state directory.
    Nothing in the namespace you run it from changes.
#>
BeforeAll {
    . (Join-Path $PSScriptRoot '../TestHelpers.ps1')
    $hostNs = New-TestNamespace 'host' -LoopbackUp
    $stateDir = Join-Path ([IO.Path]::GetTempPath()) "cnp-s001-$PID"
    # Every cmdlet below acts in the namespace that plays the host, on its own state directory.
    $PSDefaultParameterValues = @{
        '*-ContainerNetwork:NetNamespace' = $hostNs; '*-ContainerNetwork:StateDirectory' = $stateDir
        '*-ContainerEndpoint:NetNamespace' = $hostNs; '*-ContainerEndpoint:StateDirectory' = $stateDir
    }
    $c2 = New-TestName 'c2'; $c3 = New-TestName 'c3'
    $script:CreatedNamespaces.AddRange([string[]] @($c2, $c3))
    $servers = [System.Collections.Generic.List[object]]::new()


}
AfterAll {
    foreach ($s in $servers) { Stop-Process -Id $s.Id -Force -ErrorAction Ignore }
    Get-ContainerEndpoint -ErrorAction Ignore | Disconnect-ContainerNetwork -Force -ErrorAction Ignore
    Remove-ContainerNetwork bridge -Force -ErrorAction Ignore
    Remove-TestNamespaces
    Remove-Item -Recurse -Force $stateDir -ErrorAction Ignore
}

Describe 'S001: two containers on docker0' -Tag 'Root', 'Runbook' {
    It 'step 1: the networks are bridge (docker0, 172.17.0.1/16), host and none' {
        New-ContainerNetwork bridge -Subnet 172.17.0.0/16 -BridgeName docker0 | Out-Null
        (Get-ContainerNetwork).Name | Should -Be 'host', 'none', 'bridge'
        $docker0 = Get-NetLink -NetNamespace $hostNs docker0
        $docker0.Kind | Should -Be 'bridge'
        (Get-NetIPAddress -NetNamespace $hostNs -InterfaceAlias docker0 -AddressFamily IPv4).IPAddress.ToString() | Should -Be '172.17.0.1'
    }

    It 'step 2: two containers get 172.17.0.2 and .3 on eth0, with MACs 02:42:ac:11:00:02 and :03, publishing 9001 and 9002' {
        $a = Connect-ContainerNetwork bridge -Container $c2 -CreateNamespace -Publish 9001:80
        $b = Connect-ContainerNetwork bridge -Container $c3 -CreateNamespace -Publish 9002:80
        "$($a.IPv4Address)/$($a.PrefixLength)" | Should -Be '172.17.0.2/16'
        "$($b.IPv4Address)/$($b.PrefixLength)" | Should -Be '172.17.0.3/16'
        (Get-NetLink -NetNamespace $c2 eth0).MacAddress | Should -Be '02:42:ac:11:00:02'
        (Get-NetLink -NetNamespace $c3 eth0).MacAddress | Should -Be '02:42:ac:11:00:03'
        (Get-NetRoute -NetNamespace $c2 -DestinationPrefix default -AddressFamily IPv4).NextHop.ToString() | Should -Be '172.17.0.1'
        (Get-ContainerNetwork bridge).EndpointCount | Should -Be 2
    }

    It 'step 3: which host interface is a container''s peer (ethtool -S eth0: peer_ifindex): a veth on docker0' {
        $ep = Get-ContainerEndpoint $c2
        $eth0 = Get-IpJson $c2 'link', 'show', 'eth0'
        $peer = Get-IpJson $hostNs.Name 'link', 'show', $ep.HostInterface
        $eth0.link_index | Should -Be $peer.ifindex     # the walkthrough's "peer_ifindex: 55" -> "55: vethf0a8bcb@if54"
        $peer.link_index | Should -Be $eth0.ifindex
        $peer.master | Should -Be 'docker0'
    }

    It 'step 4: container 2 reaches container 3 (ARP through the bridge), and the bridge learns their MACs' {
        Test-Ping $c2 172.17.0.3 | Should -BeTrue
        (Get-NetNeighbor -NetNamespace $c2 -InterfaceAlias eth0 | Where-Object { "$($_.IPAddress)" -eq '172.17.0.3' }).LinkLayerAddress | Should -Be '02:42:ac:11:00:03'
        $learned = Get-BridgeFdb -NetNamespace $hostNs -Bridge docker0 -Learned
        $learned.MacAddress | Should -Contain '02:42:ac:11:00:02'
        $learned.MacAddress | Should -Contain '02:42:ac:11:00:03'
    }

    It 'step 5: the published ports reach the containers'' web servers from the host (curl 127.0.0.1:9001 and the bridge address)' {
        $servers.Add((Start-TcpListener $c2 80 'nginx-in-c2'))   # a stand-in for nginx
        $servers.Add((Start-TcpListener $c3 80 'nginx-in-c3'))
        Read-TcpAnswer $hostNs.Name 127.0.0.1 9001 | Should -Be 'nginx-in-c2'
        Read-TcpAnswer $hostNs.Name 127.0.0.1 9002 | Should -Be 'nginx-in-c3'
        Read-TcpAnswer $hostNs.Name 172.17.0.1 9002 | Should -Be 'nginx-in-c3'
        (Get-ContainerPort -NetNamespace $hostNs).HostPort | Should -Contain 9001
    }

    It 'troubleshooting: Test-ContainerNetwork walks the path hop by hop and finds nothing broken' {
        Test-ContainerNetwork $c2 | Where-Object Status -eq 'Broken' | Should -BeNullOrEmpty
    }

    It 'clean-up: stopping the containers, disconnecting them and removing the network leaves no veth, namespace or rule behind' {
        foreach ($s in $servers) { Stop-Process -Id $s.Id -Force; $s.WaitForExit() }   # docker stop
        Get-ContainerEndpoint | Disconnect-ContainerNetwork
        Remove-ContainerNetwork bridge
        Test-Path "/run/netns/$c2" | Should -BeFalse
        # The kernel finishes destroying a deleted namespace (and the veth end in it) in the background: allow it a moment.
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while ((Get-NetLink -NetNamespace $hostNs | Where-Object Kind -eq 'veth') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        Get-NetLink -NetNamespace $hostNs | Where-Object Kind -in 'veth', 'bridge' | Should -BeNullOrEmpty
        Test-Path "/run/netns/$c2" | Should -BeFalse
        ((& ip netns exec $hostNs.Name nft list ruleset) -join "`n") | Should -Not -Match '9001'
    }
}
