# Dot-sourced by build.ps1 (Build) and the Pester suite: precompiled code (ReadyToRun) in the module's own assemblies.
#
# Without it, the first call of each cmdlet in a pwsh session JIT-compiles our code: about 1,600 of our methods for a
# first New-ContainerNetwork and Connect-ContainerNetwork (README: the first calls of a session). The code is
# compiled for the runtime of the pwsh that runs the build, against that runtime's own framework and pwsh's own
# assemblies, by crossgen2 from the runtime's NuGet package of the same version. A runtime of another major version
# does not take the code (each major version reads only its own ReadyToRun format) and compiles the IL, as without it.

# The module's own assemblies; the third-party ones are left as their packages ship them.
$script:ReadyToRunAssemblies = 'ContainerNetworking.dll', 'ContainerNetworking.Core.dll', 'ContainerNetworking.Cluster.dll'

function Get-ReadyToRunMajorVersion([string] $Path) {
    # The major version of the ReadyToRun header (READYTORUN_HEADER: signature 'RTR', major, minor) of an assembly, or
    # $null when it carries IL only.
    $pe = [Reflection.PortableExecutable.PEReader]::new([IO.File]::OpenRead($Path))
    try {
        $dir = $pe.PEHeaders.CorHeader.ManagedNativeHeaderDirectory
        if ($dir.Size -eq 0) { return $null }
        $reader = $pe.GetSectionData($dir.RelativeVirtualAddress).GetReader()
        if ($reader.ReadUInt32() -ne 0x00525452) { return $null }
        return [int] $reader.ReadUInt16()
    }
    finally { $pe.Dispose() }
}

function Get-RuntimeReadyToRunMajorVersion {
    # The format the running runtime reads: that of its own framework's precompiled assemblies.
    Get-ReadyToRunMajorVersion ([Linq.Enumerable].Assembly.Location)
}

function Add-ReadyToRunCode([string] $BinDir, [string] $Root) {
    # Replaces the module's own assemblies in $BinDir by precompiled ones, all or none; where that cannot be done, a
    # warning, and the build goes on with the IL.
    $why = try { Invoke-Crossgen2 $BinDir $Root } catch { $_.Exception.Message }
    if ($why) {
        Write-Warning "The module's assemblies were not precompiled (ReadyToRun): $why. The module works; the first call of each cmdlet in a session compiles its code first (about 0.1 s)."
    }
}

function Invoke-Crossgen2([string] $BinDir, [string] $Root) {
    # Returns why not, or nothing when the assemblies in $BinDir were replaced.
    $version = [Environment]::Version.ToString(3)
    $arch = [Runtime.InteropServices.RuntimeInformation]::ProcessArchitecture.ToString().ToLowerInvariant()
    $package = "Microsoft.NETCore.App.Crossgen2.linux-$arch"

    # crossgen2, as a package download of build/crossgen/crossgen.csproj (nothing is built).
    $log = & dotnet restore (Join-Path $Root 'build/crossgen/crossgen.csproj') "-p:CrossgenPackage=$package" "-p:CrossgenVersion=$version" --nologo -v quiet 2>&1
    if ($LASTEXITCODE -ne 0) { return "$package $version could not be restored ($(($log | Select-Object -Last 1)))" }
    $packages = ((& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim()
    $tools = Join-Path $packages "$($package.ToLowerInvariant())/$version/tools"
    $crossgen = if (Test-Path (Join-Path $tools 'crossgen2') -PathType Leaf) { , @(Join-Path $tools 'crossgen2') }
    elseif (Test-Path (Join-Path $tools 'crossgen2.dll') -PathType Leaf) { @('dotnet', (Join-Path $tools 'crossgen2.dll')) }
    if (-not $crossgen) { return "no crossgen2 in $tools" }

    # References: the running runtime's framework, pwsh's assemblies (System.Management.Automation), the module's
    # dependencies and the libc binding of this architecture.
    $libc = Get-ChildItem (Join-Path $BinDir "runtimes/linux-$arch/lib") -Recurse -Filter 'Tmds.LibC.dll' | Select-Object -First 1
    $references = @(
        Join-Path ([Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory()) '*.dll'
        Join-Path $PSHOME '*.dll'
        Join-Path $BinDir '*.dll'
        if ($libc) { $libc.FullName }
    ) | ForEach-Object { "--reference:$_" }
    $work = Join-Path $Root "obj/readytorun-$PID"
    Remove-Item $work -Recurse -Force -ErrorAction Ignore
    New-Item -ItemType Directory -Force $work | Out-Null
    try {
        foreach ($name in $script:ReadyToRunAssemblies) {
            $il = Join-Path $BinDir $name
            if ($null -ne (Get-ReadyToRunMajorVersion $il)) { return "bin/$name is precompiled already (Build removes it before it publishes the IL)" }
            $log = & $crossgen[0] @($crossgen | Select-Object -Skip 1) $il "--out:$(Join-Path $work $name)" '--targetos:linux' "--targetarch:$arch" '-O' @references 2>&1
            if ($LASTEXITCODE -ne 0) { return "crossgen2 failed on $name ($(($log | Select-Object -Last 1)))" }
        }
        foreach ($name in $script:ReadyToRunAssemblies) { Copy-Item (Join-Path $work $name) (Join-Path $BinDir $name) -Force }
        Write-Host "ReadyToRun: $($script:ReadyToRunAssemblies -join ', ') precompiled for .NET $version ($arch) with $package $version"
    }
    finally { Remove-Item $work -Recurse -Force -ErrorAction Ignore }
}
