# New-, Get-, Remove-, Invoke-NetNamespace. Root: every test works in namespaces it creates and removes.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    function Get-LinkNamesIn([string] $Namespace) { @((Get-IpJson $Namespace 'link', 'show').ifname) }
}
AfterAll { Remove-TestNamespaces }

Describe 'New-NetNamespace' -Tag 'Root' {
    It 'creates a namespace that ip netns sees, with only lo, and emits it' {
        $ns = New-TestNamespace 'new'
        $ns.Name | Should -BeLike 'cnp-new-*'
        $ns.Id | Should -BeGreaterThan 0
        (& ip netns list) -match [regex]::Escape($ns.Name) | Should -Not -BeNullOrEmpty
        $links = Get-IpJson $ns.Name 'link', 'show'
        $links.ifname | Should -Be @('lo')
        $links[0].operstate | Should -Be 'DOWN'
    }

    It '-LoopbackUp brings lo up' {
        $ns = New-TestNamespace 'lo' -LoopbackUp
        (Get-IpJson $ns.Name 'link', 'show', 'lo').flags | Should -Contain 'UP'
    }

    It '-WhatIf creates nothing' {
        $name = New-TestName 'whatif'
        New-NetNamespace -Name $name -WhatIf
        Test-Path "/run/netns/$name" | Should -BeFalse
    }

    It 'takes names from the pipeline' {
        $names = (New-TestName 'p'), (New-TestName 'p')
        $names | ForEach-Object { $script:CreatedNamespaces.Add($_) }
        $out = $names | New-NetNamespace
        $out.Name | Should -Be $names
    }

    It 'shows a progress bar for 10 names or more: a record at once, the last one, then completed; Remove-NetNamespace too' {
        $names = 1..12 | ForEach-Object { New-TestName 'bar' }
        $names | ForEach-Object { $script:CreatedNamespaces.Add($_) }
        $run = Invoke-InRunspace { param($names) New-NetNamespace -Name $names } @{ names = $names }
        $run.Errors | Should -BeNullOrEmpty
        $run.Output.Count | Should -Be 12
        $shown = @($run.Progress | Where-Object RecordType -eq 'Processing')
        $shown[0].Activity | Should -Be 'Creating network namespaces'
        $shown[0].StatusDescription | Should -Be "$($names[0]) (1 of 12)"
        $shown[-1].StatusDescription | Should -Be "$($names[11]) (12 of 12)"
        $run.Progress[-1].RecordType | Should -Be 'Completed'
        $run = Invoke-InRunspace { param($names) Remove-NetNamespace -Name $names -Confirm:$false } @{ names = $names }
        $run.Errors | Should -BeNullOrEmpty
        @($run.Progress | Where-Object RecordType -eq 'Processing')[0].StatusDescription | Should -Be "$($names[0]) (1 of 12)"
        foreach ($n in $names) { Test-Path "/run/netns/$n" | Should -BeFalse }
    }

    It 'fails with NetNamespaceExists for a name that is taken, and keeps the namespace' {
        $ns = New-TestNamespace 'dup'
        { New-NetNamespace -Name $ns.Name -ErrorAction Stop } | Should -Throw -ErrorId 'NetNamespaceExists,*'
        (Get-NetNamespace -Name $ns.Name).Id | Should -Be $ns.Id
    }

    It 'rejects a name with a slash (InvalidArgument) and creates nothing' {
        { New-NetNamespace -Name 'a/b' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidArgument,*'
        Test-Path '/run/netns/a' | Should -BeFalse
    }
}

Describe 'Get-NetNamespace' -Tag 'Root' {
    BeforeAll { $ns = New-TestNamespace 'get' }

    It 'finds a namespace by name and by wildcard, as the same object' {
        $a = Get-NetNamespace -Name $ns.Name
        $b = Get-NetNamespace -Name "cnp-get-$PID-*" | Where-Object Name -eq $ns.Name
        $a.Id | Should -Be $ns.Id
        [object]::ReferenceEquals($a, $b) | Should -BeTrue
    }

    It 'opens the current namespace and a process''s namespace' {
        (Get-NetNamespace -Current).IsCurrent | Should -BeTrue
        (Get-NetNamespace -ProcessId $PID).Id | Should -Be (Get-NetNamespace -Current).Id
    }

    It 'reports NetNamespaceNotFound for a literal name that does not exist' {
        { Get-NetNamespace -Name (New-TestName 'missing') -ErrorAction Stop } | Should -Throw -ErrorId 'NetNamespaceNotFound,*'
    }

    It 'passes over a plain file that ip netns add or delete is halfway through when listing, and names it when asked for it' {
        # ip netns add touches /run/netns/NAME before it bind-mounts; ip netns delete unmounts before it unlinks.
        $plain = New-TestName 'plain'
        New-Item -ItemType File -Path "/run/netns/$plain" | Out-Null
        try {
            $listed = Get-NetNamespace -ErrorAction Stop
            $listed.Name | Should -Contain $ns.Name
            $listed.Name | Should -Not -Contain $plain
            (Get-NetNamespace -Name "cnp-plain-$PID-*" -ErrorAction Stop) | Should -BeNullOrEmpty
            { Get-NetNamespace -Name $plain -ErrorAction Stop } | Should -Throw -ErrorId 'NotANetNamespace,*'
        } finally {
            Remove-Item -LiteralPath "/run/netns/$plain" -Force
        }
    }

    It 'reports ProcessNotFound for a process that does not exist' {
        { Get-NetNamespace -ProcessId 999999999 -ErrorAction Stop } | Should -Throw -ErrorId 'ProcessNotFound,*'
    }

    It 'binds a namespace object to -NetNamespace of other cmdlets through the pipeline' {
        (Get-NetNamespace -Name $ns.Name | Get-NetLink).Name | Should -Be 'lo'
    }

    It 'a -NetNamespace that does not exist is NetNamespaceNotFound, as for Get-NetNamespace: ObjectNotFound, the name as target, the fix named; not a binding error' {
        $missing = New-TestName 'missing'
        $calls = @(
            { Get-NetLink -NetNamespace $missing -ErrorAction Stop },
            { New-NetBridge br9 -NetNamespace $missing -ErrorAction Stop },
            { Get-ContainerNetwork -NetNamespace $missing -ErrorAction Stop },
            { New-VethPair a9 -PeerName b9 -PeerNetNamespace $missing -NetNamespace $ns -ErrorAction Stop },
            { Invoke-NetNamespace $missing true -ErrorAction Stop }
        )
        foreach ($call in $calls) {
            $e = $call | Should -Throw -ErrorId 'NetNamespaceNotFound,*' -PassThru -Because "$call"
            $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $e.TargetObject | Should -Be $missing
            $e.Exception.Message | Should -BeLike "Network namespace '$missing' does not exist*"
            $e.Exception.Message | Should -Match 'New-NetNamespace'
            $e.Exception.Message | Should -Match 'Get-NetNamespace'
            $e.ToString() | Should -Not -Match 'argument transformation'
        }
        # Nothing was made: no veth a9 in the namespace that exists.
        (Get-IpJson $ns.Name 'link', 'show').ifname | Should -Be 'lo'
        # From the pipeline, one error per item, and the pipeline goes on.
        $out = [pscustomobject]@{ NetNamespace = $missing }, [pscustomobject]@{ NetNamespace = $ns.Name } | Get-NetLink -ErrorVariable errs -ErrorAction SilentlyContinue
        $out.Name | Should -Be 'lo'
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'NetNamespaceNotFound,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}

Describe 'Namespaces the module holds open' -Tag 'Root' {
    It 'after ip netns del x; ip netns add x, -NetNamespace x is the new namespace, not the old one' {
        $name = New-TestName 'again'
        $script:CreatedNamespaces.Add($name)
        & ip netns add $name
        & ip -n $name link add old0 type bridge
        (Get-NetLink -NetNamespace $name).Name | Should -Contain 'old0'
        & ip netns del $name
        & ip netns add $name
        (Get-NetLink -NetNamespace $name).Name | Should -Not -Contain 'old0'
        (Get-NetNamespace -Name $name).Id | Should -Be ([uint64](& stat -L -c %i "/run/netns/$name"))
    }

    It 'a namespace deleted behind the module''s back is let go: the kernel destroys it, and its veth leaves the peer' {
        $a = New-TestNamespace 'keep'
        $b = New-TestName 'gone'
        $script:CreatedNamespaces.Add($b)
        & ip netns add $b
        & ip -n $a.Name link add va type veth peer name vb netns $b
        (Get-NetLink -NetNamespace $b).Name | Should -Contain 'vb'   # the module now holds b open
        & ip netns del $b
        Start-Sleep -Milliseconds 1200
        $null = Get-NetLink -NetNamespace $a                         # any later use lets b go
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ((Get-LinkNamesIn $a.Name) -contains 'va' -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        Get-LinkNamesIn $a.Name | Should -Not -Contain 'va'
    }
}

Describe 'Remove-NetNamespace' -Tag 'Root' {
    It 'removes a namespace and its veth pair, from the pipeline' {
        $hostNs = New-TestNamespace 'host'
        $c = New-TestNamespace 'c'
        New-VethPair -NetNamespace $hostNs -Name 'vh0' -PeerName 'eth0' -PeerNetNamespace $c | Out-Null
        Get-NetNamespace -Name $c.Name | Remove-NetNamespace -Confirm:$false
        Test-Path "/run/netns/$($c.Name)" | Should -BeFalse
        # The namespace ended (our handle was closed), so the pair went with it.
        Start-Sleep -Milliseconds 200
        (Get-IpJson $hostNs.Name 'link', 'show').ifname | Should -Not -Contain 'vh0'
    }

    It '-WhatIf removes nothing' {
        $ns = New-TestNamespace 'keep'
        Remove-NetNamespace -Name $ns.Name -WhatIf
        Test-Path "/run/netns/$($ns.Name)" | Should -BeTrue
    }

    It 'reports NetNamespaceNotFound for a name that does not exist' {
        { Remove-NetNamespace -Name (New-TestName 'missing') -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'NetNamespaceNotFound,*'
    }

    It 'goes on with the next name after a failure' {
        $ns = New-TestNamespace 'next'
        Remove-NetNamespace -Name (New-TestName 'missing'), $ns.Name -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable err
        $err.Count | Should -Be 1
        Test-Path "/run/netns/$($ns.Name)" | Should -BeFalse
    }
}

Describe 'Invoke-NetNamespace' -Tag 'Root' {
    BeforeAll { $ns = New-TestNamespace 'exec' -LoopbackUp }

    It 'runs a program inside the namespace and writes its output to the pipeline' {
        $out = Invoke-NetNamespace -NetNamespace $ns.Name -FilePath readlink -ArgumentList '/proc/self/ns/net'
        $out | Should -Be "net:[$($ns.Id)]"
        $LASTEXITCODE | Should -Be 0
    }

    It 'sees only the namespace''s links' {
        $out = Invoke-NetNamespace $ns.Name ip -br link
        @($out).Count | Should -Be 1
        $out | Should -Match '^lo\s'
    }

    It 'reports a non-zero exit code as NativeCommandFailed and sets $LASTEXITCODE' {
        { Invoke-NetNamespace $ns.Name sh -c 'exit 3' -ErrorAction Stop } | Should -Throw -ErrorId 'NativeCommandFailed,*'
        Invoke-NetNamespace $ns.Name sh -c 'exit 3' -IgnoreExitCode
        $LASTEXITCODE | Should -Be 3
    }

    It 'reports a program that does not exist as ProgramNotFound' {
        { Invoke-NetNamespace $ns.Name 'no-such-program-cnp' -ErrorAction Stop } | Should -Throw -ErrorId 'ProgramNotFound,*'
    }
}
