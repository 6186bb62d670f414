using System.Net;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace ContainerNetworking.Cluster;

/// <summary>
/// The cluster's keys in etcd v3, laid out as flannel's: PREFIX/config and PREFIX/subnets/A.B.C.D-LEN, each lease key
/// tied to an etcd lease. Every write that decides who holds a subnet is a compare-and-swap transaction, so two nodes
/// (processes, machines) that race for a subnet never both get it. Every call has a deadline; an etcd that cannot be
/// reached gives ClusterStoreUnreachable naming the endpoint.
/// </summary>
public sealed class ClusterStore : IDisposable
{
    private readonly EtcdClient _client;
    private readonly TimeSpan _timeout;

    /// <param name="endpoint">etcd's client URL(s), e.g. http://127.0.0.1:2379 (several separated by commas).</param>
    /// <param name="prefix">The key prefix; flannel's /coreos.com/network by default.</param>
    /// <param name="timeout">The deadline of each call; 5 s by default.</param>
    public ClusterStore(string endpoint, string prefix = ClusterConfig.DefaultPrefix, TimeSpan? timeout = null)
    {
        if (string.IsNullOrWhiteSpace(endpoint))
            throw new ContainerNetworkingException("InvalidStore", ErrorKind.InvalidArgument, "No etcd endpoint was given. Give -Store http://HOST:2379.");
        foreach (var e in endpoint.Split(','))
        {
            if (!Uri.TryCreate(e.Trim(), UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https"))
                throw new ContainerNetworkingException("InvalidStore", ErrorKind.InvalidArgument,
                    $"'{e}' is not an etcd client URL. Give one such as http://127.0.0.1:2379.");
        }
        if (string.IsNullOrEmpty(prefix) || !prefix.StartsWith('/') || prefix.EndsWith('/'))
            throw new ContainerNetworkingException("InvalidStore", ErrorKind.InvalidArgument,
                $"'{prefix}' is not a key prefix: it starts with '/' and does not end with one, e.g. {ClusterConfig.DefaultPrefix}.");
        Endpoint = endpoint;
        Prefix = prefix;
        _timeout = timeout ?? TimeSpan.FromSeconds(5);
        _client = new EtcdClient(endpoint, configureChannelOptions: o => o.Credentials = ChannelCredentials.Insecure);
    }

    public string Endpoint { get; }
    public string Prefix { get; }
    public string ConfigKey => Prefix + "/config";
    public string SubnetsPrefix => Prefix + "/subnets/";

    private DateTime Deadline => DateTime.UtcNow + _timeout;

    private T Call<T>(string what, Func<DateTime, T> call)
    {
        try { return call(Deadline); }
        catch (RpcException e)
        {
            throw new ContainerNetworkingException("ClusterStoreUnreachable", ErrorKind.OperationFailed,
                $"etcd at {Endpoint} could not {what} ({e.StatusCode}: {e.Status.Detail}). Check that etcd runs and listens there (etcd --listen-client-urls), or give the right -Store; nothing was changed on this node.", e);
        }
    }

    // ---- config -----------------------------------------------------------------------------------------------

    /// <summary>The config at PREFIX/config, or null when there is none.</summary>
    public ClusterConfig? GetConfig()
    {
        var r = Call("read the cluster config", d => _client.Get(ConfigKey, deadline: d));
        return r.Kvs.Count == 0 ? null : ClusterConfig.Parse(r.Kvs[0].Value.ToStringUtf8(), Endpoint, Prefix);
    }

    /// <summary>Writes the config unless one exists (a transaction: ClusterExists when another was there first).</summary>
    public ClusterConfig CreateConfig(ClusterConfig config)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = Bytes(ConfigKey), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Bytes(ConfigKey), Value = Bytes(config.ToJson()) } });
        var r = Call("write the cluster config", d => _client.Transaction(txn, deadline: d));
        if (!r.Succeeded)
            throw new ContainerNetworkingException("ClusterExists", ErrorKind.AlreadyExists,
                $"A cluster network is already configured at {ConfigKey} in etcd {Endpoint}. Read it with Get-ContainerCluster, or remove it first with Remove-ContainerCluster.");
        return config with { Store = Endpoint, Prefix = Prefix };
    }

    /// <summary>Deletes the config and every lease under the prefix (one transaction).</summary>
    public void DeleteCluster()
    {
        var txn = new TxnRequest();
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Bytes(ConfigKey) } });
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Bytes(SubnetsPrefix), RangeEnd = Bytes(RangeEnd(SubnetsPrefix)) } });
        Call("remove the cluster", d => _client.Transaction(txn, deadline: d));
    }

    // ---- leases -----------------------------------------------------------------------------------------------

    /// <summary>Every lease under PREFIX/subnets/ (values that are not flannel's are skipped), with their expiry when asked.</summary>
    public IReadOnlyList<ClusterNodeLease> GetLeases(bool withExpiry = false)
    {
        var r = Call("list the subnet leases", d => _client.Get(new RangeRequest { Key = Bytes(SubnetsPrefix), RangeEnd = Bytes(RangeEnd(SubnetsPrefix)) }, deadline: d));
        var list = new List<ClusterNodeLease>();
        foreach (var kv in r.Kvs)
        {
            if (ClusterNodeLease.Parse(Prefix, kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8()) is not { } l) continue;
            l = l with { LeaseId = kv.Lease, ModRevision = kv.ModRevision };
            if (withExpiry && kv.Lease != 0)
            {
                var ttl = Call("read a lease's time to live", d => _client.LeaseTimeToLive(new LeaseTimeToLiveRequest { ID = kv.Lease }, deadline: d));
                if (ttl.TTL > 0) l = l with { Expires = DateTimeOffset.UtcNow.AddSeconds(ttl.TTL) };
            }
            list.Add(l);
        }
        return list.OrderBy(l => Subnets.ToUInt(l.Subnet.BaseAddress)).ToList();
    }

    /// <summary>
    /// Takes <paramref name="subnet"/> if nobody holds it: grants an etcd lease of <paramref name="ttl"/> and writes the
    /// key with it in one transaction that succeeds only while the key does not exist. Null when someone holds it.
    /// </summary>
    public ClusterNodeLease? TryAcquire(IPNetwork subnet, string value, TimeSpan ttl)
    {
        var key = ClusterNodeLease.SubnetKey(Prefix, subnet);
        var lease = Grant(ttl);
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = Bytes(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Bytes(key), Value = Bytes(value), Lease = lease } });
        var r = Call($"lease subnet {subnet}", d => _client.Transaction(txn, deadline: d));
        if (!r.Succeeded)
        {
            Revoke(lease);
            return null;
        }
        return Parsed(key, value, lease, r.Header.Revision, ttl);
    }

    /// <summary>
    /// Renews a lease this node holds (flannel's way: a new etcd lease and the key written again with it), optionally
    /// with a new value, in a transaction that succeeds only while the key still holds <paramref name="current"/>'s
    /// value (or, after a takeover by the same address, the value given). Null when the key is gone or someone
    /// else's. The old etcd lease is revoked afterwards.
    /// </summary>
    public ClusterNodeLease? Renew(ClusterNodeLease current, string value, TimeSpan ttl)
    {
        var lease = Grant(ttl);
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = Bytes(current.Key), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = Bytes(current.Value) });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Bytes(current.Key), Value = Bytes(value), Lease = lease } });
        var r = Call($"renew the lease of {current.Subnet}", d => _client.Transaction(txn, deadline: d));
        if (!r.Succeeded)
        {
            Revoke(lease);
            return null;
        }
        if (current.LeaseId != 0 && current.LeaseId != lease) Revoke(current.LeaseId);
        return Parsed(current.Key, value, lease, r.Header.Revision, ttl);
    }

    /// <summary>Deletes a lease this node holds (only while it holds <paramref name="current"/>'s value) and revokes its etcd lease.</summary>
    public bool Release(ClusterNodeLease current)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = Bytes(current.Key), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = Bytes(current.Value) });
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Bytes(current.Key) } });
        var r = Call($"release the lease of {current.Subnet}", d => _client.Transaction(txn, deadline: d));
        if (r.Succeeded && current.LeaseId != 0) Revoke(current.LeaseId);
        return r.Succeeded;
    }

    private long Grant(TimeSpan ttl)
    {
        var seconds = (long)Math.Ceiling(ttl.TotalSeconds);
        if (seconds < 2)
            throw new ContainerNetworkingException("InvalidLeaseDuration", ErrorKind.InvalidArgument, $"A lease of {ttl} is too short: give 2 seconds or more (flannel uses 24 hours).");
        return Call("grant a lease", d => _client.LeaseGrant(new LeaseGrantRequest { TTL = seconds }, deadline: d)).ID;
    }

    private void Revoke(long lease)
    {
        try { Call("revoke a lease", d => _client.LeaseRevoke(new LeaseRevokeRequest { ID = lease }, deadline: d)); }
        catch (ContainerNetworkingException) { /* it expires by itself */ }
    }

    private ClusterNodeLease Parsed(string key, string value, long lease, long revision, TimeSpan ttl) =>
        (ClusterNodeLease.Parse(Prefix, key, value) ?? throw new InvalidOperationException($"lease value for {key} does not parse: {value}"))
            with { LeaseId = lease, ModRevision = revision, Expires = DateTimeOffset.UtcNow + ttl };

    // ---- watch ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Calls <paramref name="changed"/> whenever a key under PREFIX/subnets/ changes (put, delete, expiry), until
    /// <paramref name="cancel"/> is cancelled. The callback runs on a thread of the gRPC client.
    /// </summary>
    public Task WatchLeases(Action changed, CancellationToken cancel)
    {
        var request = new WatchRequest { CreateRequest = new WatchCreateRequest { Key = Bytes(SubnetsPrefix), RangeEnd = Bytes(RangeEnd(SubnetsPrefix)) } };
        return _client.WatchAsync(request, (WatchResponse r) => { if (r.Events.Count > 0) changed(); }, cancellationToken: cancel);
    }

    private static ByteString Bytes(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>The range end that covers every key starting with <paramref name="prefix"/> (its last byte plus one).</summary>
    private static string RangeEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);

    public void Dispose() => _client.Dispose();
}
