using System.Diagnostics;
using System.Text.RegularExpressions;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Tests.Model.ModelFixture;

namespace ContainerNetworking.Tests.Model;

/// <summary>All or nothing, crashes at every step of Connect, and Repair of what they and others leave.</summary>
public sealed class RepairTests : IDisposable
{
    private readonly ModelFixture _f = new();
    public void Dispose()
    {
        FaultInjection.CrashBefore = null;
        _f.Dispose();
    }

    /// <summary>The host as observable, minus what legitimately moves (nft counters, the allocation cursor).</summary>
    // Without the allocation cursor and the addresses and UDP ports noted as "conntrack flush pending": Repair notes
    // those of every endpoint it removes, as Disconnect does (AssertNoted checks them).
    private string Snapshot() => Regex.Replace(_f.Snapshot(), @"counter packets \d+ bytes \d+", "counter")
        .Split('\n').Where(l => !l.Contains("last_reserved_ip", StringComparison.Ordinal) && !l.Contains("/conntrack-pending/", StringComparison.Ordinal))
        .Aggregate("", (a, l) => a + l + "\n");

    /// <summary>The address and UDP host ports of the endpoint Repair removed are noted as "conntrack flush pending" (flushed before they are used again).</summary>
    private void AssertNoted(ContainerEndpoint removed)
    {
        var dir = Path.Combine(_f.StateDir, "networks", removed.Network, "conntrack-pending");
        foreach (var key in new[] { removed.IPv4Address!.ToString() }.Concat(removed.Ports.Where(p => p.Protocol == PortProtocol.Udp).Select(p => "udp-" + p.HostPort)))
            Assert.True(File.Exists(Path.Combine(dir, key)), $"{key} is not noted in {dir}");
    }

    private ContainerEndpoint Victim() => Assert.Single(_f.Manager.State.ListEndpoints("bridge"), e => e.State == RecordState.Creating);

    private ContainerEndpoint Baseline()
    {
        _f.Manager.CreateNetwork(new NetworkSpec { Name = "bridge", BridgeName = "docker0", Subnet = Net("172.17.0.0/16") });
        return _f.Run("bridge", "keep", "9001:80");
    }

    private EndpointSpec Spec(string ns) => new() { Network = "bridge", Namespace = ns, CreateNamespace = true, Publish = ["9100:80", "9200-9201:90-91/udp"] };

    [Fact]
    public void SimulatedCrashBeforeEachStepOfConnect_RepairLeavesNothing_AndTheNetworkStillWorks()
    {
        var keep = Baseline();
        Assert.Empty(_f.Manager.Repair()); // a healthy host: no false findings
        var baseline = Snapshot();
        var steps = _f.Manager.PlanConnect(Spec(_f.Container("plan"))).Steps.Select(s => s.Name).ToList();
        Assert.Equal(["WriteEndpointIntent", "CreateNamespace", "LeaseAddress", "PublishPorts", "WriteHostsFiles", "CreateVeth", "InterfacesUp", "AddAddress", "AddDefaultRoute", "NoteLastReserved", "CommitEndpoint"], steps);
        Assert.Equal(baseline, Snapshot()); // planning changed nothing

        foreach (var step in steps)
        {
            var ns = _f.Container("crash");
            FaultInjection.CrashBefore = step;
            var crash = Assert.Throws<SimulatedCrashException>(() => _f.Manager.Connect(Spec(ns)));
            FaultInjection.CrashBefore = null;
            Assert.Equal(step, crash.Step);
            if (step != steps[0]) Assert.NotEqual(baseline, Snapshot()); // the crash did leave something
            var victim = step == steps[0] ? null : Victim();

            var findings = _f.Manager.Repair();
            Assert.Equal(step == steps[0] ? 0 : 1, findings.Count(f => f.Kind == "IncompleteEndpoint"));
            Assert.All(findings, f => Assert.Equal("Removed", f.Action));
            Assert.Equal(baseline, Snapshot());
            if (victim is not null) AssertNoted(victim);
            Assert.Empty(_f.Manager.Repair());
        }
        Assert.True(Cli.Ping(keep.Namespace!, "172.17.0.1"));
        var next = _f.Run("bridge", "after", "9100:80");
        Assert.True(Cli.Ping(next.Namespace!, keep.IPv4Address!.ToString()));
    }

    [Fact]
    public void FailureInAStep_UndoesTheStepsBefore_WithoutRepair()
    {
        Baseline();
        var baseline = Snapshot();
        // Host port 9001 is taken by "keep": a rogue element for 9100, added by someone else once the Connect checked the
        // port (right before its PublishPorts step), makes PublishPorts fail in the kernel, while its namespace is being
        // made on a worker thread (or is made already): the undo waits for it and removes it.
        FaultInjection.Interleave("PublishPorts", () =>
            Cli.InNs(_f.HostName, "nft", "add", "element", "inet", "containernetworking", "ports4", "{ tcp . 9100 : 172.17.9.9 . 80 }").Ok());
        var e = Assert.ThrowsAny<ContainerNetworkingException>(() => _f.Manager.Connect(Spec(_f.Container("fails"))));
        Assert.Equal("PortAlreadyPublished", e.ErrorId);
        Assert.Contains("9100", Snapshot());
        // Everything the Connect made is undone: Repair finds only the rogue mapping nobody owns, and removing it
        // brings back the baseline.
        var f = Assert.Single(_f.Manager.Repair());
        Assert.Equal("OrphanPortMapping", f.Kind);
        Assert.Equal(baseline, Snapshot());
        _ = baseline;
    }

    [Fact]
    public void ANamespaceThatCouldNotBeMade_FailsTheConnect_AndTheOneInTheWayIsLeftAlone()
    {
        var keep = Baseline();
        var baseline = Snapshot();
        // Someone else makes a namespace of the name between the Connect's check and its creation: the creation on the
        // worker thread fails (EEXIST) while the Connect goes on with the steps that need no namespace; the first step
        // that needs it reports the error, everything before it is undone, and their namespace is not touched.
        var name = _f.Container("raced");
        FaultInjection.Interleave("CreateNamespace", () => Cli.Run("ip", "netns", "add", name).Ok());
        var e = Assert.ThrowsAny<ContainerNetworkingException>(() => _f.Manager.Connect(Spec(name)));
        Assert.Equal("NetNamespaceExists", e.ErrorId);
        Assert.True(NetNamespace.Exists(name));
        Assert.Empty(Cli.IpJson(name, "link", "show", "type", "veth").EnumerateArray());
        Assert.Equal(baseline, Snapshot().Replace("," + name, "", StringComparison.Ordinal));
        Assert.Empty(_f.Manager.Repair());
        Assert.True(Cli.Ping(keep.Namespace!, "172.17.0.1"));
    }

    [Theory]
    [InlineData("CreateVeth")]
    [InlineData("PublishPorts")]
    [InlineData("CommitEndpoint")]
    public void ProcessKilledBeforeAStep_RepairLeavesNothing(string step)
    {
        var keep = Baseline();
        var baseline = Snapshot();
        var prefix = TestNamespaces.UniqueName("killed") + "x";
        _f.Track(prefix + "0");
        var r = Agent.Run(_f, "bridge", 1, prefix, new() { [FaultInjection.Variable] = step }, "9100:80");
        Assert.Equal(137, r.ExitCode); // SIGKILL
        Assert.Contains("before step " + step, r.Stderr);
        Assert.True(NetNamespace.Exists(prefix + "0"));
        var victim = Victim();

        var findings = _f.Manager.Repair();
        Assert.Equal("IncompleteEndpoint", Assert.Single(findings).Kind);
        Assert.Equal(baseline, Snapshot());
        AssertNoted(victim);
        Assert.True(Cli.Ping(keep.Namespace!, "172.17.0.1"));
    }

    [Fact]
    public void Repair_FindsWhatOthersBroke_WhatIfChangesNothing()
    {
        var outside = Outside.Create(_f);
        var keep = Baseline();
        var gone = _f.Run("bridge", "gone", "9002:80");
        var baseline = Snapshot();

        // Someone flushes our table, deletes a container's namespace behind our back, and leaks a lease.
        Cli.InNs(_f.HostName, "nft", "delete", "table", "inet", "containernetworking").Ok();
        Cli.Run("ip", "netns", "del", gone.Namespace!).Ok();
        // The kernel removes the namespace's veth moments later, in its namespace cleanup: wait for it, so that the
        // snapshots below compare what Repair did, not what the kernel was still doing.
        for (var i = 0; i < 500 && _f.Host.Rtnl.FindLink(gone.HostInterface!) is not null; i++) Thread.Sleep(20);
        Assert.Null(_f.Host.Rtnl.FindLink(gone.HostInterface!));
        File.WriteAllText(Path.Combine(_f.StateDir, "networks", "bridge", "leases", "172.17.0.77"), "0123456789abcdef");
        using var web = Traffic.Listen(keep.Namespace!, 80, "keep");
        Assert.Null(Traffic.Fetch(outside, Outside.HostAddress, 9001));
        Assert.Contains(_f.Manager.Test(keep.Container, "bridge"), h => h.Hop == "NetworkRules" && h.Status == HopStatus.Broken);

        var broken = Snapshot();
        var dry = _f.Manager.Repair(whatIf: true);
        Assert.Equal(broken, Snapshot());
        var kinds = dry.Select(d => d.Kind).Order().ToList();
        Assert.Equal(["EndpointNamespaceGone", "MissingNetworkRules", "MissingPortMapping", "OrphanLease"], kinds);
        Assert.All(dry, d => Assert.StartsWith("Would", d.Action));

        var done = _f.Manager.Repair();
        Assert.Equal(kinds, done.Select(d => d.Kind).Order());
        Assert.All(done, d => Assert.NotEqual("Failed", d.Action));
        Assert.Equal("keep " + Outside.Address, Traffic.Fetch(outside, Outside.HostAddress, 9001));
        Assert.Equal([keep.Container], _f.Manager.GetEndpoints("bridge").Select(e => e.Container));
        Assert.Equal([keep.IPv4Address], _f.Manager.State.Leases("bridge").Keys);
        Assert.Empty(_f.Manager.Repair());
        _ = baseline;
    }
}

/// <summary>Starts tests/ContainerNetworking.TestAgent (copied next to the tests) as a process of its own.</summary>
public static class Agent
{
    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "ContainerNetworking.TestAgent.dll");

    /// <summary>
    /// Starts a Connect of <paramref name="count"/> new namespaces NSPREFIX0…; those names are tracked by the fixture
    /// (deleted on Dispose, whatever the agent leaves).
    /// </summary>
    public static Process Start(ModelFixture f, string network, int count, string nsPrefix, Dictionary<string, string>? env = null, params string[] publish)
    {
        for (var i = 0; i < count; i++) f.Track(nsPrefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return StartCommand(env, ["connect", f.HostName, f.StateDir, network, count.ToString(System.Globalization.CultureInfo.InvariantCulture), nsPrefix, .. publish]);
    }

    public static Cli.Result Run(ModelFixture f, string network, int count, string nsPrefix, Dictionary<string, string>? env = null, params string[] publish) =>
        Wait(Start(f, network, count, nsPrefix, env, publish));

    /// <summary>Runs one agent command (connect, disconnect, new-network, remove-network, allow, disallow) to its end.</summary>
    public static Cli.Result RunCommand(Dictionary<string, string>? env, params string[] args) => Wait(StartCommand(env, args));

    private static Process StartCommand(Dictionary<string, string>? env, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? []) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    private static Cli.Result Wait(Process started)
    {
        using var p = started;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException("agent"); }
        return new Cli.Result(p.ExitCode, o.Result, e.Result);
    }
}
