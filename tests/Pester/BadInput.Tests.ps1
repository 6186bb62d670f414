# Bad input as users type it (issue 11): each case runs one cmdlet with one bad value and asserts a clear error (the
# stable ErrorId as the start of FullyQualifiedErrorId, the ErrorCategory, a message naming the bad value and a fix,
# no .NET noise) and that nothing changed: the links, addresses, routes and nf_tables ruleset of every namespace of the
# test (ip -j -d, nft -j) and the hash of every file of the -StateDirectory are byte-identical before and after.
# Root; throwaway namespaces only (cnp-ROLE-PID-N), removed in AfterAll, also when a case fails.
BeforeDiscovery {
    # The cases read the fixture through $BI (set in BeforeAll): H the host namespace, C the container's, O another
    # one, SD the state directory, F a regular file, X a name of nothing, P the splat for the network cmdlets.
    $cases = @(
        # --- namespaces ----------------------------------------------------------------------------------------------
        @{ N = 'New-NetNamespace with a slash'; S = { New-NetNamespace 'a/b' }; Id = 'InvalidArgument'; Cat = 'InvalidArgument'; M = @("'a/b'", 'plain name') }
        @{ N = 'New-NetNamespace ..'; S = { New-NetNamespace '..' }; Id = 'InvalidArgument'; Cat = 'InvalidArgument'; M = @("'..'", 'plain name') }
        @{ N = 'New-NetNamespace of 300 characters'; S = { New-NetNamespace ('n' * 300) }; Id = 'InvalidArgument'; Cat = 'InvalidArgument'; M = @('nnnn', '255 bytes', 'shorter name') }
        @{ N = 'New-NetNamespace that exists'; S = { New-NetNamespace $BI.O }; Id = 'NetNamespaceExists'; Cat = 'ResourceExists'; M = @('{O}', 'Get-NetNamespace') }
        @{ N = 'Remove-NetNamespace of nothing'; S = { Remove-NetNamespace $BI.X -Confirm:$false }; Id = 'NetNamespaceNotFound'; Cat = 'ObjectNotFound'; M = @('{X}') }
        @{ N = 'Remove-NetNamespace with a slash'; S = { Remove-NetNamespace 'a/b' -Confirm:$false }; Id = 'InvalidArgument'; Cat = 'InvalidArgument'; M = @("'a/b'", 'plain name') }
        @{ N = 'Get-NetNamespace of nothing'; S = { Get-NetNamespace $BI.X }; Id = 'NetNamespaceNotFound'; Cat = 'ObjectNotFound'; M = @('{X}', 'New-NetNamespace') }
        @{ N = 'Get-NetNamespace -Path of a regular file'; S = { Get-NetNamespace -Path $BI.F }; Id = 'NotANetNamespace'; Cat = 'InvalidArgument'; M = @('{F}') }
        @{ N = 'Get-NetLink -NetNamespace of nothing'; S = { Get-NetLink -NetNamespace $BI.X }; Id = 'NetNamespaceNotFound'; Cat = 'ObjectNotFound'; M = @('{X}', 'New-NetNamespace') }
        @{ N = 'Get-NetLink -NetNamespace with a slash'; S = { Get-NetLink -NetNamespace 'a/b/' }; Id = 'ParameterArgumentTransformationError'; Cat = 'InvalidData'; M = @("'a/b/'", 'plain name') }
        @{ N = 'Invoke-NetNamespace of nothing'; S = { Invoke-NetNamespace $BI.X true }; Id = 'NetNamespaceNotFound'; Cat = 'ObjectNotFound'; M = @('{X}', 'New-NetNamespace') }

        # --- links ---------------------------------------------------------------------------------------------------
        @{ N = 'New-VethPair with a 16-byte name'; S = { New-VethPair 'abcdefghijklmnop' -PeerName p0 -NetNamespace $BI.H }; Id = 'InvalidInterfaceName'; Cat = 'InvalidArgument'; M = @('abcdefghijklmnop', '15') }
        @{ N = 'New-VethPair with a space in the name'; S = { New-VethPair 'v a' -PeerName p0 -NetNamespace $BI.H }; Id = 'InvalidInterfaceName'; Cat = 'InvalidArgument'; M = @("'v a'") }
        @{ N = 'New-VethPair with a slash in the name'; S = { New-VethPair 'v/a' -PeerName p0 -NetNamespace $BI.H }; Id = 'InvalidInterfaceName'; Cat = 'InvalidArgument'; M = @("'v/a'") }
        @{ N = 'New-VethPair named .'; S = { New-VethPair '.' -PeerName p0 -NetNamespace $BI.H }; Id = 'InvalidInterfaceName'; Cat = 'InvalidArgument'; M = @("'.'") }
        @{ N = 'New-VethPair whose peer name is too long'; S = { New-VethPair vq0 -PeerName 'peer-name-too-long' -NetNamespace $BI.H }; Id = 'InvalidInterfaceName'; Cat = 'InvalidArgument'; M = @('peer-name-too-long', '15') }
        @{ N = 'New-VethPair whose name exists'; S = { New-VethPair vA -PeerName vq1 -NetNamespace $BI.H }; Id = 'Kernel.EEXIST'; Cat = 'ResourceExists'; M = @('A link named vA', 'Remove-NetLink vA') }
        @{ N = 'New-VethPair with an all-zero MAC'; S = { New-VethPair vq0 -PeerName vq1 -MacAddress 00:00:00:00:00:00 -NetNamespace $BI.H }; Id = 'InvalidMacAddress'; Cat = 'InvalidArgument'; M = @('00:00:00:00:00:00') }
        @{ N = 'New-VethPair with a multicast MAC'; S = { New-VethPair vq0 -PeerName vq1 -MacAddress 01:00:5e:00:00:01 -NetNamespace $BI.H }; Id = 'InvalidMacAddress'; Cat = 'InvalidArgument'; M = @('01:00:5e:00:00:01', 'multicast') }
        @{ N = 'New-VethPair with the broadcast MAC as the peer''s'; S = { New-VethPair vq0 -PeerName vq1 -PeerMacAddress ff:ff:ff:ff:ff:ff -NetNamespace $BI.H }; Id = 'InvalidMacAddress'; Cat = 'InvalidArgument'; M = @('ff:ff:ff:ff:ff:ff') }
        @{ N = 'New-VethPair with a MAC that is not one'; S = { New-VethPair vq0 -PeerName vq1 -MacAddress 'zz:00:00:00:00:01' -NetNamespace $BI.H }; Id = 'InvalidMacAddress'; Cat = 'InvalidArgument'; M = @('zz:00:00:00:00:01') }
        @{ N = 'New-VethPair with a 5-byte MAC'; S = { New-VethPair vq0 -PeerName vq1 -MacAddress '02:00:00:00:01' -NetNamespace $BI.H }; Id = 'InvalidMacAddress'; Cat = 'InvalidArgument'; M = @('02:00:00:00:01') }
        @{ N = 'New-VethPair with MTU 10'; S = { New-VethPair vq0 -PeerName vq1 -Mtu 10 -NetNamespace $BI.H }; Id = 'ParameterArgumentValidationError'; Cat = 'InvalidData'; M = @('10', '68') }
        @{ N = 'New-VethPair with MTU 70000'; S = { New-VethPair vq0 -PeerName vq1 -Mtu 70000 -NetNamespace $BI.H }; Id = 'ParameterArgumentValidationError'; Cat = 'InvalidData'; M = @('70000', '65535') }
        @{ N = 'New-VethPair into a peer namespace of nothing'; S = { New-VethPair vq0 -PeerName eth0 -PeerNetNamespace $BI.X -NetNamespace $BI.H }; Id = 'NetNamespaceNotFound'; Cat = 'ObjectNotFound'; M = @('{X}', 'New-NetNamespace') }
        @{ N = 'New-VethPair on a bridge of nothing'; S = { New-VethPair vq0 -PeerName vq1 -Bridge nosuchbr -NetNamespace $BI.H }; Id = 'LinkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuchbr', 'Get-NetLink') }
        @{ N = 'New-NetBridge with a 16-byte name'; S = { New-NetBridge 'bridge-too-long0' -NetNamespace $BI.H }; Id = 'InvalidInterfaceName'; Cat = 'InvalidArgument'; M = @('bridge-too-long0', '15') }
        @{ N = 'New-NetBridge that exists'; S = { New-NetBridge br9 -NetNamespace $BI.H }; Id = 'Kernel.EEXIST'; Cat = 'ResourceExists'; M = @('A link named br9', 'Remove-NetLink br9') }
        @{ N = 'New-NetBridge with an all-zero MAC'; S = { New-NetBridge brq -MacAddress 00:00:00:00:00:00 -NetNamespace $BI.H }; Id = 'InvalidMacAddress'; Cat = 'InvalidArgument'; M = @('00:00:00:00:00:00') }
        @{ N = 'New-NetBridge with a multicast MAC'; S = { New-NetBridge brq -MacAddress 33:33:00:00:00:01 -NetNamespace $BI.H }; Id = 'InvalidMacAddress'; Cat = 'InvalidArgument'; M = @('33:33:00:00:00:01', 'multicast') }
        @{ N = 'Set-NetLink of nothing'; S = { Set-NetLink nosuch0 -Up -NetNamespace $BI.H }; Id = 'LinkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuch0', 'Get-NetLink') }
        @{ N = 'Set-NetLink with a multicast MAC'; S = { Set-NetLink vA -MacAddress 01:02:03:04:05:06 -NetNamespace $BI.H }; Id = 'InvalidMacAddress'; Cat = 'InvalidArgument'; M = @('01:02:03:04:05:06', 'multicast') }
        @{ N = 'Set-NetLink with an all-zero MAC'; S = { Set-NetLink vA -MacAddress 00:00:00:00:00:00 -NetNamespace $BI.H }; Id = 'InvalidMacAddress'; Cat = 'InvalidArgument'; M = @('00:00:00:00:00:00') }
        @{ N = 'Set-NetLink -NewName that is taken'; S = { Set-NetLink vA -NewName vB -NetNamespace $BI.H }; Id = 'Kernel.EEXIST'; Cat = 'ResourceExists'; M = @('The new name vB is taken', 'Remove-NetLink') }
        @{ N = 'Set-NetLink -NewName too long'; S = { Set-NetLink vA -NewName 'new-name-too-long' -NetNamespace $BI.H }; Id = 'InvalidInterfaceName'; Cat = 'InvalidArgument'; M = @('new-name-too-long', '15') }
        @{ N = 'Set-NetLink -Master of nothing'; S = { Set-NetLink vA -Master nosuchbr -NetNamespace $BI.H }; Id = 'LinkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuchbr') }
        @{ N = 'Set-NetLink -TargetNetNamespace of nothing'; S = { Set-NetLink vA -TargetNetNamespace $BI.X -NetNamespace $BI.H }; Id = 'NetNamespaceNotFound'; Cat = 'ObjectNotFound'; M = @('{X}', 'New-NetNamespace') }
        @{ N = 'Set-NetLink with MTU 10'; S = { Set-NetLink vA -Mtu 10 -NetNamespace $BI.H }; Id = 'ParameterArgumentValidationError'; Cat = 'InvalidData'; M = @('10', '68') }
        @{ N = 'Remove-NetLink of nothing'; S = { Remove-NetLink nosuch0 -NetNamespace $BI.H -Confirm:$false }; Id = 'LinkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuch0', 'Get-NetLink') }
        @{ N = 'Get-NetLink of nothing'; S = { Get-NetLink nosuch0 -NetNamespace $BI.H }; Id = 'LinkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuch0') }
        @{ N = 'Add-BridgePort to a bridge of nothing'; S = { Add-BridgePort -Bridge nosuchbr -InterfaceAlias vA -NetNamespace $BI.H }; Id = 'LinkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuchbr') }
        @{ N = 'Add-BridgePort of an interface of nothing'; S = { Add-BridgePort -Bridge br9 -InterfaceAlias nosuch0 -NetNamespace $BI.H }; Id = 'LinkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuch0') }
        @{ N = 'Add-BridgePort to a veth, not a bridge'; S = { Add-BridgePort -Bridge vB -InterfaceAlias vA -NetNamespace $BI.H }; Id = 'NotABridge'; Cat = 'InvalidArgument'; M = @('vB', 'New-NetBridge') }
        @{ N = 'Remove-BridgePort of an interface on no bridge'; S = { Remove-BridgePort -InterfaceAlias vA -NetNamespace $BI.H -Confirm:$false }; Id = 'NotABridgePort'; Cat = 'InvalidOperation'; M = @('vA') }

        # --- addresses -----------------------------------------------------------------------------------------------
        @{ N = 'New-NetIPAddress 10.9.9.300/24'; S = { New-NetIPAddress -InterfaceAlias vA -IPAddress 10.9.9.300/24 -NetNamespace $BI.H }; Id = 'InvalidIPAddress'; Cat = 'InvalidArgument'; M = @('10.9.9.300') }
        @{ N = 'New-NetIPAddress /33'; S = { New-NetIPAddress -InterfaceAlias vA -IPAddress 10.9.9.5/33 -NetNamespace $BI.H }; Id = 'InvalidPrefixLength'; Cat = 'InvalidArgument'; M = @('33', '10.9.9.5', '0 and 32') }
        @{ N = 'New-NetIPAddress fd00::1/129'; S = { New-NetIPAddress -InterfaceAlias vA -IPAddress fd00::1/129 -NetNamespace $BI.H }; Id = 'InvalidPrefixLength'; Cat = 'InvalidArgument'; M = @('129', 'fd00::1', '0 and 128') }
        @{ N = 'New-NetIPAddress that is a word'; S = { New-NetIPAddress -InterfaceAlias vA -IPAddress hello -NetNamespace $BI.H }; Id = 'InvalidIPAddress'; Cat = 'InvalidArgument'; M = @('hello') }
        @{ N = 'New-NetIPAddress on an interface of nothing'; S = { New-NetIPAddress -InterfaceAlias nosuch0 -IPAddress 10.1.1.1/24 -NetNamespace $BI.H }; Id = 'LinkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuch0') }
        @{ N = 'New-NetIPAddress that the interface has'; S = { New-NetIPAddress -InterfaceAlias vA -IPAddress 10.9.9.1/24 -NetNamespace $BI.H }; Id = 'Kernel.EEXIST'; Cat = 'ResourceExists'; M = @('10.9.9.1', 'Remove-NetIPAddress') }
        @{ N = 'New-NetIPAddress -PrefixLength 40'; S = { New-NetIPAddress -InterfaceAlias vA -IPAddress 10.9.9.5 -PrefixLength 40 -NetNamespace $BI.H }; Id = 'InvalidPrefixLength'; Cat = 'InvalidArgument'; M = @('40', '0 and 32') }
        @{ N = 'Remove-NetIPAddress that the interface lacks'; S = { Remove-NetIPAddress -InterfaceAlias vA -IPAddress 10.9.9.99/24 -NetNamespace $BI.H -Confirm:$false }; Id = 'Kernel.EADDRNOTAVAIL'; Cat = 'ObjectNotFound'; M = @('10.9.9.99', 'Get-NetIPAddress') }
        @{ N = 'Get-NetIPAddress of an interface of nothing'; S = { Get-NetIPAddress -InterfaceAlias nosuch0 -NetNamespace $BI.H }; Id = 'LinkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuch0') }

        # --- routes --------------------------------------------------------------------------------------------------
        @{ N = 'New-NetRoute via a gateway no interface reaches'; S = { New-NetRoute -DestinationPrefix 10.50.0.0/16 -NextHop 10.200.0.1 -NetNamespace $BI.H }; Id = 'Kernel.ENETUNREACH'; Cat = 'ConnectionError'; M = @('10.200.0.1', 'New-NetIPAddress') }
        @{ N = 'New-NetRoute with host bits in the destination'; S = { New-NetRoute -DestinationPrefix 10.50.0.1/16 -InterfaceAlias vA -NetNamespace $BI.H }; Id = 'InvalidDestinationPrefix'; Cat = 'InvalidArgument'; M = @('10.50.0.1/16', '10.50.0.0/16') }
        @{ N = 'New-NetRoute via a gateway of the other family'; S = { New-NetRoute -DestinationPrefix 10.50.0.0/16 -NextHop fd00::1 -NetNamespace $BI.H }; Id = 'InvalidNextHop'; Cat = 'InvalidArgument'; M = @('fd00::1', 'same family') }
        @{ N = 'New-NetRoute to 999.0.0.0/8'; S = { New-NetRoute -DestinationPrefix 999.0.0.0/8 -InterfaceAlias vA -NetNamespace $BI.H }; Id = 'InvalidDestinationPrefix'; Cat = 'InvalidArgument'; M = @('999.0.0.0/8') }
        @{ N = 'New-NetRoute over an interface of nothing'; S = { New-NetRoute -DestinationPrefix 10.50.0.0/16 -InterfaceAlias nosuch0 -NetNamespace $BI.H }; Id = 'LinkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuch0') }
        @{ N = 'New-NetRoute that exists'; S = { New-NetRoute -DestinationPrefix 10.9.9.0/24 -InterfaceAlias vA -RouteMetric 0 -NetNamespace $BI.H }; Id = 'Kernel.EEXIST'; Cat = 'ResourceExists'; M = @('10.9.9.0/24', '-Replace') }
        @{ N = 'Remove-NetRoute that does not exist'; S = { Remove-NetRoute -DestinationPrefix 10.66.0.0/16 -NetNamespace $BI.H -Confirm:$false }; Id = 'RouteNotFound'; Cat = 'ObjectNotFound'; M = @('10.66.0.0/16', 'Get-NetRoute') }

        # --- NAT -----------------------------------------------------------------------------------------------------
        @{ N = 'Add-NatMasquerade 10.0.0.300/24'; S = { Add-NatMasquerade -SourcePrefix 10.0.0.300/24 -NetNamespace $BI.H }; Id = 'InvalidSourcePrefix'; Cat = 'InvalidArgument'; M = @('10.0.0.300/24', 'source prefix') }
        @{ N = 'Add-NatMasquerade /40'; S = { Add-NatMasquerade -SourcePrefix 10.0.0.0/40 -NetNamespace $BI.H }; Id = 'InvalidPrefixLength'; Cat = 'InvalidArgument'; M = @('40', '0 and 32') }
        @{ N = 'Add-NatMasquerade with host bits'; S = { Add-NatMasquerade -SourcePrefix 10.77.0.1/24 -NetNamespace $BI.H }; Id = 'InvalidSourcePrefix'; Cat = 'InvalidArgument'; M = @('10.77.0.1/24', '10.77.0.0/24') }
        @{ N = 'Add-NatMasquerade with a -SnatAddress of the other family'; S = { Add-NatMasquerade -SourcePrefix 10.78.0.0/24 -SnatAddress fd00::1 -NetNamespace $BI.H }; Id = 'InvalidMasquerade'; Cat = 'InvalidArgument'; M = @('fd00::1', 'IPv4') }
        @{ N = 'Add-NatMasquerade -ExcludeInterface too long'; S = { Add-NatMasquerade -SourcePrefix 10.78.0.0/24 -ExcludeInterface 'exclude-too-long0' -NetNamespace $BI.H }; Id = 'InvalidInterfaceName'; Cat = 'InvalidArgument'; M = @('exclude-too-long0', '15') }
        @{ N = 'Add-NatMasquerade -Owner of 100 characters'; S = { Add-NatMasquerade -SourcePrefix 10.78.0.0/24 -Owner ('o' * 100) -NetNamespace $BI.H }; Id = 'InvalidOwner'; Cat = 'InvalidArgument'; M = @('64') }
        @{ N = 'Remove-NatMasquerade that does not exist'; S = { Remove-NatMasquerade -SourcePrefix 10.79.0.0/24 -NetNamespace $BI.H -Confirm:$false }; Id = 'MasqueradeNotFound'; Cat = 'ObjectNotFound'; M = @('10.79.0.0/24', 'Get-NatMasquerade') }
        @{ N = 'Remove-NatMasquerade of a word'; S = { Remove-NatMasquerade -SourcePrefix garbage -NetNamespace $BI.H -Confirm:$false }; Id = 'InvalidSourcePrefix'; Cat = 'InvalidArgument'; M = @('garbage', 'source prefix') }

        # --- published ports -------------------------------------------------------------------------------------------
        @{ N = 'Publish-ContainerPort host port 0'; S = { Publish-ContainerPort 0 10.123.0.50 80 -NetNamespace $BI.H }; Id = 'InvalidPort'; Cat = 'InvalidArgument'; M = @('host port 0', '1 to 65535') }
        @{ N = 'Publish-ContainerPort host port 70000'; S = { Publish-ContainerPort 70000 10.123.0.50 80 -NetNamespace $BI.H }; Id = 'InvalidPort'; Cat = 'InvalidArgument'; M = @('70000', '1 to 65535') }
        @{ N = 'Publish-ContainerPort container port 0'; S = { Publish-ContainerPort 8000 10.123.0.50 0 -NetNamespace $BI.H }; Id = 'InvalidPort'; Cat = 'InvalidArgument'; M = @('container port 0', '1 to 65535') }
        @{ N = 'Publish-ContainerPort -HostPortEnd below the start'; S = { Publish-ContainerPort 8000 10.123.0.50 80 -HostPortEnd 7999 -NetNamespace $BI.H }; Id = 'InvalidPortRange'; Cat = 'InvalidArgument'; M = @('7999', '8000') }
        @{ N = 'Publish-ContainerPort of a port that is published'; S = { Publish-ContainerPort 8080 10.123.0.50 80 -NetNamespace $BI.H }; Id = 'PortAlreadyPublished'; Cat = 'ResourceExists'; M = @('8080', 'Unpublish-ContainerPort') }
        @{ N = 'Publish-ContainerPort of a range that overlaps a published one'; S = { Publish-ContainerPort 7005 10.123.0.50 7005 -HostPortEnd 7020 -ContainerPortEnd 7020 -NetNamespace $BI.H }; Id = 'PortAlreadyPublished'; Cat = 'ResourceExists'; M = @('7005-7010', 'Unpublish-ContainerPort') }
        @{ N = 'Publish-ContainerPort of a range inside a published one'; S = { Publish-ContainerPort 6990 10.123.0.50 6990 -HostPortEnd 7001 -ContainerPortEnd 7001 -NetNamespace $BI.H }; Id = 'PortAlreadyPublished'; Cat = 'ResourceExists'; M = @('7000-7001', 'Unpublish-ContainerPort') }
        @{ N = 'Publish-ContainerPort to an IPv6 container from an IPv4 host address'; S = { Publish-ContainerPort 8001 fd00::5 80 -HostAddress 127.0.0.1 -NetNamespace $BI.H }; Id = 'InvalidAddress'; Cat = 'InvalidArgument'; M = @('127.0.0.1', 'fd00::5') }
        @{ N = 'Publish-ContainerPort to a word'; S = { Publish-ContainerPort 8001 notanip 80 -NetNamespace $BI.H }; Id = 'InvalidIPAddress'; Cat = 'InvalidArgument'; M = @('notanip') }
        @{ N = 'Publish-ContainerPort -Protocol icmp'; S = { Publish-ContainerPort 8001 10.123.0.50 80 -Protocol icmp -NetNamespace $BI.H }; Id = 'ParameterArgumentValidationError'; Cat = 'InvalidData'; M = @('icmp', 'tcp') }
        @{ N = 'Publish-ContainerPort -Publish of a word'; S = { Publish-ContainerPort -Publish abc -ContainerAddress 10.123.0.50 -NetNamespace $BI.H }; Id = 'InvalidPortSpec'; Cat = 'InvalidArgument'; M = @('abc') }
        @{ N = 'Publish-ContainerPort -Publish with four parts'; S = { Publish-ContainerPort -Publish '80:8080:90:1' -ContainerAddress 10.123.0.50 -NetNamespace $BI.H }; Id = 'InvalidPortSpec'; Cat = 'InvalidArgument'; M = @('80:8080:90:1') }
        @{ N = 'Publish-ContainerPort to an address on no bridge'; S = { Publish-ContainerPort 8001 10.99.99.5 80 -NetNamespace $BI.H }; Id = 'ContainerAddressOutsideSubnets'; Cat = 'InvalidArgument'; M = @('10.99.99.5', '10.123.0.0/24') }
        @{ N = 'Publish-ContainerPort of ranges of different sizes'; S = { Publish-ContainerPort 8001 10.123.0.50 80 -HostPortEnd 8010 -ContainerPortEnd 85 -NetNamespace $BI.H }; Id = 'InvalidPortRange'; Cat = 'InvalidArgument'; M = @('8001-8010', '80-85') }
        @{ N = 'Unpublish-ContainerPort of a port not published'; S = { Unpublish-ContainerPort 8999 -NetNamespace $BI.H -Confirm:$false }; Id = 'PortNotPublished'; Cat = 'ObjectNotFound'; M = @('8999', 'Get-ContainerPort') }
        @{ N = 'Unpublish-ContainerPort 0'; S = { Unpublish-ContainerPort 0 -NetNamespace $BI.H -Confirm:$false }; Id = 'ParameterArgumentValidationError'; Cat = 'InvalidData'; M = @('0', '1') }
        @{ N = 'Get-ContainerPort -HostPort 70000'; S = { Get-ContainerPort -HostPort 70000 -NetNamespace $BI.H }; Id = 'ParameterArgumentValidationError'; Cat = 'InvalidData'; M = @('70000', '65535') }

        # --- container networks --------------------------------------------------------------------------------------
        @{ N = 'New-ContainerNetwork host'; S = { New-ContainerNetwork host -Subnet 10.124.0.0/24 @BIP }; Id = 'NetworkExists'; Cat = 'ResourceExists'; M = @('host', 'predefined') }
        @{ N = 'New-ContainerNetwork none'; S = { New-ContainerNetwork none -Subnet 10.124.0.0/24 @BIP }; Id = 'NetworkExists'; Cat = 'ResourceExists'; M = @('none', 'predefined') }
        @{ N = 'New-ContainerNetwork that exists'; S = { New-ContainerNetwork net1 -Subnet 10.124.0.0/24 @BIP }; Id = 'NetworkExists'; Cat = 'ResourceExists'; M = @('net1', 'Remove-ContainerNetwork') }
        @{ N = 'New-ContainerNetwork of 57 characters'; S = { New-ContainerNetwork ('n' * 57) -Subnet 10.124.0.0/24 @BIP }; Id = 'InvalidName'; Cat = 'InvalidArgument'; M = @('nnnnnnnn', '1-56') }
        @{ N = 'New-ContainerNetwork with a slash'; S = { New-ContainerNetwork 'bad/name' -Subnet 10.124.0.0/24 @BIP }; Id = 'InvalidName'; Cat = 'InvalidArgument'; M = @('bad/name') }
        @{ N = 'New-ContainerNetwork with a subnet inside another network''s'; S = { New-ContainerNetwork net2 -Subnet 10.123.0.128/25 @BIP }; Id = 'SubnetOverlap'; Cat = 'ResourceExists'; M = @('10.123.0.128/25', 'net1') }
        @{ N = 'New-ContainerNetwork with a subnet around another network''s'; S = { New-ContainerNetwork net2 -Subnet 10.0.0.0/8 @BIP }; Id = 'SubnetOverlap'; Cat = 'ResourceExists'; M = @('10.0.0.0/8', 'net1') }
        @{ N = 'New-ContainerNetwork with host bits in the subnet'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.1/24 @BIP }; Id = 'InvalidSubnet'; Cat = 'InvalidArgument'; M = @('10.124.0.1/24', '10.124.0.0/24') }
        @{ N = 'New-ContainerNetwork -Subnet /33'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/33 @BIP }; Id = 'InvalidSubnet'; Cat = 'InvalidArgument'; M = @('10.124.0.0/33') }
        @{ N = 'New-ContainerNetwork -Subnet of a word'; S = { New-ContainerNetwork net2 -Subnet nonsense @BIP }; Id = 'InvalidSubnet'; Cat = 'InvalidArgument'; M = @('nonsense') }
        @{ N = 'New-ContainerNetwork with a gateway outside the subnet'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -Gateway 10.125.0.1 @BIP }; Id = 'GatewayOutsideSubnet'; Cat = 'InvalidArgument'; M = @('10.125.0.1', '10.124.0.0/24') }
        @{ N = 'New-ContainerNetwork with a gateway of the other family'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -Gateway fd00::1 @BIP }; Id = 'GatewayOutsideSubnet'; Cat = 'InvalidArgument'; M = @('fd00::1', '10.124.0.0/24') }
        @{ N = 'New-ContainerNetwork -GatewayV6 outside -SubnetV6'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -SubnetV6 fd00:124::/64 -GatewayV6 fd00:125::1 @BIP }; Id = 'GatewayOutsideSubnet'; Cat = 'InvalidArgument'; M = @('fd00:125::1', 'fd00:124::/64') }
        @{ N = 'New-ContainerNetwork -SubnetV6 of IPv4'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -SubnetV6 10.125.0.0/24 @BIP }; Id = 'InvalidSubnet'; Cat = 'InvalidArgument'; M = @('10.125.0.0/24', 'IPv6') }
        @{ N = 'New-ContainerNetwork on a bridge that exists'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -BridgeName br9 @BIP }; Id = 'BridgeExists'; Cat = 'ResourceExists'; M = @('br9', 'Remove-NetLink br9') }
        @{ N = 'New-ContainerNetwork on another network''s bridge'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -BridgeName cnbr0 @BIP }; Id = 'BridgeExists'; Cat = 'ResourceExists'; M = @('cnbr0', 'net1') }
        @{ N = 'New-ContainerNetwork -BridgeName too long'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -BridgeName 'a-very-long-bridge' @BIP }; Id = 'InvalidName'; Cat = 'InvalidArgument'; M = @('a-very-long-bridge', '15') }
        @{ N = 'New-ContainerNetwork -IPRange outside the subnet'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -IPRange 10.200.0.0/28 @BIP }; Id = 'IpRangeOutsideSubnet'; Cat = 'InvalidArgument'; M = @('10.200.0.0/28', '10.124.0.0/24') }
        @{ N = 'New-ContainerNetwork -Mtu 10'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -Mtu 10 @BIP }; Id = 'ParameterArgumentValidationError'; Cat = 'InvalidData'; M = @('10', '68') }
        @{ N = 'New-ContainerNetwork -Route of a word'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -Route garbage @BIP }; Id = 'InvalidRoute'; Cat = 'InvalidArgument'; M = @('garbage', 'DESTINATION') }
        @{ N = 'New-ContainerNetwork -Route via a gateway outside the subnet'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -Route 10.50.0.0/16=10.99.0.1 @BIP }; Id = 'InvalidRoute'; Cat = 'InvalidArgument'; M = @('10.99.0.1', '10.124.0.0/24') }
        @{ N = 'New-ContainerNetwork -Route default without -NoDefaultRoute'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -Route 0.0.0.0/0=10.124.0.5 @BIP }; Id = 'InvalidRoute'; Cat = 'InvalidArgument'; M = @('0.0.0.0/0', '-NoDefaultRoute') }
        @{ N = 'New-ContainerNetwork -StateDirectory that is a file'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -NetNamespace $BI.H -StateDirectory $BI.F }; Id = 'StateDirectoryNotADirectory'; Cat = 'InvalidArgument'; M = @('{F}', '-StateDirectory') }
        @{ N = 'Get-ContainerNetwork -StateDirectory that is a file'; S = { Get-ContainerNetwork -NetNamespace $BI.H -StateDirectory $BI.F }; Id = 'StateDirectoryNotADirectory'; Cat = 'InvalidArgument'; M = @('{F}', '-StateDirectory') }
        @{ N = 'Get-ContainerNetwork of a record with a number for its subnet'; S = { Get-ContainerNetwork -NetNamespace $BI.H -StateDirectory $BI.SD2 }; Id = 'StateCorrupt'; Cat = 'InvalidOperation'; M = @('network.json', 'subnet', 'Repair-ContainerNetwork') }
        @{ N = 'Get-ContainerNetwork of a record cut short'; S = { Get-ContainerNetwork -NetNamespace $BI.H -StateDirectory $BI.SD3 }; Id = 'StateCorrupt'; Cat = 'InvalidOperation'; M = @('network.json', 'not a valid record', 'Repair-ContainerNetwork') }
        @{ N = 'Get-ContainerNetwork of a record that is a directory'; S = { Get-ContainerNetwork -NetNamespace $BI.H -StateDirectory $BI.SD4 }; Id = 'StateCorrupt'; Cat = 'InvalidOperation'; M = @('network.json', 'is a directory, not a file', 'Repair-ContainerNetwork') }
        @{ N = 'Get-ContainerEndpoint -StateDirectory that is a file'; S = { Get-ContainerEndpoint -NetNamespace $BI.H -StateDirectory $BI.F }; Id = 'StateDirectoryNotADirectory'; Cat = 'InvalidArgument'; M = @('{F}', '-StateDirectory') }
        @{ N = 'Test-ContainerNetwork -StateDirectory that is a file'; S = { Test-ContainerNetwork $BI.C -NetNamespace $BI.H -StateDirectory $BI.F }; Id = 'StateDirectoryNotADirectory'; Cat = 'InvalidArgument'; M = @('{F}', '-StateDirectory') }
        @{ N = 'Disconnect-ContainerNetwork -StateDirectory that is a file'; S = { Disconnect-ContainerNetwork net1 -Container $BI.C -NetNamespace $BI.H -StateDirectory $BI.F -Confirm:$false }; Id = 'StateDirectoryNotADirectory'; Cat = 'InvalidArgument'; M = @('{F}', '-StateDirectory') }
        @{ N = 'Set-ContainerNetwork -StateDirectory that is a file'; S = { Set-ContainerNetwork net1 -AllowNetwork net2 -NetNamespace $BI.H -StateDirectory $BI.F }; Id = 'StateDirectoryNotADirectory'; Cat = 'InvalidArgument'; M = @('{F}', '-StateDirectory') }
        @{ N = 'New-ContainerNetwork -StateDirectory under a file'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -NetNamespace $BI.H -StateDirectory "$($BI.F)/state" }; Id = 'StateDirectoryNotADirectory'; Cat = 'InvalidArgument'; M = @('{F}', '-StateDirectory') }
        @{ N = 'New-ContainerNetwork with host bits in -SubnetV6'; S = { New-ContainerNetwork net2 -Subnet 10.124.0.0/24 -SubnetV6 fd00:124::1/64 @BIP }; Id = 'InvalidSubnet'; Cat = 'InvalidArgument'; M = @('fd00:124::1/64', 'fd00:124::/64') }
        @{ N = 'Get-ContainerNetwork of nothing'; S = { Get-ContainerNetwork nosuchnet @BIP }; Id = 'NetworkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuchnet', 'New-ContainerNetwork') }
        @{ N = 'Remove-ContainerNetwork of nothing'; S = { Remove-ContainerNetwork nosuchnet @BIP -Confirm:$false }; Id = 'NetworkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuchnet', 'Get-ContainerNetwork') }
        @{ N = 'Remove-ContainerNetwork with endpoints'; S = { Remove-ContainerNetwork net1 @BIP -Confirm:$false }; Id = 'NetworkHasEndpoints'; Cat = 'InvalidOperation'; M = @('net1', '{C}', '-Force') }
        @{ N = 'Remove-ContainerNetwork none'; S = { Remove-ContainerNetwork none @BIP -Confirm:$false }; Id = 'PredefinedNetwork'; Cat = 'InvalidOperation'; M = @('none') }
        @{ N = 'Remove-ContainerNetwork -StateDirectory that is a file'; S = { Remove-ContainerNetwork net1 -NetNamespace $BI.H -StateDirectory $BI.F -Confirm:$false }; Id = 'StateDirectoryNotADirectory'; Cat = 'InvalidArgument'; M = @('{F}', '-StateDirectory') }
        @{ N = 'Repair-ContainerNetwork -StateDirectory that is a file'; S = { Repair-ContainerNetwork -NetNamespace $BI.H -StateDirectory $BI.F -Confirm:$false }; Id = 'StateDirectoryNotADirectory'; Cat = 'InvalidArgument'; M = @('{F}', '-StateDirectory') }
        @{ N = 'Set-ContainerNetwork -AllowNetwork of nothing'; S = { Set-ContainerNetwork net1 -AllowNetwork nosuchnet @BIP }; Id = 'NetworkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuchnet') }
        @{ N = 'Set-ContainerNetwork of nothing'; S = { Set-ContainerNetwork nosuchnet -AllowNetwork net1 @BIP }; Id = 'NetworkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuchnet') }
        @{ N = 'Set-ContainerNetwork -AllowNetwork itself'; S = { Set-ContainerNetwork net1 -AllowNetwork net1 @BIP }; Id = 'InvalidNetworkPair'; Cat = 'InvalidArgument'; M = @('net1', 'another network') }

        # --- connect, disconnect, test -------------------------------------------------------------------------------
        @{ N = 'Connect-ContainerNetwork to a network of nothing'; S = { Connect-ContainerNetwork nosuchnet -Container $BI.Y -CreateNamespace @BIP }; Id = 'NetworkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuchnet', 'New-ContainerNetwork') }
        @{ N = 'Connect-ContainerNetwork of a container that is connected'; S = { Connect-ContainerNetwork net1 -Container $BI.C @BIP }; Id = 'NamespaceAlreadyAttached'; Cat = 'ResourceExists'; M = @('{C}', 'net1') }
        @{ N = 'Connect-ContainerNetwork -ContainerNetNamespace of a regular file'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -ContainerNetNamespace $BI.F @BIP }; Id = 'NotANetNamespace'; Cat = 'InvalidArgument'; M = @('{F}') }
        @{ N = 'Connect-ContainerNetwork -ContainerNetNamespace of nothing'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -ContainerNetNamespace $BI.X @BIP }; Id = 'NetNamespaceNotFound'; Cat = 'ObjectNotFound'; M = @('{X}', 'New-NetNamespace') }
        @{ N = 'Connect-ContainerNetwork -CreateNamespace of one that exists'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -ContainerNetNamespace $BI.O -CreateNamespace @BIP }; Id = 'NetNamespaceExists'; Cat = 'ResourceExists'; M = @('{O}') }
        @{ N = 'Connect-ContainerNetwork -IPv4Address in use'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -IPv4Address 10.123.0.2 @BIP }; Id = 'AddressInUse'; Cat = 'ResourceExists'; M = @('10.123.0.2', 'Get-ContainerEndpoint') }
        @{ N = 'Connect-ContainerNetwork -IPv4Address of the gateway'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -IPv4Address 10.123.0.1 @BIP }; Id = 'AddressInUse'; Cat = 'ResourceExists'; M = @('10.123.0.1', 'gateway') }
        @{ N = 'Connect-ContainerNetwork -IPv4Address outside the subnet'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -IPv4Address 10.5.5.5 @BIP }; Id = 'AddressOutsideRange'; Cat = 'InvalidArgument'; M = @('10.5.5.5', '10.123.0.0/24') }
        @{ N = 'Connect-ContainerNetwork -IPv4Address of the subnet''s broadcast'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -IPv4Address 10.123.0.255 @BIP }; Id = 'AddressInUse'; Cat = 'ResourceExists'; M = @('10.123.0.255', 'broadcast') }
        @{ N = 'Connect-ContainerNetwork -IPv4Address of IPv6'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -IPv4Address fd00::5 @BIP }; Id = 'AddressOutsideRange'; Cat = 'InvalidArgument'; M = @('fd00::5', '10.123.0.0/24') }
        @{ N = 'Connect-ContainerNetwork -IPv6Address on an IPv4-only network'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -IPv6Address fd00::5 @BIP }; Id = 'AddressOutsideRange'; Cat = 'InvalidArgument'; M = @('fd00::5', 'net1') }
        @{ N = 'Connect-ContainerNetwork with an all-zero MAC'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -MacAddress 00:00:00:00:00:00 @BIP }; Id = 'InvalidMacAddress'; Cat = 'InvalidArgument'; M = @('00:00:00:00:00:00') }
        @{ N = 'Connect-ContainerNetwork with a multicast MAC'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -MacAddress 01:00:5e:00:00:01 @BIP }; Id = 'InvalidMacAddress'; Cat = 'InvalidArgument'; M = @('01:00:5e:00:00:01', 'multicast') }
        @{ N = 'Connect-ContainerNetwork with a MAC that is a word'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -MacAddress nonsense @BIP }; Id = 'InvalidMacAddress'; Cat = 'InvalidArgument'; M = @('nonsense') }
        @{ N = 'Connect-ContainerNetwork -Publish 70000:80'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -Publish 70000:80 @BIP }; Id = 'InvalidPortSpec'; Cat = 'InvalidArgument'; M = @('70000', '65535') }
        @{ N = 'Connect-ContainerNetwork -Publish 8080:0'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -Publish 8081:0 @BIP }; Id = 'InvalidPortSpec'; Cat = 'InvalidArgument'; M = @('8081:0') }
        @{ N = 'Connect-ContainerNetwork -Publish of a port taken'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -Publish 8080:80 @BIP }; Id = 'PortAlreadyAllocated'; Cat = 'ResourceExists'; M = @('8080', '{C}') }
        @{ N = 'Connect-ContainerNetwork -Publish of a range overlapping a taken one'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -Publish 7008-7012:7008-7012 @BIP }; Id = 'PortAlreadyAllocated'; Cat = 'ResourceExists'; M = @('7008') }
        @{ N = 'Connect-ContainerNetwork -Publish with four parts'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -Publish '80:8080:90:1' @BIP }; Id = 'InvalidPortSpec'; Cat = 'InvalidArgument'; M = @('80:8080:90:1') }
        @{ N = 'Connect-ContainerNetwork -Publish ranges of different sizes'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -Publish '9100-9110:80-85' @BIP }; Id = 'InvalidPortSpec'; Cat = 'InvalidArgument'; M = @('9100-9110:80-85') }
        @{ N = 'Connect-ContainerNetwork -Publish of a reversed range'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -Publish '9110-9100:80' @BIP }; Id = 'InvalidPortSpec'; Cat = 'InvalidArgument'; M = @('9110-9100') }
        @{ N = 'Connect-ContainerNetwork -Publish one host port twice'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -Publish 8100:80, 8100:81 @BIP }; Id = 'PortAlreadyAllocated'; Cat = 'ResourceExists'; M = @('8100', 'once') }
        @{ N = 'Connect-ContainerNetwork -Publish of an unknown protocol'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -Publish 8101:80/icmp @BIP }; Id = 'InvalidPortSpec'; Cat = 'InvalidArgument'; M = @('icmp', 'tcp') }
        @{ N = 'Connect-ContainerNetwork -Publish on a host address that is a word'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -Publish host:8101:80 @BIP }; Id = 'InvalidPortSpec'; Cat = 'InvalidArgument'; M = @('host:8101:80') }
        @{ N = 'Connect-ContainerNetwork -Publish on an IPv6 host address of an IPv4-only network'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -Publish '[fd00::1]:8101:80' @BIP }; Id = 'InvalidPortSpec'; Cat = 'InvalidArgument'; M = @('fd00::1', '-IPv6') }
        @{ N = 'Connect-ContainerNetwork -InterfaceName too long'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -InterfaceName 'interface-too-long' @BIP }; Id = 'InvalidName'; Cat = 'InvalidArgument'; M = @('interface-too-long', '15') }
        @{ N = 'Connect-ContainerNetwork -InterfaceName with a slash'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -InterfaceName 'eth/0' @BIP }; Id = 'InvalidName'; Cat = 'InvalidArgument'; M = @('eth/0') }
        @{ N = 'Connect-ContainerNetwork -Container with a slash'; S = { Connect-ContainerNetwork net1 -Container 'a/b' -CreateNamespace @BIP }; Id = 'InvalidArgument'; Cat = 'InvalidArgument'; M = @('a/b') }
        @{ N = 'Connect-ContainerNetwork -Container of 300 characters'; S = { Connect-ContainerNetwork net1 -Container ('c' * 300) -CreateNamespace @BIP }; Id = 'InvalidArgument'; Cat = 'InvalidArgument'; M = @('cccc') }
        @{ N = 'Connect-ContainerNetwork -StateDirectory that is a file'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -NetNamespace $BI.H -StateDirectory $BI.F }; Id = 'StateDirectoryNotADirectory'; Cat = 'InvalidArgument'; M = @('{F}', '-StateDirectory') }
        @{ N = 'Connect-ContainerNetwork in a host namespace of nothing'; S = { Connect-ContainerNetwork net1 -Container $BI.Y -CreateNamespace -NetNamespace $BI.X -StateDirectory $BI.SD }; Id = 'NetNamespaceNotFound'; Cat = 'ObjectNotFound'; M = @('{X}') }
        @{ N = 'Disconnect-ContainerNetwork of a container of nothing'; S = { Disconnect-ContainerNetwork net1 -Container nosuchc @BIP -Confirm:$false }; Id = 'EndpointNotFound'; Cat = 'ObjectNotFound'; M = @('nosuchc', 'Get-ContainerEndpoint') }
        @{ N = 'Disconnect-ContainerNetwork from a network of nothing'; S = { Disconnect-ContainerNetwork $BI.C -Network nosuchnet @BIP -Confirm:$false }; Id = 'NetworkNotFound'; Cat = 'ObjectNotFound'; M = @('nosuchnet', 'Get-ContainerNetwork') }
        @{ N = 'Get-ContainerEndpoint of a container of nothing'; S = { Get-ContainerEndpoint nosuchc @BIP }; Id = 'EndpointNotFound'; Cat = 'ObjectNotFound'; M = @('nosuchc') }
        @{ N = 'Test-ContainerNetwork of a container of nothing'; S = { Test-ContainerNetwork nosuchc @BIP }; Id = 'EndpointNotFound'; Cat = 'ObjectNotFound'; M = @('nosuchc', 'Get-ContainerEndpoint') }

        # --- forwarding ----------------------------------------------------------------------------------------------
        @{ N = 'Enable-IpForwarding in a namespace of nothing'; S = { Enable-IpForwarding -NetNamespace $BI.X }; Id = 'NetNamespaceNotFound'; Cat = 'ObjectNotFound'; M = @('{X}', 'New-NetNamespace') }
        @{ N = 'Disable-IpForwarding in a namespace with a slash'; S = { Disable-IpForwarding -NetNamespace 'x/y' }; Id = 'ParameterArgumentTransformationError'; Cat = 'InvalidData'; M = @("'x/y'", 'plain name') }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $global:BI = @{}
    $global:BIP = @{}
    function Get-BadInputSnapshot {
        # Every namespace of the test: links, addresses, routes (both families) and the nf_tables ruleset, as iproute2
        # and nft print them in JSON (no counters, timers, address lifetimes or DAD's tentative flag: time moves them); the state directory's files
        # with their hashes; the namespaces of this process under /run/netns.
        $lines = foreach ($ns in $BI.H, $BI.C, $BI.O) {
            "== $ns"
            foreach ($a in @('link', 'show'), @('addr', 'show'), @('-4', 'route', 'show', 'table', 'all'), @('-6', 'route', 'show', 'table', 'all')) {
                (& ip -n $ns -j -d @a) -join ''
            }
            ((& ip netns exec $ns nft -j list ruleset) -join '') -replace '"packets": \d+, "bytes": \d+', ''
        }
        $lines = $lines -replace '"(valid|preferred)_life_time":\d+', '' -replace '"\w+_timer":[\d.]+', '' -replace '"tentative":true,', ''
        # Not the spares (ROOT/.spare: recycled inodes, whose number and content mean nothing).
        $files = Get-ChildItem -Recurse -Force $BI.SD, $BI.SD2, $BI.SD3, $BI.SD4 | Where-Object FullName -NotMatch '/\.spare(/|$)' | Sort-Object FullName |
            ForEach-Object { "$($_.FullName) $(if ($_.PSIsContainer) { '<dir>' } else { (Get-FileHash $_.FullName -Algorithm SHA256).Hash })" }
        $netns = Get-ChildItem /run/netns -Name | Where-Object { $_ -like "*-$PID-*" } | Sort-Object
        (@($lines) + @($files) + @($netns)) -join "`n"
    }

    $BI.H = New-TestName 'bhost'; $script:CreatedNamespaces.Add($BI.H)
    $BI.O = New-TestName 'bother'; $script:CreatedNamespaces.Add($BI.O)
    $BI.C = New-TestName 'bc'; $script:CreatedNamespaces.Add($BI.C)
    $BI.Y = New-TestName 'by'; $script:CreatedNamespaces.Add($BI.Y)   # a container the cases must not create
    $BI.X = "cnp-nothing-$PID"
    $BI.SD = Join-Path ([IO.Path]::GetTempPath()) "cnp-badinput-$PID"
    $BI.F = Join-Path ([IO.Path]::GetTempPath()) "cnp-badinput-file-$PID"
    Set-Content -Path $BI.F -Value 'a regular file'
    # Two state directories with a damaged network record each (an edit by hand, a write cut short).
    $BI.SD2 = "$($BI.SD)-damaged"; $BI.SD3 = "$($BI.SD)-cut"
    $null = New-Item -ItemType Directory "$($BI.SD2)/networks/bad", "$($BI.SD3)/networks/bad"
    Set-Content -Path "$($BI.SD2)/networks/bad/network.json" -Value '{ "name": "bad", "subnet": 5 }'
    Set-Content -Path "$($BI.SD3)/networks/bad/network.json" -Value '{ "name": "bad", "sub'
    $BI.SD4 = "$($BI.SD)-dir"; $null = New-Item -ItemType Directory "$($BI.SD4)/networks/odd/network.json"
    $null = New-NetNamespace $BI.H, $BI.O -LoopbackUp
    $global:BIP = @{ NetNamespace = $BI.H; StateDirectory = $BI.SD }
    $null = New-NetBridge br9 -NetNamespace $BI.H
    $null = New-VethPair vA -PeerName vB -Up -NetNamespace $BI.H
    $null = New-NetIPAddress -InterfaceAlias vA -IPAddress 10.9.9.1/24 -NetNamespace $BI.H
    $null = Add-NatMasquerade -SourcePrefix 10.77.0.0/24 -NetNamespace $BI.H
    $null = New-ContainerNetwork net1 -Subnet 10.123.0.0/24 -BridgeName cnbr0 @BIP
    $null = Connect-ContainerNetwork net1 -Container $BI.C -CreateNamespace -Publish 8080:80, 7000-7010:7000-7010 @BIP
    # IPv6 duplicate address detection ends a moment later and adds local routes: let it end before the first snapshot.
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    while ([DateTime]::UtcNow -lt $deadline -and ($BI.H, $BI.C, $BI.O | Where-Object { & ip -n $_ -6 addr show tentative })) { Start-Sleep -Milliseconds 200 }
}

AfterAll {
    if ($global:BI.SD) {
        Get-ContainerEndpoint @BIP -ErrorAction Ignore | Disconnect-ContainerNetwork -Force -Confirm:$false -ErrorAction Ignore
        Remove-Item -Recurse -Force $global:BI.SD, $global:BI.SD2, $global:BI.SD3, $global:BI.SD4, $global:BI.F -ErrorAction Ignore
    }
    Remove-TestNamespaces
    Remove-Variable -Scope Global -Name BI, BIP -ErrorAction Ignore
}

Describe 'Bad input: a clear error with a fix, a stable ErrorId, and nothing changed' -Tag 'Root' {
    It '<N>' -ForEach $cases {
        $before = Get-BadInputSnapshot
        $err = $null
        $ErrorActionPreference = 'Stop'
        try { $null = & $S } catch { $err = $_ }
        $ErrorActionPreference = 'Continue'
        $after = Get-BadInputSnapshot

        $err | Should -Not -BeNullOrEmpty -Because "'$N' must be refused"
        $msg = $err.ToString()
        $what = "$($err.FullyQualifiedErrorId) [$($err.CategoryInfo.Category)] $msg"
        $err.FullyQualifiedErrorId | Should -BeLike "$Id*" -Because $what
        "$($err.CategoryInfo.Category)" | Should -Be $Cat -Because $what
        foreach ($m in $M) {
            $m = $m -replace '\{(\w)\}', { $BI[$_.Groups[1].Value] }
            $msg | Should -BeLike "*$([WildcardPattern]::Escape($m))*" -Because $what
        }
        # No .NET noise: no parameter suffix, no type names.
        $msg | Should -Not -Match "\(Parameter '|System\.\w|Exception\b|ContainerNetworking\.\w" -Because $what
        $after | Should -Be $before -Because "'$N' must change nothing"
    }
}
