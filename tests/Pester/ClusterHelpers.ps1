# Shared by the cluster tests (Cluster.Tests.ps1, Runbooks/S004.Nodes). Dot-source after TestHelpers.ps1.
# A real etcd (Debian's etcd-server, installed by build/setup.sh) on 127.0.0.1 only, on free ports, with its data
# under a temporary folder; Stop-TestEtcd stops it and removes the folder (call it in AfterAll: also on failure).
# Nodes are namespaces on one "underlay" bridge inside a switch namespace; nothing in the root namespace changes.

function Get-FreeTcpPort {
    $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop(); $port
}

function Start-TestEtcd {
    $etcd = Get-Command etcd -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if (-not $etcd) { throw 'etcd is not installed: run build/setup.sh (it installs the etcd-server package).' }
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) "cn-etcd-$PID-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    New-Item -ItemType Directory $dir | Out-Null
    $client = Get-FreeTcpPort; $peer = Get-FreeTcpPort
    $etcdArgs = @('--name', 'cntest', '--data-dir', "$dir/data", '--listen-client-urls', "http://127.0.0.1:$client",
        '--advertise-client-urls', "http://127.0.0.1:$client", '--listen-peer-urls', "http://127.0.0.1:$peer",
        '--initial-advertise-peer-urls', "http://127.0.0.1:$peer", '--initial-cluster', "cntest=http://127.0.0.1:$peer",
        '--log-outputs', "$dir/etcd.log", '--logger', 'zap')
    $p = Start-Process -FilePath $etcd.Source -ArgumentList $etcdArgs -PassThru -RedirectStandardError "$dir/stderr.log" -RedirectStandardOutput "$dir/stdout.log"
    $url = "http://127.0.0.1:$client"
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    while ($true) {
        try { if ((Invoke-RestMethod "$url/health" -TimeoutSec 2).health -eq 'true') { break } } catch { }
        if ($p.HasExited -or [DateTime]::UtcNow -gt $deadline) {
            $log = Get-Content "$dir/stderr.log", "$dir/etcd.log" -ErrorAction Ignore | Select-Object -Last 20
            Stop-TestEtcd ([pscustomobject]@{ Process = $p; Directory = $dir })
            throw "etcd did not become healthy at $url`n$($log -join "`n")"
        }
        Start-Sleep -Milliseconds 100
    }
    [pscustomobject]@{ Url = $url; Process = $p; Directory = $dir; ClientPort = $client }
}

function Stop-TestEtcd($Etcd) {
    if (-not $Etcd) { return }
    if ($Etcd.Process -and -not $Etcd.Process.HasExited) {
        Stop-Process -Id $Etcd.Process.Id -ErrorAction Ignore
        if (-not $Etcd.Process.WaitForExit(5000)) { Stop-Process -Id $Etcd.Process.Id -Force -ErrorAction Ignore }
    }
    if ($Etcd.Directory) { Remove-Item $Etcd.Directory -Recurse -Force -ErrorAction Ignore }
}

function New-TestUnderlay {
    # A switch namespace with a bridge under0: the nodes' shared layer-2 segment (198.18.56.0/24).
    $sw = New-TestNamespace 'switch'
    New-NetBridge -NetNamespace $sw -Name under0 -Up | Out-Null
    $sw
}

function New-TestNode($Switch, [int] $Index) {
    # A node: a namespace with eth0 on the switch's under0, 198.18.56.(10+Index)/24, MTU 1500.
    $n = New-TestNamespace "node$Index" -LoopbackUp
    New-VethPair -NetNamespace $Switch -Name "port$Index" -PeerName eth0 -PeerNetNamespace $n -Bridge under0 -Up | Out-Null
    New-NetIPAddress -NetNamespace $n eth0 "198.18.56.$(10 + $Index)/24" | Out-Null
    $n
}
