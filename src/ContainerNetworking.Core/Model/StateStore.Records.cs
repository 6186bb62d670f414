using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ContainerNetworking.Interop;

namespace ContainerNetworking.Model;

// The records: networks, endpoints (cached per directory stamp) and leases, one file each.
public sealed partial class StateStore
{
    // ---- networks ------------------------------------------------------------------------------------------

    public IReadOnlyList<ContainerNetwork> ListNetworks()
    {
        CheckRoot();
        if (!Directory.Exists(NetworksDir)) return [];
        var list = new List<ContainerNetwork>();
        foreach (var d in Directory.EnumerateDirectories(NetworksDir))
            if (ReadNetwork(Path.GetFileName(d)) is { } n) list.Add(n);
        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    public ContainerNetwork? ReadNetwork(string name)
    {
        var network = Read(Path.Combine(NetworkDir(name), "network.json"), StateJson.Default.ContainerNetwork);
        // None there: a state directory that is a file is named as such, not as a missing network (checked only then).
        if (network is null) CheckRoot();
        return network;
    }

    public void WriteNetwork(ContainerNetwork network)
    {
        Changing();
        EnsureDirectory(LeasesDir(network.Name));
        EnsureDirectory(EndpointsDir(network.Name));
        EnsureDirectory(NetworkEtcDirectory(network.Name));
        Write(Path.Combine(NetworkDir(network.Name), "network.json"), network, StateJson.Default.ContainerNetwork);
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
        lock (_cacheSync) _endpointCache.Remove(name);
        FaultInjection.Point("DeleteTrash");
        Directory.Delete(trash, recursive: true);
    }

    // ---- endpoints -----------------------------------------------------------------------------------------

    public IReadOnlyList<ContainerEndpoint> ListEndpoints(string network)
    {
        lock (_cacheSync)
        {
            if (Holding && _endpointCache.TryGetValue(network, out var cached) && cached.Stamp == DirectoryStamp(EndpointsDir(network)))
            {
                var l = cached.Items.Values.ToList();
                l.Sort((a, b) => a.Created.CompareTo(b.Created));
                return l;
            }
        }
        var d = EndpointsDir(network);
        var stamp = DirectoryStamp(d);
        var list = new List<ContainerEndpoint>();
        if (Directory.Exists(d))
            foreach (var f in Directory.EnumerateFiles(d, "*.json"))
                if (Read(f, StateJson.Default.ContainerEndpoint) is { } e) list.Add(e);
        list.Sort((a, b) => a.Created.CompareTo(b.Created));
        lock (_cacheSync)
            if (Holding) _endpointCache[network] = new CachedEndpoints(stamp, list.ToDictionary(e => e.Id, StringComparer.Ordinal));
        return list;
    }

    public IReadOnlyList<ContainerEndpoint> ListAllEndpoints() =>
        ListNetworks().SelectMany(n => ListEndpoints(n.Name)).ToList();

    public ContainerEndpoint? ReadEndpoint(string network, string id) => Read(Path.Combine(EndpointsDir(network), id + ".json"), StateJson.Default.ContainerEndpoint);

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
        WriteRecord(path, JsonSerializer.SerializeToUtf8Bytes(endpoint, StateJson.Default.ContainerEndpoint));
        Cached(endpoint.Network, before, c => c[endpoint.Id] = endpoint);
    }

    public void DeleteEndpoint(string network, string id)
    {
        Changing();
        var before = DirectoryStamp(EndpointsDir(network));
        DeleteFile(Path.Combine(EndpointsDir(network), id + ".json"));
        Cached(network, before, c => c.Remove(id));
    }

    /// <summary>
    /// After this holder's own change of a network's endpoint records: applies it to the cached records and moves their
    /// stamp to the directory's time now. The stamp moves only when the cached records matched the directory before,
    /// so a change by hand made meanwhile is still noticed (by the next listing) rather than adopted.
    /// </summary>
    private void Cached(string network, DateTime before, Action<Dictionary<string, ContainerEndpoint>> change)
    {
        lock (_cacheSync)
        {
            if (!Holding || !_endpointCache.TryGetValue(network, out var c)) return;
            if (c.Stamp != before)
            {
                _endpointCache.Remove(network);
                return;
            }
            change(c.Items);
            c.Stamp = DirectoryStamp(EndpointsDir(network));
        }
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
    /// it. A hint: written in place (<see cref="DurableFile.WriteInPlace"/>: not truncated first, so ext4 starts no
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
