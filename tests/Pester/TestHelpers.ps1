# Shared by the Pester suite. Dot-source it in BeforeAll.
# Network safety: tests change only namespaces they create here, with unique names (cnp-ROLE-PID-N), and remove
# them in AfterAll/AfterEach. A throwaway namespace plays "the host"; the root namespace is never changed.

$script:ModuleManifest = Join-Path $PSScriptRoot '../../ContainerNetworking.psd1'
. (Join-Path $PSScriptRoot '../../build/Get-PwshCommand.ps1')
if (-not (Get-Module ContainerNetworking)) { Import-Module $script:ModuleManifest -Force }
$script:CreatedNamespaces = [System.Collections.Generic.List[string]]::new()
if (-not (Get-Variable -Scope Global -Name CnpCounter -ErrorAction Ignore)) { $global:CnpCounter = 0 }

function Test-IsRoot { (& id -u) -eq '0' }

function New-TestName([string] $Role) {
    $global:CnpCounter++
    "cnp-$Role-$PID-$global:CnpCounter"
}

function New-TestNamespace([string] $Role = 'ns', [switch] $LoopbackUp) {
    # A unique namespace that Remove-TestNamespaces deletes.
    $name = New-TestName $Role
    $script:CreatedNamespaces.Add($name)
    New-NetNamespace -Name $name -LoopbackUp:$LoopbackUp
}

function Remove-TestNamespaces {
    foreach ($n in $script:CreatedNamespaces) {
        if (Test-Path "/run/netns/$n") { Remove-NetNamespace -Name $n -Confirm:$false -ErrorAction SilentlyContinue }
        if (Test-Path "/run/netns/$n") { & ip netns delete $n 2>$null }
        # The hosts and resolv.conf Connect-ContainerNetwork writes for a container (only our unique test names).
        if (Test-Path "/etc/netns/$n") { Remove-Item -Recurse -Force "/etc/netns/$n" -ErrorAction SilentlyContinue }
    }
    $script:CreatedNamespaces.Clear()
}

function Get-IpJson([string] $Namespace, [string[]] $Arguments) {
    # iproute2 as an independent oracle: ip -n NS -j -d ARGS, parsed.
    $out = & ip -n $Namespace -j -d @Arguments
    if (-not $out) { return @() }
    ($out -join "`n") | ConvertFrom-Json
}

function Test-Ping([string] $Namespace, [string] $Address) {
    & ip netns exec $Namespace ping -c 1 -W 2 -q $Address *> $null
    $LASTEXITCODE -eq 0
}

function Start-TcpListener([string] $Namespace, [int] $Port, [string] $Reply) {
    # `nc -lp PORT` inside the namespace (ncat -lk -c): answers every connection with one line, $Reply (which may use
    # ncat's $NCAT_REMOTE_ADDR, the source address the server sees). Returns once it listens, so that a failed connect
    # means "closed", not "not yet"; stop it with Stop-Process -Id on the returned process.
    $p = Start-Process -FilePath ip -ArgumentList "netns exec $Namespace ncat -lk $Port -c `"echo $Reply`"" -PassThru
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    while (-not ((& ip netns exec $Namespace ss -Hltn "sport = :$Port") -match 'LISTEN')) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "ncat did not start listening on port $Port in $Namespace" }
        Start-Sleep -Milliseconds 50
    }
    $p
}

function Read-TcpAnswer([string] $Namespace, [string] $Address, [int] $Port) {
    # `telnet ADDRESS PORT` / `curl ADDRESS:PORT` from inside the namespace: the first line the server sends ('' when
    # nothing answers). --recv-only reads until the server closes, however long its reply takes to come (socat's
    # client gave up after its -t timeout under load).
    ((& ip netns exec $Namespace ncat --recv-only -w 3 $Address $Port 2>$null) | Select-Object -First 1) -as [string]
}

function Invoke-InRunspace([scriptblock] $Script, [hashtable] $Arguments = @{}) {
    # Runs $Script in a new runspace of this process (the module imported, $ProgressPreference Continue) and returns
    # its output, its errors and the progress records it wrote, in order: Write-Progress goes to the host, not to a
    # stream a caller can redirect, and a runspace without a host fails where a console would prompt (a missing
    # mandatory parameter) instead of waiting for an answer.
    $ps = New-ModuleRunspace
    try {
        $null = $ps.AddScript($Script.ToString()).AddParameters($Arguments)
        $out = $ps.Invoke()
        [pscustomobject]@{ Output = @($out); Errors = @($ps.Streams.Error); Progress = @($ps.Streams.Progress) }
    }
    finally { Close-ModuleRunspace $ps }
}

function New-ModuleRunspace {
    # A PowerShell over a runspace of its own with the module imported, ready for one command. The import runs as an
    # invocation of its own, not as the first statement of a batch (AddStatement): PowerShell runs a batch on a
    # thread-pool work item, and one that is stopped and then disposed can still run into its closed runspace there
    # and throw InvalidRunspaceStateException on that thread, which ends the whole test process (seen as rc 134).
    $rs = [runspacefactory]::CreateRunspace()
    $rs.Open()
    $ps = [powershell]::Create()
    $ps.Runspace = $rs
    $null = $ps.AddCommand('Import-Module').AddParameter('Name', $script:ModuleManifest).Invoke()
    $ps.Commands.Clear()
    $ps.Streams.ClearStreams()
    $ps
}

function Close-ModuleRunspace([powershell] $PowerShell) {
    $rs = $PowerShell.Runspace
    $PowerShell.Dispose()
    $rs.Dispose()
}

function Get-RootNamespaceState {
    # What a mistake would change in the namespace the tests run from (the machine's own), as text to compare before
    # and after: links (name, kind, master, up), addresses (lifetimes aside), the routes of every table, and the
    # nf_tables ruleset (counters aside).
    $links = (& ip -j -d link show) -join "`n" | ConvertFrom-Json | ForEach-Object {
        "link $($_.ifname) kind=$($_.linkinfo.info_kind) master=$($_.master) up=$($_.flags -contains 'UP')"
    }
    $addresses = (& ip -j addr show) -join "`n" | ConvertFrom-Json | ForEach-Object {
        $l = $_
        $l.addr_info | ForEach-Object { "addr $($l.ifname) $($_.local)/$($_.prefixlen)" }
    }
    $routes = @(& ip route show table all) + @(& ip -6 route show table all) | ForEach-Object { 'route ' + ($_ -replace 'expires \S+ ', '') }
    $nft = & nft list ruleset | ForEach-Object { 'nft ' + ($_ -replace 'counter packets \d+ bytes \d+', 'counter') }
    @($links) + @($addresses) + @($routes) + @($nft) -join "`n"
}
