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

Describe 'Precompiled code (ReadyToRun)' {
    BeforeAll { . (Join-Path $PSScriptRoot '../../build/ReadyToRun.ps1') }

    It 'the module''s own assemblies carry code in the format of the runtime that runs pwsh' {
        $expected = Get-RuntimeReadyToRunMajorVersion
        $expected | Should -Not -BeNullOrEmpty -Because 'the runtime''s own framework is precompiled'
        foreach ($name in $ReadyToRunAssemblies) {
            Get-ReadyToRunMajorVersion (Join-Path $PSScriptRoot "../../bin/$name") |
                Should -Be $expected -Because "build.ps1 Build precompiles bin/$name for this runtime (ReadyToRun format $expected; another major version ignores the code)"
        }
    }

    It 'a first network and container in a fresh pwsh compile few of our methods at run time' -Tag 'Root' -Skip:(-not $isRoot) {
        # The runtime's own JIT events, counted in a clean pwsh for the methods of our types: with the IL alone
        # (src/ContainerNetworking/bin/Release/net8.0) this script compiled 1,658 of them, precompiled 33.
        $hostNs = New-TestNamespace 'r2r-host'
        $container = New-TestName 'r2r-c'
        $script:CreatedNamespaces.Add($container)
        $state = Join-Path $TestDrive 'r2r-state'
        $child = @"
`$ErrorActionPreference = 'Stop'
Add-Type -TypeDefinition @'
using System.Diagnostics.Tracing;
using System.Threading;
public sealed class CnJitCounter : EventListener
{
    private int _ours, _all;
    public int Ours => Volatile.Read(ref _ours);
    public int All => Volatile.Read(ref _all);
    protected override void OnEventSourceCreated(EventSource source)
    {
        // Keyword 0x10: JIT (MethodJittingStarted).
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x10);
    }
    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is null || !e.EventName.StartsWith("MethodJittingStarted")) return;
        Interlocked.Increment(ref _all);
        var i = e.PayloadNames?.IndexOf("MethodNamespace") ?? -1;
        if (i >= 0 && e.Payload?[i] is string ns && ns.StartsWith("ContainerNetworking.")) Interlocked.Increment(ref _ours);
    }
}
'@
Import-Module '$script:ModuleManifest'
`$counter = [CnJitCounter]::new()
`$common = @{ NetNamespace = '$($hostNs.Name)'; StateDirectory = '$state' }
`$null = New-ContainerNetwork r2rnet -Subnet 10.89.0.0/24 @common
`$e = Connect-ContainerNetwork r2rnet -Container '$container' -CreateNamespace -Publish 80 @common
`$e | Disconnect-ContainerNetwork @common
Remove-ContainerNetwork r2rnet @common
# The events come on the runtime's dispatch thread: wait until the count holds still.
`$last = -1
while (`$counter.All -ne `$last) { `$last = `$counter.All; Start-Sleep -Milliseconds 500 }
"`$(`$counter.Ours) `$(`$counter.All)"
"@
        try {
            $pwsh = Get-PwshCommand
            $out = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $child 2>&1
            $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
            $ours, $all = [int[]] (($out | Select-Object -Last 1) -split ' ')
            $all | Should -BeGreaterThan 0 -Because 'the listener must see the runtime''s JIT events at all'
            $ours | Should -BeLessThan 200 -Because "build.ps1 Build precompiles our assemblies ($ours of $all methods compiled at run time were ours)"
        }
        finally { Remove-TestNamespaces }
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
