# Dot-sourced by build.ps1 and the Pester suite: how to start a child pwsh like the one running.
function Get-PwshCommand {
    # The pwsh that runs this script, as a program and the arguments that start it, wherever it came from: a package
    # or source build (the process is pwsh), the .NET global tool (the process is dotnet running pwsh.dll, with an
    # apphost beside it in $PSHOME), or any other host of pwsh.dll.
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'pwsh') { return , @($process) }
    $apphost = Join-Path $PSHOME 'pwsh'
    if (Test-Path $apphost -PathType Leaf) { return , @($apphost) }
    $dll = Join-Path $PSHOME 'pwsh.dll'
    if (Test-Path $dll -PathType Leaf) { return @($process, $dll) }
    throw "Cannot find the pwsh that runs this script (process '$process', PSHOME '$PSHOME'): put pwsh on PATH and run again."
}
