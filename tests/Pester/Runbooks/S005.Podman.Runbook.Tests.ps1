<#
    Runbook S005 "a Podman container on our CNI plugin", as Pester tests you can read and run to verify a host:
        sudo pwsh -c "Invoke-Pester ./tests/Pester/Runbooks/S005.Podman.Runbook.Tests.ps1 -Output Detailed"

    A real runtime drives the plugin: Podman 4.3 (Debian's) on its CNI backend (network_backend "cni"), with runc,
    runs `podman run --network NET -p 8080:80` on a network whose conflist has our plugin "containernetworking" as its
    only plugin, serving a page that a client namespace fetches through the host's published port; `podman rm` then
    leaves nothing behind. The image is made with `podman import` from a busybox-static rootfs: nothing is pulled.

    Everything stays in what the runbook creates:
    - a namespace plays the host. Podman itself runs inside it (nsenter --net): it holds every published host port
      open as a listening socket (through conmon) in the namespace it runs in. The plugin dir holds a wrapper named
      containernetworking that enters that namespace too and gives the plugin the runbook's state directory;
    - Podman gets a private configuration (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF) in a
      temporary directory: its own network_config_dir (never /etc/cni/net.d, whose 87-podman-bridge.conflist acts on
      the machine's own namespace) and cni_plugin_dirs, our network as the default network (so even a podman command
      without --network would use it; every command here passes --network anyway), vfs storage, lock_type "file" and
      its own tmp_dir, nofile and nproc ulimits under the machine's limits, the container's cgroups under a parent of
      the runbook's own (runc, cgroupfs; conmon gets none);
    - what Podman and libcni create outside it (/var/lib/containers/cache, /var/lib/cni/results) is removed again if
      it was not there before, and the root namespace's links, addresses, routes and nf_tables ruleset are compared
      before and after.
#>
BeforeAll {
    . (Join-Path $PSScriptRoot '../TestHelpers.ps1')
    function podman {
        # Podman inside the host namespace, on the runbook's private configuration; output and errors together. Never
        # without them: Podman's defaults act on the machine's own storage and namespace.
        if (-not $h -or -not (Test-Path "$dir/containers.conf")) { throw 'podman: the runbook''s host namespace and configuration are not set up' }
        & nsenter "--net=/run/netns/$h" env "CONTAINERS_CONF=$dir/containers.conf" "CONTAINERS_STORAGE_CONF=$dir/storage.conf" `
            "CONTAINERS_REGISTRIES_CONF=$dir/registries.conf" "TMPDIR=$dir/tmp" $podmanExe @args 2>&1
    }
    function Get-PortListeners([string] $Namespace, [int] $Port) {
        # ss -ltnp in a namespace ('' for the one the tests run in): the processes listening on TCP port $Port.
        $ss = if ($Namespace) { & ip netns exec $Namespace ss -Hltnp "sport = :$Port" } else { & ss -Hltnp "sport = :$Port" }
        @($ss | Where-Object { $_ })
    }
    function Get-OurConmon {
        # conmon processes of this runbook's containers (their command line names its directory).
        Get-ChildItem /proc -Directory | Where-Object Name -Match '^\d+$' | Where-Object {
            $cmd = Get-Content "/proc/$($_.Name)/cmdline" -Raw -ErrorAction Ignore
            $cmd -and $cmd.StartsWith('/usr/bin/conmon') -and $cmd.Contains($dir)
        } | ForEach-Object { [int] $_.Name }
    }
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).Path
    foreach ($tool in 'podman', 'runc', 'conmon', 'nsenter', 'curl') {
        if (-not (Get-Command $tool -CommandType Application -ErrorAction Ignore)) {
            throw "$tool is not installed: run build/setup.sh (it installs podman, runc, busybox-static and curl from Debian)."
        }
    }
    if (-not (Test-Path /bin/busybox)) { throw '/bin/busybox is missing: run build/setup.sh (it installs busybox-static).' }
    $podmanExe = (Get-Command podman -CommandType Application | Select-Object -First 1).Source

    # The plugin as runtimes exec it: the NativeAOT file of ./build.ps1 Cni, published again when older than its sources.
    $plugin = Join-Path $repo 'out/cni/containernetworking'
    $sources = Get-ChildItem (Join-Path $repo 'src/ContainerNetworking.Cni'), (Join-Path $repo 'src/ContainerNetworking.Core') -Recurse -File |
        Where-Object { $_.Name -like '*.cs*' -and $_.FullName -notmatch '/(obj|bin)/' }
    $newest = ($sources | Measure-Object LastWriteTimeUtc -Maximum).Maximum
    if (-not (Test-Path $plugin) -or (Get-Item $plugin).LastWriteTimeUtc -lt $newest) {
        & dotnet publish (Join-Path $repo 'src/ContainerNetworking.Cni/ContainerNetworking.Cni.csproj') -c Release --use-current-runtime `
            -o (Join-Path $repo 'out/cni') --nologo -v quiet -p:PublishAot=true | Out-Host
        if ($LASTEXITCODE -ne 0) { throw 'the NativeAOT publish of the CNI plugin failed' }
    }

    $rootBefore = Get-RootNamespaceState
    # Paths outside the temporary directory that Podman (blob-info cache) and libcni (results cache) create.
    $systemPaths = '/var/lib/containers', '/var/lib/cni'
    $existedBefore = @{}
    foreach ($p in $systemPaths) { $existedBefore[$p] = Test-Path $p }

    $hostNs = New-TestNamespace 'pmhost' -LoopbackUp
    $client = New-TestNamespace 'pmclient' -LoopbackUp
    $h = $hostNs.Name
    $dir = Join-Path ([IO.Path]::GetTempPath()) "cnp-podman-$PID"
    $state = Join-Path $dir 'state'
    $net = "cnp$PID"
    $bridge = "cnpod$($PID % 100000)"
    $ctr = "cnp-web-$PID"
    $image = "localhost/cnp-busybox:$PID"
    $cgroupParent = "/cnp-podman-$PID"
    $sandboxes = [System.Collections.Generic.List[string]]::new()
    foreach ($d in 'net.d', 'plugins', 'storage', 'run', 'tmp', 'state', 'rootfs/bin', 'rootfs/www') { New-Item -ItemType Directory -Force (Join-Path $dir $d) | Out-Null }

    # The plugin dir: a wrapper named like the plugin that enters the host namespace and names the state directory.
    $wrapper = Join-Path $dir 'plugins/containernetworking'
    Set-Content $wrapper @"
#!/bin/sh
# containernetworking for runbook S005: act in the namespace that plays the host, keep state in the runbook's directory.
exec nsenter --net=/run/netns/$h env CONTAINERNETWORKING_STATE_DIR=$state $plugin "`$@"
"@
    & chmod +x $wrapper

    # The network: our plugin alone, in the reference bridge plugin's shape, at cniVersion 1.0.0 (Podman 4.3's libcni
    # knows no 1.1.0), with the portMappings capability Podman fills from -p.
    Set-Content (Join-Path $dir "net.d/$net.conflist") (@{
        cniVersion = '1.0.0'; name = $net
        plugins    = @(@{
                type = 'containernetworking'; bridge = $bridge; isGateway = $true; ipMasq = $true; hairpinMode = $true
                ipam = @{ type = 'host-local'; ranges = @(, @(@{ subnet = '10.89.0.0/24' })); routes = @(@{ dst = '0.0.0.0/0' }) }
                capabilities = @{ portMappings = $true }
            })
    } | ConvertTo-Json -Depth 10)

    # Podman asks for more open files and processes than this machine allows (runc: "error setting rlimits"): 1024
    # each, or the hard limit of this process when it is lower.
    function Get-HardLimit([string] $What) {
        $line = Get-Content /proc/self/limits | Where-Object { $_.StartsWith($What) }
        $hard = ($line.Substring($What.Length).Trim() -split '\s+')[1]
        if ($hard -eq 'unlimited') { [long]::MaxValue } else { [long] $hard }
    }
    $nofile = [Math]::Min(1024, (Get-HardLimit 'Max open files'))
    $nproc = [Math]::Min(1024, (Get-HardLimit 'Max processes'))
    Set-Content (Join-Path $dir 'containers.conf') @"
[containers]
default_ulimits = ["nofile=$($nofile):$nofile", "nproc=$($nproc):$nproc"]

[network]
network_backend = "cni"
network_config_dir = "$dir/net.d"
cni_plugin_dirs = ["$dir/plugins"]
default_network = "$net"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
lock_type = "file"
tmp_dir = "$dir/tmp"
events_logger = "file"
events_logfile_path = "$dir/tmp/events.log"
image_copy_tmp_dir = "$dir/tmp"
num_locks = 64
"@
    Set-Content (Join-Path $dir 'storage.conf') @"
[storage]
driver = "vfs"
graphroot = "$dir/storage"
runroot = "$dir/run"
"@
    Set-Content (Join-Path $dir 'registries.conf') 'unqualified-search-registries = []'

}

AfterAll {
    # Also after a failure: the runbook's containers and image (its private storage only), conmon, anything still
    # mounted under its directory, Podman's container namespaces, the cgroup parent, the namespaces, the directory,
    # and what Podman and libcni made outside it.
    if ($dir -and (Test-Path "$dir/containers.conf")) {
        podman rm --all --force --time 0 | Out-Null
        podman rmi --all --force | Out-Null
        foreach ($p in Get-OurConmon) { Stop-Process -Id $p -Force -ErrorAction Ignore }
        $mounts = Get-Content /proc/self/mountinfo | ForEach-Object { ($_ -split ' ')[4] } | Where-Object { $_.StartsWith($dir) } | Sort-Object Length -Descending
        foreach ($m in $mounts) { & umount -l $m 2>$null }
    }
    foreach ($s in $sandboxes) { if (Test-Path $s) { & ip netns delete (Split-Path $s -Leaf) 2>$null } }
    if ($cgroupParent) {
        Get-ChildItem /sys/fs/cgroup -Directory -ErrorAction Ignore | ForEach-Object { Join-Path $_.FullName $cgroupParent.TrimStart('/') } |
            Where-Object { Test-Path $_ } | ForEach-Object {
                Get-ChildItem $_ -Directory | ForEach-Object { [IO.Directory]::Delete($_.FullName) }   # rmdir: a cgroup is removed empty
                [IO.Directory]::Delete($_)
            }
    }
    Remove-TestNamespaces
    if ($dir) { Remove-Item $dir -Recurse -Force -ErrorAction Ignore }
    foreach ($p in $systemPaths) { if (-not $existedBefore[$p]) { Remove-Item $p -Recurse -Force -ErrorAction Ignore } }
}

Describe 'S005: a Podman container on our CNI plugin' -Tag 'Root', 'Runbook', 'Podman' {
    It 'step 1: Podman runs on its CNI backend with runc, private storage and our network, whose only plugin is ours' {
        $info = (podman info --format json) -join "`n" | ConvertFrom-Json
        $info.host.networkBackend | Should -Be 'cni'
        $info.host.ociRuntime.name | Should -Be 'runc'
        $info.store.graphRoot | Should -Be "$dir/storage"
        $info.store.runRoot | Should -Be "$dir/run"
        # Only our network: the conflist dir is the runbook's, and Podman made no default "podman" network.
        $nets = (podman network ls --format json) -join "`n" | ConvertFrom-Json
        $nets.name | Should -Be $net
        $nets.driver | Should -Be 'containernetworking'
    }

    It 'step 2: an image from a busybox-static rootfs, made with podman import (nothing is pulled)' {
        Copy-Item /bin/busybox (Join-Path $dir 'rootfs/bin/busybox')
        & ln -s busybox (Join-Path $dir 'rootfs/bin/sh')
        Set-Content (Join-Path $dir 'rootfs/www/index.html') "hello from podman $PID"
        & tar -C (Join-Path $dir 'rootfs') -cf (Join-Path $dir 'rootfs.tar') .
        podman import (Join-Path $dir 'rootfs.tar') $image | Out-Null
        $LASTEXITCODE | Should -Be 0
        (podman images --format '{{.Repository}}:{{.Tag}}') | Should -Be $image
    }

    It 'step 3: podman run --network NET -p 8080:80 starts a web server; our plugin attached it, as an endpoint the cmdlets see' {
        $out = podman run -d --name $ctr --network $net -p 8080:80 --pull=never --cgroups=no-conmon --cgroup-parent=$cgroupParent `
            $image /bin/busybox httpd -f -p 80 -h /www
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        $script:id = ($out | Select-Object -Last 1).Trim()
        $sandbox = (podman inspect --format '{{.NetworkSettings.SandboxKey}}' $ctr | Select-Object -Last 1).Trim()
        $sandboxes.Add($sandbox)
        $sandbox | Should -Match '^/run/netns/'
        $inside = Split-Path $sandbox -Leaf

        # The attachment is an endpoint of origin cni in the host namespace's state: the container id, its address.
        $ep = Get-ContainerEndpoint -NetNamespace $hostNs -StateDirectory (Join-Path $state $h)
        $ep | Should -HaveCount 1
        $ep.Origin | Should -Be 'cni'
        $ep.Container | Should -Be $script:id
        $ep.Network | Should -Be $net
        "$($ep.IPv4Address)" | Should -Be '10.89.0.2'
        # The kernel has it: eth0 with the address inside Podman's namespace, the veth on the bridge, the port in the map.
        (Get-IpJson $inside 'addr', 'show', 'eth0').addr_info.local | Should -Contain '10.89.0.2'
        (Get-IpJson $h 'link', 'show', $ep.HostInterface).master | Should -Be $bridge
        ((& ip netns exec $h nft list map inet containernetworking ports4) -join "`n") | Should -Match 'tcp \. 8080 .*: 10\.89\.0\.2 \. 80'
        # Podman holds the published port open in the namespace it runs in (conmon), never in the machine's own.
        (Get-PortListeners $h 8080) -join "`n" | Should -Match 'conmon'
        (Get-PortListeners '' 8080) -join "`n" | Should -Not -Match 'conmon'
        # The web server is up.
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (-not (Get-PortListeners $inside 80) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        Get-PortListeners $inside 80 | Should -Not -BeNullOrEmpty
    }

    It 'step 4: a client namespace fetches the page through the host''s published port' {
        New-VethPair uplink -PeerName eth0 -PeerNetNamespace $client -Up -NetNamespace $hostNs | Out-Null
        New-NetIPAddress -InterfaceAlias uplink -IPAddress 198.18.55.1/24 -NetNamespace $hostNs | Out-Null
        New-NetIPAddress -InterfaceAlias eth0 -IPAddress 198.18.55.2/24 -NetNamespace $client | Out-Null
        (& ip netns exec $client.Name curl -s -m 5 http://198.18.55.1:8080/) | Should -Be "hello from podman $PID"
    }

    It 'step 5: Test-ContainerNetwork walks the container''s path and finds nothing broken' {
        Test-ContainerNetwork $script:id -NetNamespace $hostNs -StateDirectory (Join-Path $state $h) | Where-Object Status -eq 'Broken' | Should -BeNullOrEmpty
    }

    It 'step 6: podman rm leaves nothing: no veth, map entry, endpoint, lease, namespace, conmon or listening port' {
        podman rm --force --time 0 $ctr | Out-Null
        $LASTEXITCODE | Should -Be 0
        podman ps --all --format '{{.Names}}' | Should -BeNullOrEmpty
        Get-NetLink -NetNamespace $hostNs | Where-Object Kind -eq 'veth' | ForEach-Object Name | Should -Be 'uplink'
        ((& ip netns exec $h nft list map inet containernetworking ports4) -join "`n") | Should -Not -Match '8080'
        Get-ContainerEndpoint -NetNamespace $hostNs -StateDirectory (Join-Path $state $h) | Should -BeNullOrEmpty
        Get-ChildItem (Join-Path $state "$h/networks/$net/leases") | Should -BeNullOrEmpty
        Test-Path $sandboxes[0] | Should -BeFalse
        Get-OurConmon | Should -BeNullOrEmpty
        Get-PortListeners $h 8080 | Should -BeNullOrEmpty
        Get-ChildItem /var/lib/cni/results -ErrorAction Ignore | Where-Object Name -Like "$net-*" | Should -BeNullOrEmpty
        Get-ChildItem /sys/fs/cgroup/*/$($cgroupParent.TrimStart('/'))/libpod-* -Directory -ErrorAction Ignore | Should -BeNullOrEmpty
        podman rmi $image | Out-Null
        podman images --quiet | Should -BeNullOrEmpty
        # The client reaches nothing on 8080 any more.
        & ip netns exec $client.Name curl -s -m 2 http://198.18.55.1:8080/
        $LASTEXITCODE | Should -Not -Be 0
    }

    It 'step 7: the root namespace is unchanged: links, addresses, routes, nf_tables ruleset' {
        Get-RootNamespaceState | Should -Be $rootBefore
    }
}
