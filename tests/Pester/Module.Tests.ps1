# The module as a user meets it: loads cleanly, exports what the manifest says, and every cmdlet follows the
# conventions (-NetNamespace, -WhatIf, [OutputType]); Help.Tests.ps1 checks what Get-Help shows. Needs no root.
BeforeDiscovery {
    $isRoot = (& id -u) -eq '0'
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $manifest = Import-PowerShellDataFile $script:ModuleManifest
}

Describe 'Module' {
    It 'imports without warnings or errors in a clean pwsh' {
        $pwsh = Get-PwshCommand
        $out = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command "Import-Module '$script:ModuleManifest' -WarningVariable w -ErrorVariable e; if (`$w -or `$e) { 'PROBLEM: ' + (`$w + `$e -join '; ') } else { 'OK' }" 2>&1
        $out | Should -Be 'OK'
    }

    It 'exports exactly the cmdlets of CmdletsToExport' {
        $commands = Get-Command -Module ContainerNetworking | ForEach-Object Name | Sort-Object
        $commands | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'has views for the objects it emits' {
        Get-FormatData -TypeName ContainerNetworking.Route.LinkInfo | Should -Not -BeNullOrEmpty
        Get-FormatData -TypeName ContainerNetworking.Namespaces.NetNamespace | Should -Not -BeNullOrEmpty
    }
}

Describe '<_>' -ForEach ((Import-PowerShellDataFile (Join-Path $PSScriptRoot '../../ContainerNetworking.psd1')).CmdletsToExport) {
    BeforeAll { $command = Get-Command $_ }

    It 'declares an output type' {
        $command.OutputType | Should -Not -BeNullOrEmpty
    }

    It 'takes -NetNamespace (or names the namespace itself)' {
        if ($command.Noun -eq 'NetNamespace' -and $command.Verb -ne 'Invoke') { $command.Parameters.Keys | Should -Contain 'Name' }
        else { $command.Parameters.Keys | Should -Contain 'NetNamespace' }
    }

    It 'supports -WhatIf when it changes state' {
        if ($command.Verb -in 'New', 'Set', 'Remove', 'Add', 'Enable', 'Disable', 'Publish', 'Unpublish', 'Connect', 'Disconnect', 'Repair') {
            $command.Parameters.Keys | Should -Contain 'WhatIf'
        }
    }
}

Describe 'Argument completion' {
    It 'completes namespace names for -NetNamespace' -Tag 'Root' -Skip:(-not $isRoot) {
        $ns = New-TestNamespace 'complete'
        try {
            $line = "Get-NetLink -NetNamespace $($ns.Name.Substring(0, $ns.Name.Length - 1))"
            $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
            $r.CompletionMatches.CompletionText | Should -Contain $ns.Name
        }
        finally { Remove-TestNamespaces }
    }

    It 'completes -InterfaceAlias with the links INSIDE the namespace given by -NetNamespace' -Tag 'Root' -Skip:(-not $isRoot) {
        $ns = New-TestNamespace 'complete'
        try {
            New-NetBridge -NetNamespace $ns.Name -Name 'cnpbr0' | Out-Null
            $line = "Set-NetLink -NetNamespace $($ns.Name) -InterfaceAlias cnp"
            $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
            $r.CompletionMatches.CompletionText | Should -Be @('cnpbr0')
        }
        finally { Remove-TestNamespaces }
    }
}
