# The help gate as a user meets it (in the style of Pester's own tst/Help.Tests.ps1): for every command the module
# exports, Get-Help finds the shipped MAML (en-US/ContainerNetworking.dll-Help.xml), with a written synopsis (not the
# syntax PowerShell makes up when there is no help), a description, two or more examples with code, and a description
# for every parameter but the common ones. Needs no root. The xunit HelpMamlTests check that the MAML says what
# en-US/*.md says; this checks what Get-Help shows.
Set-StrictMode -Version Latest

BeforeDiscovery {
    $moduleName = 'ContainerNetworking'
    if (-not (Get-Module $moduleName)) { Import-Module (Join-Path $PSScriptRoot "../../$moduleName.psd1") -Force }
    $exportedCommands = @(Get-Command -Module $moduleName -CommandType Cmdlet, Function)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $commonParameters = [System.Management.Automation.Cmdlet]::CommonParameters
    function Get-HelpText($Paragraphs) { (@($Paragraphs) | ForEach-Object { $_.Text }) -join "`n" }
}

Describe 'Testing module help' -Tag 'Help' -ForEach @{ exportedCommands = $exportedCommands; moduleName = $moduleName } {
    It 'the module exports commands and ships its MAML' {
        $exportedCommands.Count | Should -BeGreaterOrEqual 20
        Join-Path $PSScriptRoot "../../en-US/$moduleName.dll-Help.xml" | Should -Exist
    }

    Context '<_.CommandType> <_.Name>' -ForEach $exportedCommands {
        BeforeAll {
            $command = $_
            $help = $_ | Get-Help -Full
        }

        It 'Help is found' {
            $help.Name | Should -Be $command.Name
            $help.Category | Should -Be $command.CommandType
            $help.ModuleName | Should -Be $moduleName
        }

        It 'Synopsis is defined' {
            $help.Synopsis | Should -Not -BeNullOrEmpty
            # Without help, Get-Help uses the syntax as the synopsis.
            $help.Synopsis | Should -Not -Match "^\s*$($command.Name)((\s+\[+?-\w+)|\s*$)"
            $help.Synopsis | Should -Not -Match '\{\{.*\}\}' -Because 'a PlatyPS placeholder is no synopsis'
        }

        It 'Description is defined' {
            # The property is missing when the help has no description.
            $help.psobject.Properties.Name | Should -Contain 'description'
            Get-HelpText $help.description | Should -Not -BeNullOrEmpty
            Get-HelpText $help.description | Should -Not -Match '\{\{.*\}\}'
        }

        It 'Has at least two examples, each with a title and code' {
            $examples = @($help.Examples.example)
            $examples.Count | Should -BeGreaterOrEqual 2
            $examples | Where-Object { -not $_.title.Trim('- ') } | Should -Be @() -Because 'every example has a title'
            $examples | Where-Object { -not $_.code.Trim() } | ForEach-Object { $_.title.Trim('- ') } | Should -Be @() -Because 'no example should be without code'
        }

        It 'All parameters but the common ones have a description' {
            $parameters = @($command.Parameters.Keys | Where-Object { $_ -notin $commonParameters })
            $documented = @{}
            foreach ($p in @($help.parameters.parameter)) { $documented[$p.name] = Get-HelpText $p.description }
            $missing = @($parameters | Where-Object { -not $documented[$_] -or $documented[$_] -match '\{\{.*\}\}' })
            $missing | Should -Be @() -Because "every parameter of $($command.Name) needs a description in en-US/$($command.Name).md (then ./build.ps1 Docs)"
        }
    }
}
