using System.Net;
using System.Text;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Model;

/// <summary>
/// Name resolution between the containers of a network, without a daemon, the way <c>ip netns exec</c> offers it: each
/// network keeps a hosts file (ROOT/networks/NAME/etc/hosts: localhost, then every container of the network by name and
/// aliases with its addresses) and a copy of the host's resolv.conf (loopback name servers left out, as Docker does for
/// user networks without its embedded DNS), and each container whose namespace is named (/run/netns/NAME) gets
/// /etc/netns/NAME/hosts and resolv.conf, which <c>ip netns exec</c> and Invoke-NetNamespace bind-mount over /etc's:
/// /etc/netns/NAME is a symbolic link to its network's directory of them (ROOT/networks/NET/etc), or, for a container
/// on several networks, a directory of its own with a hosts file listing the containers of all of them (and where the
/// user keeps a directory of their own files there, our files are added to it: hard links to the network's). A link,
/// not a directory per container: a directory owns a disk block, and freeing one costs a discard on this project's
/// disk (1.5 ms per Disconnect). Kept current under the state lock on every connect and disconnect (so a connect
/// writes one file, however many containers the network has: only its own lines, at the end, when the file is as this
/// process last wrote it, see <see cref="WriteHostsFile"/>). The network's hosts file is rewritten in place, as
/// Docker rewrites a container's /etc/hosts: it keeps its inode, so the containers' links, and the /etc/hosts that a
/// running process bind-mounted through them, see every change; and no inode is made or freed per connect (see <see cref="Interop.DurableFile.WriteInPlace(string, byte[])"/>). A resolver
/// reading it at the very moment of a rewrite may see the old tail after the new content; a connect killed half-way may
/// leave it listing that container, which Repair puts right. Nothing is fsync'ed (they describe containers, which a
/// power cut ends) but the network's resolv.conf copy. The files are removed when the container leaves its last
/// network. Only files written here (a link to a network's file in a state directory, or a file whose first line is
/// <see cref="Marker"/>) are ever replaced or removed. Containers whose namespace is given by path get no files (they
/// are still listed for the others).
/// </summary>
public sealed partial class NameResolution : ModelService
{
    /// <summary>The first line of every hosts file written here.</summary>
    public const string Marker = "# Written by ContainerNetworking: the containers of the network; rewritten on every connect and disconnect.";

    private const string ResolvMarker = "# Written by ContainerNetworking: a copy of the host's /etc/resolv.conf (loopback name servers left out).";

    private const string OurPrefix = "# Written by ContainerNetworking";

    private const string HostResolvConf = "/etc/resolv.conf";

    internal NameResolution(NetworkContext context) : base(context)
    {
    }

    /// <summary>/etc/netns/NAME: the directory <c>ip netns exec NAME</c> takes the container's /etc files from.</summary>
    public static string DirectoryOf(string ns) => Path.Combine(NetNamespace.EtcDirectory, ns);

    private static readonly System.Text.RegularExpressions.Regex HostName =
        new("^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>"InvalidName" for an alias that is not a host name (a hosts file line would not carry it).</summary>
    internal static void ValidateAliases(IEnumerable<string> aliases)
    {
        foreach (var a in aliases)
            if (!HostName.IsMatch(a))
                throw new ContainerNetworkingException("InvalidName", ErrorKind.InvalidArgument,
                    $"Alias '{a}' is not a host name. Use letters, digits, '-', '_' and '.', starting with a letter or digit, at most 253 characters.");
    }

    private static bool Named(string? ns) => !string.IsNullOrEmpty(ns) && !ns.StartsWith('/');

    /// <summary>The endpoints whose names are listed: bridge endpoints with an address that are not being removed.</summary>
    private List<ContainerEndpoint> Listed(string? exceptId) => Listed(exceptId, out _);

    /// <summary>
    /// <see cref="Listed(string?)"/>, and those of each network (in the order they connected) gathered in the same pass:
    /// with many containers, each pass over their records costs mostly the memory it touches.
    /// </summary>
    private List<ContainerEndpoint> Listed(string? exceptId, out Dictionary<string, List<ContainerEndpoint>> byNetwork)
    {
        var listed = new List<ContainerEndpoint>();
        byNetwork = new(StringComparer.Ordinal);
        List<ContainerEndpoint>? strays = null; // a record (edited by hand) that names another network than its directory's
        foreach (var n in State.ListNetworks())
        {
            var members = byNetwork.TryGetValue(n.Name, out var m) ? m : byNetwork[n.Name] = [];
            foreach (var e in State.ListEndpoints(n.Name))
                if (e.Id != exceptId && e.Mode == EndpointMode.Bridge && e.State != RecordState.Removing && (e.IPv4Address ?? e.IPv6Address) is not null)
                {
                    listed.Add(e);
                    if (e.Network == n.Name) members.Add(e);
                    else (strays ??= []).Add(e);
                }
        }
        foreach (var e in strays ?? [])
            (byNetwork.TryGetValue(e.Network, out var m) ? m : byNetwork[e.Network] = []).Add(e);
        return listed;
    }

    /// <summary>The listed endpoints of <paramref name="network"/>.</summary>
    private List<ContainerEndpoint> MembersOf(string network)
    {
        Listed(null, out var byNetwork);
        return byNetwork.GetValueOrDefault(network) ?? [];
    }

    /// <summary>
    /// Rewrites the hosts files of <paramref name="networks"/> and the files of the containers in
    /// <paramref name="touched"/> (connecting or leaving; removed when they are on no network any more) and of the
    /// containers of those networks that are on several (their own files list all of them). <paramref name="exceptId"/>:
    /// an endpoint to leave out (one whose connect is being undone). A network's files that no container uses any more
    /// go last, after the containers' links to them (so a process killed in between leaves no link that Repair could not
    /// tell for ours).
    /// </summary>
    internal void Refresh(IReadOnlyCollection<string> networks, IReadOnlyCollection<string> touched, string? exceptId = null)
    {
        var all = Listed(exceptId, out var byNetwork);
        foreach (var n in networks) WriteNetworkFiles(n, byNetwork.GetValueOrDefault(n) ?? []);
        foreach (var ns in touched.Where(Named).Concat(OnSeveral(networks, all)).Distinct(StringComparer.Ordinal))
            WriteContainerFiles(ns, all.FindAll(e => e.Namespace == ns), all);
        foreach (var n in networks) RemoveUnusedNetworkFiles(n, all);
    }

    /// <summary>
    /// The named containers of <paramref name="networks"/> that are on another network too (listed in
    /// <paramref name="all"/>): only the namespaces of other networks are gathered, so a container's connect to a
    /// network of its own costs nothing per container of that network.
    /// </summary>
    private static IEnumerable<string> OnSeveral(IReadOnlyCollection<string> networks, List<ContainerEndpoint> all)
    {
        foreach (var n in networks)
        {
            HashSet<string>? elsewhere = null;
            foreach (var e in all)
                if (e.Network != n && Named(e.Namespace)) (elsewhere ??= new(StringComparer.Ordinal)).Add(e.Namespace!);
            if (elsewhere is null) continue;
            foreach (var e in all)
                if (e.Network == n && Named(e.Namespace) && elsewhere.Contains(e.Namespace!)) yield return e.Namespace!;
        }
    }

    /// <summary>Writes a network's hosts file (in place) and its resolv.conf copy (once) while it has containers (its listed endpoints: <paramref name="members"/>).</summary>
    private void WriteNetworkFiles(string network, List<ContainerEndpoint> members)
    {
        if (members.Count == 0) return;
        WriteHostsFile(network, members);
        if (!File.Exists(State.NetworkResolvConfPath(network)) && ResolvConf(network) is { } resolv)
            State.WriteFileAtomically(State.NetworkResolvConfPath(network), resolv);
    }

    /// <summary>Removes a network's hosts file and resolv.conf copy when it has no container (and the network may be going).</summary>
    private void RemoveUnusedNetworkFiles(string network, List<ContainerEndpoint> all)
    {
        if (all.Any(e => e.Network == network)) return;
        State.RemoveFile(State.NetworkHostsPath(network));
        State.RemoveFile(State.NetworkResolvConfPath(network));
    }

    /// <summary>
    /// The second line of every file written here: the state directory of the network it belongs to (for a container's
    /// own file, of its first network). Hard links keep no path, so this is how Repair tells a container's file left
    /// behind for one of its own (even once the network's file is gone) from one of another state directory's.
    /// </summary>
    private string StateLine(string network) => StatePrefix + Path.GetDirectoryName(State.NetworkEtcDirectory(network));

    private const string StatePrefix = "# State: ";

    /// <summary>The hosts file listing <paramref name="endpoints"/> (in the order they connected), after localhost; of <paramref name="network"/>'s state.</summary>
    private string Hosts(IEnumerable<ContainerEndpoint> endpoints, string network)
    {
        var sb = new StringBuilder(HostsHeader(network));
        foreach (var e in endpoints.OrderBy(e => e.Created)) sb.Append(HostsLines(e));
        return sb.ToString();
    }

    /// <summary>What every hosts file starts with: <see cref="Marker"/>, the state line, localhost.</summary>
    private string HostsHeader(string network) =>
        Marker + "\n" + StateLine(network) + "\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";

    /// <summary>An endpoint's lines in a hosts file: one per address, "ADDRESS\tNAME ALIASES".</summary>
    private static string HostsLines(ContainerEndpoint e)
    {
        var names = string.Join(' ', new[] { e.Container }.Concat(e.Aliases).Distinct(StringComparer.Ordinal));
        var sb = new StringBuilder();
        foreach (var a in new[] { e.IPv4Address, e.IPv6Address })
            if (a is not null) sb.Append(a).Append('\t').Append(names).Append('\n');
        return sb.ToString();
    }

    /// <summary>The host's resolv.conf without loopback name servers (unreachable from a container's namespace); null when it has none.</summary>
    private string? ResolvConf(string network)
    {
        string[] lines;
        try { lines = File.ReadAllLines(HostResolvConf); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        var sb = new StringBuilder().Append(ResolvMarker).Append('\n').Append(StateLine(network)).Append('\n');
        foreach (var l in lines)
        {
            var f = l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 2 && f[0] == "nameserver" && IPAddress.TryParse(f[1], out var ns) && IPAddress.IsLoopback(ns)) continue;
            sb.Append(l).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// What a container's name files should be: for one network, its directory of them (Shared, which /etc/netns/NAME
    /// links to); for several, the text of a hosts file of its own (Text), beside a resolv.conf linked to the first
    /// network's (ResolvLink).
    /// </summary>
    private (string? Shared, string? Text, string ResolvLink) Expected(List<ContainerEndpoint> mine, List<ContainerEndpoint> all)
    {
        var nets = mine.OrderBy(e => e.Created).Select(e => e.Network).Distinct(StringComparer.Ordinal).ToList();
        var resolv = State.NetworkResolvConfPath(nets[0]);
        return nets.Count == 1
            ? (State.NetworkEtcDirectory(nets[0]), null, resolv)
            : (null, Hosts(all.Where(e => nets.Contains(e.Network)), nets[0]), resolv);
    }

    private void WriteContainerFiles(string ns, List<ContainerEndpoint> mine, List<ContainerEndpoint> all)
    {
        if (mine.Count == 0)
        {
            Remove(ns);
            return;
        }
        var dir = DirectoryOf(ns);
        var link = new FileInfo(dir).LinkTarget;
        if (link is not null && !OursDirectoryLink(link)) return; // someone else's link: left alone
        var (shared, text, resolvLink) = Expected(mine, all);
        if (link is null && Directory.Exists(dir) && HasOthersFiles(dir))
        {
            // The user's own directory (their resolv.conf, say): our files go into it, one by one.
            WriteFilesInto(dir, shared, text, resolvLink);
            return;
        }
        if (shared is not null)
        {
            if (link == shared) return;
            RemoveOurs(dir, link);
            // A directory that could not go (something appeared in it meanwhile) keeps our files instead.
            if (Directory.Exists(dir) && new FileInfo(dir).LinkTarget is null) WriteFilesInto(dir, shared, text, resolvLink);
            else State.LinkAtomically(dir, shared);
            return;
        }
        if (link is not null) State.RemoveFile(dir);
        WriteFilesInto(dir, null, text, resolvLink);
    }

    /// <summary>
    /// Our files in a directory of /etc/netns: hosts, a hard link to the network's (<paramref name="shared"/>) or our own
    /// <paramref name="text"/>; resolv.conf, a hard link to <paramref name="resolvLink"/>. Files of someone else's are
    /// left alone (a hosts of theirs: nothing is written).
    /// </summary>
    private void WriteFilesInto(string dir, string? shared, string? text, string resolvLink)
    {
        var hosts = Path.Combine(dir, "hosts");
        if (Present(hosts) && !Ours(hosts)) return; // someone else's: left alone, with their resolv.conf
        if (shared is not null)
        {
            var target = Path.Combine(shared, "hosts");
            if (!LinksTo(hosts, target)) State.HardLinkAtomically(hosts, target);
        }
        // Renamed over, never written in place: the name may still be a hard link to a network's file.
        else State.WriteFileAtomically(hosts, text!);
        var resolv = Path.Combine(dir, "resolv.conf");
        if ((!Present(resolv) || Ours(resolv)) && !LinksTo(resolv, resolvLink) && File.Exists(HostResolvConf))
            State.HardLinkAtomically(resolv, resolvLink);
    }

    /// <summary>Whether a directory of /etc/netns holds anything but our files (hosts, resolv.conf written here) and temporary files of ours.</summary>
    private static bool HasOthersFiles(string dir) =>
        Directory.EnumerateFileSystemEntries(dir).Any(f => StateStore.TemporaryFileWriter(f) is null && !(Path.GetFileName(f) is "hosts" or "resolv.conf" && Ours(f)));

    /// <summary>
    /// Takes away what was ours at /etc/netns/NAME: our link (<paramref name="link"/>), or our files (and the temporary
    /// ones of killed writers) and then the directory when nothing else is in it.
    /// </summary>
    private void RemoveOurs(string dir, string? link)
    {
        if (link is not null)
        {
            State.RemoveFile(dir);
            return;
        }
        if (!Directory.Exists(dir)) return;
        foreach (var name in new[] { "hosts", "resolv.conf" })
        {
            var path = Path.Combine(dir, name);
            if (Present(path) && Ours(path)) State.RemoveFile(path);
        }
        foreach (var t in StateStore.DeadWritersFiles(dir)) State.RemoveFile(t);
        State.RemoveEmptyDirectory(dir);
    }

    /// <summary>
    /// Whether a container's file <paramref name="path"/> is the network's file <paramref name="target"/>: a hard link to
    /// it, or a symbolic link to it (where the file systems allow no hard link).
    /// </summary>
    private static bool LinksTo(string path, string target) =>
        new FileInfo(path).LinkTarget is { } t ? t == target : Interop.DurableFile.SameFile(path, target);

    /// <summary>Removes what was written here for <paramref name="ns"/>: its link, or its files and /etc/netns/NAME when nothing else is in it.</summary>
    private void Remove(string ns)
    {
        var dir = DirectoryOf(ns);
        var link = new FileInfo(dir).LinkTarget;
        if (link is not null && !OursDirectoryLink(link)) return;
        RemoveOurs(dir, link);
    }

    /// <summary>A link written here as /etc/netns/NAME: to a network's directory of name files in a state directory (ROOT/networks/NET/etc).</summary>
    private static bool OursDirectoryLink(string target) =>
        Path.GetFileName(target) == "etc" && Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(target))) == "networks";

    /// <summary>A file or a link (a dangling one too) is there.</summary>
    private static bool Present(string path) => File.Exists(path) || new FileInfo(path).LinkTarget is not null;

    /// <summary>Written here: a symbolic link to a network's file in a state directory (ROOT/networks/NAME/etc/hosts or resolv.conf), or a file whose first line is ours (a hard link to a network's file is one).</summary>
    private static bool Ours(string path)
    {
        if (new FileInfo(path).LinkTarget is { } target)
            return Path.GetFileName(target) is "hosts" or "resolv.conf" && Path.GetDirectoryName(target) is { } etc && OursDirectoryLink(etc);
        try
        {
            using var r = new StreamReader(path);
            return r.ReadLine()?.StartsWith(OurPrefix, StringComparison.Ordinal) == true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// For Repair: the files that are missing or not as the records say (a network's hosts file, a container's hosts or
    /// resolv.conf deleted or changed by hand, a container whose networks changed while it was not looked at), and
    /// temporary files that writers killed mid-write left in a container's /etc/netns/NAME; each with its fix.
    /// </summary>
    internal IReadOnlyList<(string Network, string Object, string Detail, Action Fix)> FindStale()
    {
        var found = new List<(string, string, string, Action)>();
        var all = Listed(null);
        var members = all.ToLookup(e => e.Network, StringComparer.Ordinal);
        foreach (var net in State.ListNetworks().Where(n => n.State == RecordState.Ready).Select(n => n.Name))
        {
            var path = State.NetworkHostsPath(net);
            if (!members[net].Any())
            {
                // No container left: a Disconnect killed before it updated the names leaves the files behind.
                if (File.Exists(path) || File.Exists(State.NetworkResolvConfPath(net)))
                    found.Add((net, path, $"Network '{net}' has no container, but its name files ({path}) are still there; they are removed.",
                        () => RemoveUnusedNetworkFiles(net, Listed(null))));
                continue;
            }
            if (Read(path) != Hosts(members[net], net))
                found.Add((net, path, $"The hosts file of network '{net}', {path}, is {(File.Exists(path) ? "not as the records say" : "missing")}; it is written again.",
                    () => WriteNetworkFiles(net, MembersOf(net))));
        }
        foreach (var g in all.Where(e => Named(e.Namespace)).GroupBy(e => e.Namespace!, StringComparer.Ordinal))
        {
            var ns = g.Key;
            var mine = g.ToList();
            var dir = DirectoryOf(ns);
            var link = new FileInfo(dir).LinkTarget;
            if (link is not null && !OursDirectoryLink(link)) continue; // someone else's link
            var (shared, text, resolvLink) = Expected(mine, all);
            string? wrong; // the file that is missing or not as the records say; null: all is well
            if (link is null && Directory.Exists(dir))
            {
                foreach (var t in StateStore.DeadWritersFiles(dir))
                {
                    var file = t;
                    found.Add((mine[0].Network, t, $"{t} was being written by process {StateStore.TemporaryFileWriter(t)}, which was killed before it renamed it into place; it is removed.",
                        () => State.RemoveFile(file)));
                }
                var hosts = Path.Combine(dir, "hosts");
                var resolv = Path.Combine(dir, "resolv.conf");
                var others = HasOthersFiles(dir);
                if (Present(hosts) && !Ours(hosts)) continue; // someone else's hosts
                var hostsOk = shared is null ? Read(hosts) == text : others && LinksTo(hosts, Path.Combine(shared, "hosts"));
                var resolvOk = !File.Exists(HostResolvConf) || (Present(resolv) && !Ours(resolv)) || LinksTo(resolv, resolvLink);
                wrong = hostsOk && resolvOk ? null : hostsOk ? resolv : hosts;
            }
            else wrong = shared is not null && link == shared ? null : dir;
            if (wrong is null) continue;
            found.Add((mine[0].Network, dir,
                $"The name files of container '{mine[0].Container}' ({wrong}) are {(Present(wrong) || Directory.Exists(wrong) ? "not as the records say" : "missing")}: it would not resolve the other containers of its network{(mine.Count > 1 ? "s" : "")} by name. They are written again.",
                () => WriteContainerFiles(ns, [.. Listed(null).Where(e => e.Namespace == ns)], Listed(null))));
        }
        // Name files of this state directory's networks kept for containers no record lists (a record deleted by hand, a
        // namespace given up, a removal killed half-way): links into its networks/, or files naming it on their second
        // line (hard links keep no path).
        var ours = Path.Combine(State.Root, "networks") + "/";
        var listed = all.Where(e => Named(e.Namespace)).Select(e => e.Namespace!).ToHashSet(StringComparer.Ordinal);
        // Every entry: a link whose network directory is gone (a removal killed half-way) is listed as no directory.
        foreach (var dir in Directory.Exists(NetNamespace.EtcDirectory) ? Directory.EnumerateFileSystemEntries(NetNamespace.EtcDirectory) : [])
        {
            var ns = Path.GetFileName(dir);
            if (listed.Contains(ns)) continue;
            var network = new FileInfo(dir).LinkTarget is { } link
                ? (OursDirectoryLink(link) ? NetworkOf(link, ours) : null)
                : !Directory.Exists(dir) ? null
                : new[] { "hosts", "resolv.conf" }.Select(f => OwningNetwork(Path.Combine(dir, f), ours)).FirstOrDefault(n => n is not null);
            if (network is null) continue;
            found.Add((network, dir, $"{dir} holds the name files of container '{ns}', which is on no network of this host any more; they are removed.", () => Remove(ns)));
        }
        return found;
    }

    /// <summary>The network of the state directory <paramref name="ours"/> (ROOT/networks/) that a container's file was written for; null when it is not one of ours.</summary>
    private static string? OwningNetwork(string path, string ours)
    {
        if (new FileInfo(path).LinkTarget is { } target) return NetworkOf(target, ours);
        try
        {
            using var r = new StreamReader(path);
            if (r.ReadLine()?.StartsWith(OurPrefix, StringComparison.Ordinal) != true) return null;
            return r.ReadLine() is { } line && line.StartsWith(StatePrefix, StringComparison.Ordinal) ? NetworkOf(line[StatePrefix.Length..], ours) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>The network NET of a path ROOT/networks/NET[/…] under <paramref name="ours"/> (ROOT/networks/); null for a path elsewhere.</summary>
    private static string? NetworkOf(string path, string ours) =>
        path.StartsWith(ours, StringComparison.Ordinal) && path[ours.Length..].Split('/')[0] is { Length: > 0 } net ? net : null;

    private static string? Read(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
    }
}
