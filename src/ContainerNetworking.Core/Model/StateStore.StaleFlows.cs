using System.Globalization;
using System.Net;

namespace ContainerNetworking.Model;

// The conntrack entries a removed container may have left: flushed when its address or UDP host port is used again.
public sealed partial class StateStore
{
    /// <summary>
    /// ROOT/networks/NAME/conntrack-pending/: one empty file per address (<c>172.17.0.5</c>, <c>fd00::5</c>) and per UDP
    /// host port (<c>udp-5353</c>) whose conntrack entries a removed container may have left in the kernel. A stale entry
    /// only misdirects traffic once the address is a container's again (old translated or masqueraded flows reach the
    /// new one) or, for UDP, once the port is published again (a client that sends from a fixed port keeps its old
    /// translation to the dead address); until then it is dropped and expires. So Disconnect only notes them here (two
    /// small files, where a flush walks the kernel's whole conntrack table), and the Connect that takes the address or
    /// publishes the port again flushes them first (<see cref="EndpointService"/>); removing the network flushes
    /// whatever is left. One file per key, not one list: a Connect looks its own keys up (one stat each) however many
    /// are pending, and neither side reads or rewrites the others.
    /// </summary>
    private string PendingDir(string network) => Path.Combine(NetworkDir(network), PendingDirName);

    private const string PendingDirName = "conntrack-pending";
    private const string UdpPrefix = "udp-";

    /// <summary>The name of an address's or a UDP host port's file in <see cref="PendingDir"/>.</summary>
    private static string PendingName(IPAddress a) => a.ToString();
    private static string PendingName(int udpPort) => UdpPrefix + udpPort.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Notes <paramref name="addresses"/> and <paramref name="udpPorts"/> as "conntrack flush pending" (call before the
    /// leases go, so that a killed process leaves a superset). Written as endpoint records are: nothing fsync'ed (a
    /// power cut takes the conntrack table with it).
    /// </summary>
    public void NoteStaleFlows(string network, IEnumerable<IPAddress> addresses, IEnumerable<int> udpPorts)
    {
        var names = addresses.Select(PendingName).Concat(udpPorts.Select(PendingName)).ToList();
        if (names.Count == 0) return;
        Changing();
        var dir = PendingDir(network);
        EnsureDirectory(dir);
        // A spare file when there is one (see SpareDirectory): its content says what it is, and is never read.
        foreach (var name in names) WriteBytes(Path.Combine(dir, name), PendingContent);
    }

    /// <summary>Which of <paramref name="addresses"/> and <paramref name="udpPorts"/> are pending (one lookup each; none, and no lookup, when nothing is).</summary>
    public (List<IPAddress> Addresses, List<int> UdpPorts) PendingStaleFlows(string network, IEnumerable<IPAddress> addresses, IEnumerable<int> udpPorts)
    {
        var dir = PendingDir(network);
        if (!Directory.Exists(dir)) return ([], []);
        return (addresses.Where(a => File.Exists(Path.Combine(dir, PendingName(a)))).ToList(),
            udpPorts.Distinct().Where(p => File.Exists(Path.Combine(dir, PendingName(p)))).ToList());
    }

    /// <summary>Everything pending of a network.</summary>
    public (List<IPAddress> Addresses, List<int> UdpPorts) PendingStaleFlows(string network)
    {
        var dir = PendingDir(network);
        if (!Directory.Exists(dir)) return ([], []);
        var addresses = new List<IPAddress>();
        var ports = new List<int>();
        foreach (var f in Directory.EnumerateFiles(dir))
        {
            var name = Path.GetFileName(f);
            if (IPAddress.TryParse(name, out var a)) addresses.Add(a);
            else if (name.StartsWith(UdpPrefix, StringComparison.Ordinal) &&
                int.TryParse(name.AsSpan(UdpPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is > 0 and <= 65535) ports.Add(p);
        }
        addresses.Sort((x, y) => string.CompareOrdinal(x.ToString(), y.ToString()));
        ports.Sort();
        return (addresses, ports);
    }

    /// <summary>Removes <paramref name="addresses"/> and <paramref name="udpPorts"/> from the pending ones (once their entries are flushed).</summary>
    public void ClearStaleFlows(string network, IEnumerable<IPAddress> addresses, IEnumerable<int> udpPorts)
    {
        var dir = PendingDir(network);
        var names = addresses.Select(PendingName).Concat(udpPorts.Select(PendingName)).ToList();
        if (names.Count == 0 || !Directory.Exists(dir)) return;
        Changing();
        // The directory stays while the network does: freeing its block and making it again costs a discard each time.
        foreach (var name in names) DeleteFile(Path.Combine(dir, name));
    }

    private static readonly byte[] PendingContent = "conntrack entries of this address or UDP port may be stale: flushed before it is used again"u8.ToArray();
}
