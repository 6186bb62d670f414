using System.Management.Automation;
using ContainerNetworking.Cluster;

namespace ContainerNetworking.Commands;

/// <summary>
/// Sync-ContainerCluster: reconciles a connected node with etcd: renews its lease, adds the entries of nodes that
/// joined, removes those of nodes that left or whose lease expired, replaces those that changed. -Watch keeps doing it
/// on every change etcd reports (and every -Interval) until Ctrl+C.
/// </summary>
[Cmdlet(VerbsData.Sync, "ContainerCluster", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ClusterSyncResult))]
public sealed class SyncContainerClusterCommand : PipelineContainerNetworkCmdlet
{
    /// <summary>Keep reconciling, on every lease change etcd's watch reports and at least every -Interval, until Ctrl+C; emits one result per sync and shows progress.</summary>
    [Parameter]
    public SwitchParameter Watch { get; set; }

    /// <summary>With -Watch: the longest time between two syncs (each renews the lease); a quarter of the lease's duration by default, at most a minute.</summary>
    [Parameter]
    public TimeSpan? Interval { get; set; }

    private CancellationTokenSource? _stop;

    protected override void ProcessRecord()
    {
        var node = new ClusterNodeManager(Manager);
        var target = "node" + In(HostNamespace);
        if (!ShouldProcess(target, Watch ? "Sync with the cluster until Ctrl+C" : "Sync with the cluster")) return;
        if (!Watch)
        {
            if (Try(target, node.Sync, out var result)) WriteRecord(result, Manager);
            return;
        }
        _stop = new CancellationTokenSource();
        var progress = new ProgressRecord(1, "Sync-ContainerCluster -Watch", "Waiting for changes in etcd");
        var count = 0;
        Try(target, () => node.Watch(r =>
        {
            count++;
            progress.StatusDescription = $"Sync {count} at {r.Time:HH:mm:ss}: {r.Node.Peers.Count} peer(s), +{r.Added.Count} -{r.Removed.Count} ~{r.Changed.Count}; lease until {r.Node.Expires:u}. Ctrl+C stops.";
            WriteProgress(progress);
            WriteRecord(r, Manager);
        }, _stop.Token, Interval));
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
    }

    protected override void StopProcessing() => _stop?.Cancel();
}
