using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Interop;

namespace ContainerNetworking.Model;

// The records: networks, endpoints (cached per directory stamp) and leases, one file each.
public sealed partial class StateStore
{
    // ---- networks ------------------------------------------------------------------------------------------

    // While the lock is held, network records are served from memory too (copies: a caller may change what it gets) as
    // long as network.json is the file they were read from (DurableFile.Stamp: inode, size, times), and the list of
    // networks as long as ROOT/networks is unchanged: a Connect reads its network's record several times (the network,
    // the listing of every endpoint, the name files), and parsing one costs more than the rest of such a read. Cleared
    // with the endpoint cache when another holder changed anything (the lock file's counter); a change by hand moves
    // the stamps.
    private readonly Dictionary<string, (DurableFile.FileStamp Stamp, ContainerNetwork Network)> _networkCache = new(StringComparer.Ordinal);
    private (DurableFile.FileStamp Stamp, string[] Names)? _networkNames;

    public IReadOnlyList<ContainerNetwork> ListNetworks()
    {
        // The holder's Lock checked the state directory already.
        if (!HoldingLock()) CheckRoot();
        var list = new List<ContainerNetwork>();
        foreach (var name in NetworkNames())
            if (ReadNetwork(name) is { } n) list.Add(n);
        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    /// <summary>The directories of ROOT/networks (from memory while the lock is held and it is unchanged).</summary>
    private string[] NetworkNames()
    {
        var holding = HoldingLock();
        var stamp = holding ? DurableFile.Stamp(NetworksDir) : null;
        if (holding && stamp is null) return [];
        lock (_cacheSync)
            if (stamp is { } s && _networkNames is { } c && c.Stamp == s) return c.Names;
        if (!Directory.Exists(NetworksDir)) return [];
        var names = Directory.EnumerateDirectories(NetworksDir).Select(d => Path.GetFileName(d)).ToArray();
        lock (_cacheSync)
            if (stamp is { } s && Holding) _networkNames = (s, names);
        return names;
    }

    public ContainerNetwork? ReadNetwork(string name)
    {
        var path = Path.Combine(NetworkDir(name), "network.json");
        // Stamped before it is read: a change meanwhile makes the next stamp differ, never an old record pass for new.
        var stamp = HoldingLock() ? DurableFile.Stamp(path) : null;
        lock (_cacheSync)
            if (stamp is { } s && _networkCache.TryGetValue(name, out var c) && c.Stamp == s) return c.Network.Copy();
        var network = Read(path, RecordJson.ReadNetwork);
        lock (_cacheSync)
        {
            if (network is not null && stamp is { } s && Holding) _networkCache[name] = (s, network.Copy());
            else _networkCache.Remove(name);
        }
        // None there: a state directory that is a file is named as such, not as a missing network (checked only then).
        if (network is null) CheckRoot();
        return network;
    }

    public void WriteNetwork(ContainerNetwork network)
    {
        lock (_cacheSync) _networkCache.Remove(network.Name);
        Changing();
        EnsureDirectory(LeasesDir(network.Name));
        EnsureDirectory(EndpointsDir(network.Name));
        EnsureDirectory(NetworkEtcDirectory(network.Name));
        WriteBytes(Path.Combine(NetworkDir(network.Name), "network.json"), RecordJson.Write(network));
    }

    /// <summary>Removes a network's directory with everything in it.</summary>
    public void DeleteNetwork(string name)
    {
        var d = NetworkDir(name);
        if (!Directory.Exists(d)) return;
        // Rename first, so that a crash half-way through the recursive delete leaves no half network behind.
        var trash = Path.Combine(Root, DeletedMarker + name + "-" + Guid.NewGuid().ToString("N"));
        Changing();
        Directory.Move(d, trash);
        Removed();
        DirectoryChanged(NetworksDir);
        DirectoryChanged(Root);
        lock (_cacheSync)
        {
            _endpointCache.Remove(name);
            _networkCache.Remove(name);
        }
        FaultInjection.Point("DeleteTrash");
        Directory.Delete(trash, recursive: true);
    }

    // ---- endpoints -----------------------------------------------------------------------------------------

    public IReadOnlyList<ContainerEndpoint> ListEndpoints(string network)
    {
        lock (_cacheSync)
        {
            if (Holding && _endpointCache.TryGetValue(network, out var cached) && cached.Stamp == DirectoryStamp(EndpointsDir(network)))
                return cached.Sorted ??= Sorted(cached.Items.Values);
        }
        var d = EndpointsDir(network);
        var stamp = DirectoryStamp(d);
        var list = new List<ContainerEndpoint>();
        if (Directory.Exists(d))
            foreach (var f in Directory.EnumerateFiles(d, "*.json"))
                if (Read(f, RecordJson.ReadEndpoint) is { } e) list.Add(e);
        list = Sorted(list);
        lock (_cacheSync)
            if (Holding) _endpointCache[network] = new CachedEndpoints(stamp, list.ToDictionary(e => e.Id, StringComparer.Ordinal), list);
        return list;
    }

    /// <summary>Endpoints in the order they connected.</summary>
    private static List<ContainerEndpoint> Sorted(IEnumerable<ContainerEndpoint> endpoints)
    {
        var l = endpoints.ToList();
        l.Sort((a, b) => a.Created.CompareTo(b.Created));
        return l;
    }

    public IReadOnlyList<ContainerEndpoint> ListAllEndpoints()
    {
        var all = new List<ContainerEndpoint>();
        foreach (var n in ListNetworks()) all.AddRange(ListEndpoints(n.Name));
        return all;
    }

    public ContainerEndpoint? ReadEndpoint(string network, string id) => Read(Path.Combine(EndpointsDir(network), id + ".json"), RecordJson.ReadEndpoint);

    public void WriteEndpoint(ContainerEndpoint endpoint) => WriteEndpoint(endpoint, withStaged: false);

    /// <summary>
    /// Writes an endpoint's record (a new one renamed into place, an existing one overwritten in place: see
    /// <see cref="WriteRecord"/>); with <paramref name="withStaged"/>, after this hold's staged group
    /// (<see cref="CommitStaged"/>, say its lease) is put in place.
    /// </summary>
    public void WriteEndpoint(ContainerEndpoint endpoint, bool withStaged)
    {
        Changing();
        EnsureDirectory(EndpointsDir(endpoint.Network));
        var before = DirectoryStamp(EndpointsDir(endpoint.Network));
        var path = Path.Combine(EndpointsDir(endpoint.Network), endpoint.Id + ".json");
        // The staged files (its leases) first: the record says Ready only once they are in place.
        if (withStaged) CommitStaged();
        WriteRecord(path, RecordJson.Write(endpoint));
        Cached(endpoint.Network, before, endpoint.Id, endpoint);
    }

    public void DeleteEndpoint(string network, string id)
    {
        Changing();
        var before = DirectoryStamp(EndpointsDir(network));
        DeleteFile(Path.Combine(EndpointsDir(network), id + ".json"));
        Cached(network, before, id, null);
    }

    /// <summary>
    /// After this holder's own change of a network's endpoint records: applies it to the cached records and moves their
    /// stamp to the directory's time now. The stamp moves only when the cached records matched the directory before,
    /// so a change by hand made meanwhile is still noticed (by the next listing) rather than adopted.
    /// </summary>
    private void Cached(string network, DateTime before, string id, ContainerEndpoint? written)
    {
        lock (_cacheSync)
        {
            if (!Holding || !_endpointCache.TryGetValue(network, out var c)) return;
            if (c.Stamp != before)
            {
                _endpointCache.Remove(network);
                return;
            }
            if (written is null) c.Items.Remove(id);
            else c.Items[id] = written;
            c.Sorted = c.Sorted is { } sorted ? SortedWith(sorted, id, written) : null;
            c.Stamp = DirectoryStamp(EndpointsDir(network));
        }
    }

    /// <summary>
    /// A copy of <paramref name="sorted"/> with the endpoint <paramref name="id"/> replaced by <paramref name="written"/>
    /// (taken away when null; put in its place by time of connecting when new), without sorting it all again.
    /// </summary>
    private static List<ContainerEndpoint> SortedWith(List<ContainerEndpoint> sorted, string id, ContainerEndpoint? written)
    {
        var l = new List<ContainerEndpoint>(sorted.Count + 1);
        l.AddRange(sorted);
        var at = l.FindIndex(e => e.Id == id);
        if (at >= 0 && written is not null && l[at].Created == written.Created)
        {
            l[at] = written;
            return l;
        }
        if (at >= 0) l.RemoveAt(at);
        if (written is null) return l;
        var i = l.Count;
        while (i > 0 && l[i - 1].Created > written.Created) i--;
        l.Insert(i, written);
        return l;
    }

    // ---- leases --------------------------------------------------------------------------------------------

    /// <summary>Every leased address of a network and the endpoint id that holds it.</summary>
    public IReadOnlyDictionary<IPAddress, string> Leases(string network)
    {
        var d = LeasesDir(network);
        var map = new Dictionary<IPAddress, string>();
        if (!Directory.Exists(d)) return map;
        foreach (var f in Directory.EnumerateFiles(d))
        {
            if (!IPAddress.TryParse(Path.GetFileName(f), out var a)) continue; // temporary files
            try { map[a] = File.ReadAllText(f).Trim(); }
            catch (FileNotFoundException) { }
        }
        foreach (var (path, tmp) in StagedIn(d))
            if (IPAddress.TryParse(Path.GetFileName(path), out var a)) map[a] = File.ReadAllText(tmp).Trim();
        return map;
    }

    /// <summary>True when <paramref name="address"/> is leased in <paramref name="network"/> (one file lookup, not a listing), staged leases of this hold included.</summary>
    public bool IsLeased(string network, IPAddress address)
    {
        var f = Path.Combine(LeasesDir(network), address.ToString());
        return File.Exists(f) || IsStaged(f);
    }

    /// <summary>Writes the lease file of <paramref name="address"/> (call under the lock, after checking it is free).</summary>
    public void WriteLease(string network, IPAddress address, string endpointId) => WriteLease(network, address, endpointId, staged: false);

    /// <summary>
    /// Writes the lease file of <paramref name="address"/>; <paramref name="staged"/>: as part of this hold's group, put
    /// in place by the group's commit (<see cref="WriteEndpoint(ContainerEndpoint, bool)"/>, <see cref="CommitStaged"/>)
    /// or not at all if the hold ends first.
    /// </summary>
    public void WriteLease(string network, IPAddress address, string endpointId, bool staged)
    {
        Changing();
        EnsureDirectory(LeasesDir(network));
        var path = Path.Combine(LeasesDir(network), address.ToString());
        if (staged) Stage(path, System.Text.Encoding.UTF8.GetBytes(endpointId));
        else WriteText(path, endpointId);
    }

    /// <summary>
    /// Notes <paramref name="address"/> as the last one reserved (where the next dynamic allocation starts looking), as
    /// host-local's last_reserved_ip: call once the operation that leased it succeeded, so that a failed one does not move
    /// it. A hint: written in place (<see cref="DurableFile.WriteInPlace(string, byte[])"/>: not truncated first, so ext4 starts no
    /// writeback on close), without rename or fsync; read back as nothing when it is torn or lost, which only makes the
    /// search start at the beginning.
    /// </summary>
    public void WriteLastReserved(string network, IPAddress address)
    {
        Changing();
        DurableFile.WriteInPlace(Path.Combine(NetworkDir(network), LastReservedName(address.AddressFamily)), System.Text.Encoding.ASCII.GetBytes(address.ToString()));
    }

    /// <summary>Removes the lease of <paramref name="address"/> if <paramref name="endpointId"/> (or anyone, when null) holds it.</summary>
    public bool ReleaseLease(string network, IPAddress address, string? endpointId)
    {
        var f = Path.Combine(LeasesDir(network), address.ToString());
        if (IsStaged(f) && (endpointId is null || Leases(network).GetValueOrDefault(address) == endpointId)) return Unstage(f);
        if (!File.Exists(f)) return false;
        if (endpointId is not null && File.ReadAllText(f).Trim() != endpointId) return false;
        Changing();
        DeleteFile(f);
        return true;
    }

    public IPAddress? LastReserved(string network, AddressFamily family)
    {
        var f = Path.Combine(NetworkDir(network), LastReservedName(family));
        try { return IPAddress.TryParse(File.ReadAllText(f).Trim(), out var a) ? a : null; }
        catch (IOException) { return null; }
    }

    private static string LastReservedName(AddressFamily f) => f == AddressFamily.InterNetwork ? "last_reserved_ip.4" : "last_reserved_ip.6";
}
