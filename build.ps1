#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, documents and packages the ContainerNetworking module. Self-contained: needs only the .NET SDK
    (and, for the tasks that use them, Pester 5 and PlatyPS).

.DESCRIPTION
    Tasks (run in the order given; each runs what it depends on once):
      Build    dotnet publish of the module into ./bin (ContainerNetworking.dll, ContainerNetworking.Core.dll, the
               format and type files), so that `Import-Module ./ContainerNetworking.psd1` works from the repo root;
               then precompiles the module's own assemblies (ReadyToRun) for the runtime of the pwsh that runs it
               (build/ReadyToRun.ps1; IL only, with a warning, where crossgen2 cannot be had).
      Docs     en-US/*.md (PlatyPS markdown) -> en-US/ContainerNetworking.dll-Help.xml (MAML, committed: it ships),
               with PlatyPS 0.14 (New-ExternalHelp) or else Microsoft.PowerShell.PlatyPS 1.x (Export-MamlCommandHelp);
               skipped with a warning where neither is installed (the committed MAML is then used as it is).
      Test     dotnet test (xunit against the kernel, in throwaway namespaces; includes the help check), then Pester.
      Pester   Build + Docs, then the Pester suite in tests/Pester (tests tagged Root only when running as root), in a
               child pwsh.
      Cni      the CNI plugin (src/ContainerNetworking.Cni) as one NativeAOT executable, out/cni/containernetworking
               (trimming and AOT warnings are errors); copy it into a runtime's CNI plugin directory (/usr/lib/cni,
               /opt/cni/bin) and use "type": "containernetworking" in a network configuration.
      Package  Build + Docs + Cni, then lays out out/ContainerNetworking/<version>/ as the Gallery wants it (the plugin
               in its cni/ folder).
      Bench    runs tests/ContainerNetworking.Bench (when it exists) in Release.
      Clean    removes bin/, out/ and dotnet's outputs (not the committed MAML).

.EXAMPLE
    ./build.ps1 Build
    Import-Module ./ContainerNetworking.psd1

.EXAMPLE
    sudo pwsh ./build.ps1 Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    # One or more of Build, Docs, Test, Pester, Cni, Package, Bench, Clean ("Build,Docs" works from pwsh -File too).
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Extra arguments for the benchmark console (Bench task).
    [string[]] $BenchArguments = @()
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = $PSScriptRoot
$ModuleName = 'ContainerNetworking'
$Manifest = Join-Path $Root "$ModuleName.psd1"
$BinDir = Join-Path $Root 'bin'
$HelpDir = Join-Path $Root 'en-US'
$MamlFile = Join-Path $HelpDir "$ModuleName.dll-Help.xml"
$script:Done = @{}

. (Join-Path $PSScriptRoot 'build/Get-PwshCommand.ps1')
. (Join-Path $PSScriptRoot 'build/ReadyToRun.ps1')

function Invoke-Native {
    # Runs a program and fails the build when it fails (exit codes propagate).
    param([string] $FilePath, [string[]] $ArgumentList)
    Write-Host "> $FilePath $($ArgumentList -join ' ')" -ForegroundColor DarkGray
    & $FilePath @ArgumentList
    if ($LASTEXITCODE -ne 0) { throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Invoke-Task([string] $Name) {
    if ($script:Done[$Name]) { return }
    $script:Done[$Name] = $true
    Write-Host "== $Name" -ForegroundColor Cyan
    & "Task-$Name"
}

function Task-Build {
    if (-not (Get-Command dotnet -ErrorAction Ignore)) { throw 'The .NET SDK (dotnet, 8.0 or later) is required to build the module.' }
    # The IL first: the precompiled copies of an earlier build are replaced, never compiled again.
    foreach ($f in $ReadyToRunAssemblies) { Remove-Item (Join-Path $BinDir $f) -ErrorAction Ignore }
    Invoke-Native dotnet @('publish', (Join-Path $Root "src/$ModuleName/$ModuleName.csproj"), '-c', $Configuration, '-o', $BinDir, '--nologo', '-v', 'quiet')
    foreach ($f in "$ModuleName.dll", "$ModuleName.Core.dll", "$ModuleName.Cluster.dll", 'dotnet-etcd.dll', 'Grpc.Net.Client.dll', 'Google.Protobuf.dll', "$ModuleName.Format.ps1xml", "$ModuleName.Types.ps1xml") {
        if (-not (Test-Path (Join-Path $BinDir $f))) { throw "Build did not produce bin/$f." }
    }
    # Tmds.LibC is built per architecture: publish (no runtime identifier) lays out every one as
    # runtimes/linux-<arch>/lib/<tfm>/Tmds.LibC.dll, and the module loads the one pwsh needs (ModuleAssemblyResolver).
    foreach ($arch in 'x64', 'arm64', 'arm') {
        if (-not (Get-ChildItem (Join-Path $BinDir "runtimes/linux-$arch/lib/*/Tmds.LibC.dll") -ErrorAction Ignore)) {
            throw "Build did not produce bin/runtimes/linux-$arch/lib/<tfm>/Tmds.LibC.dll."
        }
    }
    # The reference assembly must never ship: pwsh brings the real System.Management.Automation.
    Remove-Item (Join-Path $BinDir 'System.Management.Automation.dll') -ErrorAction Ignore
    Add-ReadyToRunCode -BinDir $BinDir -Root $Root
}

function Task-Docs {
    # The MAML is committed (it ships in the repository and the package); Docs rebuilds it from the markdown. The
    # markdown is PlatyPS 0.14's (schema 2.0.0), so PlatyPS 0.14 comes first; the xunit test HelpMamlTests fails
    # when the committed MAML no longer says what the markdown says.
    $markdown = Get-ChildItem $HelpDir -Filter '*-*.md'
    if (-not $markdown) { throw "No help markdown in $HelpDir." }
    if (Get-Module -ListAvailable platyPS | Where-Object { $_.Version.Major -eq 0 -and $_.Version.Minor -ge 14 }) {
        Import-Module platyPS -MinimumVersion 0.14 -MaximumVersion 0.99
        New-ExternalHelp -Path $HelpDir -OutputPath $HelpDir -Force -ShowProgress:$false | Out-Null
    }
    elseif (Get-Module -ListAvailable Microsoft.PowerShell.PlatyPS) {
        Import-Module Microsoft.PowerShell.PlatyPS
        $tmp = Join-Path ([IO.Path]::GetTempPath()) "cn-maml-$PID"
        try {
            $help = $markdown | ForEach-Object { Import-MarkdownCommandHelp -Path $_.FullName }
            Export-MamlCommandHelp -CommandHelp $help -OutputFolder $tmp -Force | Out-Null
            $xml = Get-ChildItem $tmp -Recurse -Filter '*.xml' | Select-Object -First 1
            if (-not $xml) { throw 'Export-MamlCommandHelp produced no MAML file.' }
            Copy-Item $xml.FullName $MamlFile -Force
        }
        finally { Remove-Item $tmp -Recurse -Force -ErrorAction Ignore }
    }
    else {
        Write-Warning "Neither PlatyPS 0.14 (platyPS) nor Microsoft.PowerShell.PlatyPS is installed: the MAML help was not rebuilt; the committed $(Split-Path $MamlFile -Leaf) is used as it is (the xunit test HelpMamlTests says whether it still matches en-US/*.md)."
        return
    }
    if (-not (Test-Path $MamlFile)) { throw "Docs did not produce $MamlFile." }
    Write-Host "MAML help: $MamlFile"
}

function Task-Test {
    Invoke-Native dotnet @('test', (Join-Path $Root "$ModuleName.slnx"), '-c', $Configuration, '--nologo')
    Invoke-Task Pester
}

function Task-Pester {
    Invoke-Task Build
    Invoke-Task Docs   # the Get-Help tests read the MAML; where PlatyPS is missing, the committed one
    if (-not (Get-Module -ListAvailable Pester | Where-Object Version -GE '5.0.0')) {
        Write-Warning 'Pester 5 is not installed: the Pester suite is skipped (Install-Module Pester -MinimumVersion 5.0).'
        return
    }
    $isRoot = (& id -u) -eq '0'
    if (-not $isRoot) { Write-Warning 'Not root: tests tagged Root (those that create namespaces) are skipped.' }
    # A child pwsh: the module under test is loaded fresh, never an older copy already in this session.
    $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module Pester -MinimumVersion 5.0
`$c = New-PesterConfiguration
`$c.Run.Path = '$(Join-Path $Root 'tests/Pester')'
`$c.Run.PassThru = `$true
`$c.Output.Verbosity = 'Detailed'
$(if (-not $isRoot) { "`$c.Filter.ExcludeTag = 'Root'" })
`$r = Invoke-Pester -Configuration `$c
if (`$r.FailedCount -gt 0 -or `$r.Result -ne 'Passed') { exit 1 }
exit 0
"@
    $pwsh = Get-PwshCommand
    Invoke-Native $pwsh[0] (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $script))
}

function Task-Cni {
    # NativeAOT for the machine's runtime identifier; the SDK picks the ILCompiler package's version.
    $out = Join-Path $Root 'out/cni'
    Remove-Item $out -Recurse -Force -ErrorAction Ignore
    Invoke-Native dotnet @('publish', (Join-Path $Root "src/$ModuleName.Cni/$ModuleName.Cni.csproj"), '-c', $Configuration, '--use-current-runtime',
        '-o', $out, '--nologo', '-v', 'quiet', '-p:PublishAot=true')
    Get-ChildItem $out -File | Where-Object Name -ne 'containernetworking' | Remove-Item -Force
    $exe = Join-Path $out 'containernetworking'
    if (-not (Test-Path $exe)) { throw "The plugin was not produced at $exe." }
    Write-Host "Cni: $exe"
}

function Task-Package {
    Invoke-Task Build
    Invoke-Task Docs
    Invoke-Task Cni
    $version = (Import-PowerShellDataFile $Manifest).ModuleVersion
    $dest = Join-Path $Root "out/$ModuleName/$version"
    Remove-Item $dest -Recurse -Force -ErrorAction Ignore
    New-Item -ItemType Directory -Force (Join-Path $dest 'bin'), (Join-Path $dest 'en-US') | Out-Null
    Copy-Item $Manifest $dest
    Get-ChildItem $BinDir -File | Where-Object Extension -NotIn '.pdb' | Copy-Item -Destination (Join-Path $dest 'bin')
    # Every architecture's Tmds.LibC, at the same relative path as in ./bin (bin/runtimes/linux-<arch>/lib/<tfm>/).
    Copy-Item (Join-Path $BinDir 'runtimes') (Join-Path $dest 'bin') -Recurse
    Get-ChildItem $HelpDir -File | Where-Object { $_.Name -like '*.help.txt' -or $_.Name -like '*-Help.xml' } | Copy-Item -Destination (Join-Path $dest 'en-US')
    if (Test-Path (Join-Path $Root 'README.md')) { Copy-Item (Join-Path $Root 'README.md') $dest }
    New-Item -ItemType Directory -Force (Join-Path $dest 'cni') | Out-Null
    Copy-Item (Join-Path $Root 'out/cni/containernetworking') (Join-Path $dest 'cni')
    Test-ModuleManifest (Join-Path $dest "$ModuleName.psd1") | Out-Null
    Write-Host "Package: $dest"
}

function Task-Bench {
    $bench = Join-Path $Root "tests/$ModuleName.Bench"
    if (-not (Test-Path $bench)) {
        Write-Warning "No benchmark project yet ($bench): nothing to run."
        return
    }
    Invoke-Native dotnet (@('run', '-c', 'Release', '--project', $bench, '--') + $BenchArguments)
}

function Task-Clean {
    # Not the MAML: it is committed, and Docs rebuilds it only where PlatyPS is installed.
    foreach ($p in $BinDir, (Join-Path $Root 'out')) { Remove-Item $p -Recurse -Force -ErrorAction Ignore }
    Invoke-Native dotnet @('clean', (Join-Path $Root "$ModuleName.slnx"), '-c', $Configuration, '--nologo', '-v', 'quiet')
}

try {
    # `pwsh -File ./build.ps1 Build,Docs` passes the list as one string: split it as the command line would have.
    $tasks = @($Task | ForEach-Object { $_ -split '[,\s]+' } | Where-Object { $_ })
    $valid = 'Build', 'Docs', 'Test', 'Pester', 'Cni', 'Package', 'Bench', 'Clean'
    foreach ($t in $tasks) {
        if ($t -notin $valid) { throw "Unknown task '$t': the tasks are $($valid -join ', ')." }
    }
    foreach ($t in $tasks) { Invoke-Task $t }
}
catch {
    Write-Host "build.ps1: $($_.Exception.Message)" -ForegroundColor Red
    exit 1
}
exit 0
