using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ContainerNetworking.Cluster;

/// <summary>
/// What a node keeps locally about its cluster connection (STATEDIR/cluster/node.json), like flannel's subnet.env: the
/// store, the subnet and VTEP MAC it held (kept after Disconnect, so that a reconnect asks for the same subnet again and
/// the other nodes' FDB entries stay right), and the peer entries it programmed (so that a sync removes exactly those).
/// </summary>
public sealed class ClusterMembership
{
    public string Store { get; set; } = "";
    public string Prefix { get; set; } = ClusterConfig.DefaultPrefix;
    public bool Connected { get; set; }
    public string Node { get; set; } = "";
    public string Network { get; set; } = "";
    public string Bridge { get; set; } = "";
    public string Interface { get; set; } = "";
    public string PublicIP { get; set; } = "";
    public string Subnet { get; set; } = "";
    public string Backend { get; set; } = "vxlan";
    public int Vni { get; set; } = 1;
    public int Port { get; set; } = 8472;
    public string? Device { get; set; }
    public string? VtepMac { get; set; }
    public int Mtu { get; set; }
    public string ClusterNetwork { get; set; } = "";
    public long LeaseSeconds { get; set; }
    public string LeaseKey { get; set; } = "";
    public string LeaseValue { get; set; } = "";
    public long LeaseId { get; set; }
    public DateTimeOffset? Expires { get; set; }
    public List<ClusterPeer> Peers { get; set; } = [];

    [JsonIgnore] public ClusterBackend BackendKind => Backend == "vxlan" ? ClusterBackend.Vxlan : ClusterBackend.HostGateway;
    [JsonIgnore] public IPNetwork SubnetNetwork => IPNetwork.Parse(Subnet);
    [JsonIgnore] public IPAddress PublicAddress => IPAddress.Parse(PublicIP);

    [JsonIgnore]
    public ClusterNodeLease Lease => new()
    {
        Subnet = SubnetNetwork, PublicIP = PublicAddress, BackendType = Backend, Vni = Backend == "vxlan" ? Vni : null, VtepMac = VtepMac,
        Node = Node, Key = LeaseKey, Value = LeaseValue, LeaseId = LeaseId, Expires = Expires,
    };

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string PathIn(string stateRoot) => System.IO.Path.Combine(stateRoot, "cluster", "node.json");

    public static ClusterMembership? Read(string stateRoot)
    {
        var path = PathIn(stateRoot);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<ClusterMembership>(File.ReadAllText(path), Json); }
        catch (JsonException e)
        {
            throw new ContainerNetworkingException("ClusterRecordCorrupt", ErrorKind.InvalidOperation,
                $"The cluster record {path} cannot be read ({e.Message}). Remove the file and connect again (Connect-ContainerCluster).", e);
        }
    }

    public void Write(string stateRoot)
    {
        var path = PathIn(stateRoot);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(this, Json));
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>An entry set that a node programmed for another node: its subnet, public address and (vxlan) VTEP MAC.</summary>
public sealed record ClusterPeer(string Subnet, string PublicIP, string? VtepMac, string? Node)
{
    public override string ToString() => $"{Subnet} via {PublicIP}{(VtepMac is null ? "" : " (VTEP " + VtepMac + ")")}";
}
