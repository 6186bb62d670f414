using System.Management.Automation;
using ContainerNetworking.Cluster;

namespace ContainerNetworking.Commands;

/// <summary>
/// The base of the cluster cmdlets: the etcd endpoint (-Store) and key prefix (-Prefix), by default those the node
/// (-NetNamespace) connected with, else http://127.0.0.1:2379 and flannel's /coreos.com/network.
/// </summary>
public abstract class ClusterCmdlet : PipelineContainerNetworkCmdlet
{
    public const string DefaultStore = "http://127.0.0.1:2379";

    /// <summary>etcd's client URL(s), e.g. http://127.0.0.1:2379 (several separated by commas). Default: the node's store when it is connected, else http://127.0.0.1:2379.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Store { get; set; }

    /// <summary>The key prefix of the cluster network in etcd; flannel's /coreos.com/network by default.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Prefix { get; set; }

    /// <summary>The cluster side of the node of this call (its namespace and state directory).</summary>
    protected ClusterNodeManager Node => new(Manager);

    /// <summary>The store and prefix of this call: given, else the node's, else the defaults.</summary>
    protected (string Store, string Prefix) Target()
    {
        if (Store is not null) return (Store, Prefix ?? ClusterConfig.DefaultPrefix);
        ClusterMembership? m = null;
        try { m = Node.Membership; } catch (ContainerNetworkingException) { }
        return m is not null ? (m.Store, Prefix ?? m.Prefix) : (DefaultStore, Prefix ?? ClusterConfig.DefaultPrefix);
    }
}
