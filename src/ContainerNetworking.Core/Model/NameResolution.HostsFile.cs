using System.Text;
using ContainerNetworking.Interop;

namespace ContainerNetworking.Model;

// A network's hosts file written from what this process wrote last: a connect appends its container's lines, a
// disconnect rewrites what follows the leaving container's, instead of the whole file each time.
public sealed partial class NameResolution
{
    /// <summary>
    /// A network's hosts file as this process last wrote it: its bytes, the endpoints it lists in order (each with the
    /// length of its lines), the file's stamp once written and the store's <see cref="StateStore.CacheEpoch"/> then.
    /// </summary>
    private sealed class HostsImage
    {
        public byte[] Bytes = [];
        public int Length;
        public int HeaderLength;
        public List<(ContainerEndpoint Endpoint, int Length)> Entries = [];
        public DurableFile.FileStamp Stamp;
        public long Epoch;
    }

    private readonly Dictionary<string, HostsImage> _hostsImages = new(StringComparer.Ordinal);

    /// <summary>
    /// Writes a network's hosts file, in place, listing <paramref name="members"/> as <see cref="Hosts"/> does. When the
    /// file is exactly as this process last wrote it (its stamp unchanged, nobody else changed the store since, the lock
    /// held) only what changed is written: from the first line that differs to the end (a connect: its own lines, at
    /// the end; a disconnect: the lines after the leaving container's), cut when it got shorter. Anything else (a file
    /// edited or deleted by hand, another process's change, the first write of this process) writes the whole file.
    /// Either way the file ends up byte for byte what <see cref="Hosts"/> gives.
    /// </summary>
    private void WriteHostsFile(string network, List<ContainerEndpoint> members)
    {
        if (!InConnectOrder(members)) members = [.. members.OrderBy(e => e.Created)];
        var path = State.NetworkHostsPath(network);
        HostsImage? image;
        lock (_hostsImages) _hostsImages.Remove(network, out image);
        var holding = State.HoldsLock;
        if (image is not null && (!holding || image.Epoch != State.CacheEpoch || DurableFile.Stamp(path) != image.Stamp)) image = null;
        image = image is null ? WriteWholeHostsFile(network, path, members) : WriteHostsFileTail(path, image, members);
        if (holding) lock (_hostsImages) _hostsImages[network] = image;
    }

    private static bool InConnectOrder(List<ContainerEndpoint> members)
    {
        for (var i = 1; i < members.Count; i++)
            if (members[i - 1].Created > members[i].Created) return false;
        return true;
    }

    private HostsImage WriteWholeHostsFile(string network, string path, List<ContainerEndpoint> members)
    {
        var image = new HostsImage();
        var header = Encoding.UTF8.GetBytes(HostsHeader(network));
        Append(image, header);
        image.HeaderLength = header.Length;
        foreach (var m in members)
        {
            var lines = Encoding.UTF8.GetBytes(HostsLines(m));
            Append(image, lines);
            image.Entries.Add((m, lines.Length));
        }
        image.Stamp = State.WriteFileInPlace(path, image.Bytes.AsSpan(0, image.Length), 0, cut: true);
        image.Epoch = State.CacheEpoch;
        return image;
    }

    private HostsImage WriteHostsFileTail(string path, HostsImage image, List<ContainerEndpoint> members)
    {
        var old = image.Entries;
        var i = 0;
        var offset = image.HeaderLength;
        while (i < old.Count && i < members.Count && Keeps(image, old[i], offset, members[i]))
            offset += old[i++].Length;
        // What follows: the lines of the endpoints from the first that differs on, taken from the old file where it has
        // them (a disconnect leaves one out: that one is skipped), made anew otherwise.
        var tail = new List<byte>();
        var entries = old.GetRange(0, i);
        for (int j = i, k = i, at = offset; j < members.Count; j++)
        {
            var m = members[j];
            if (k + 1 < old.Count && !Keeps(image, old[k], at, m) && Keeps(image, old[k + 1], at + old[k].Length, m))
                at += old[k++].Length;
            if (k < old.Count && Keeps(image, old[k], at, m))
            {
                tail.AddRange(image.Bytes.AsSpan(at, old[k].Length));
                entries.Add((m, old[k].Length));
                at += old[k++].Length;
                continue;
            }
            var lines = Encoding.UTF8.GetBytes(HostsLines(m));
            tail.AddRange(lines);
            entries.Add((m, lines.Length));
        }
        var length = offset + tail.Count;
        var bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tail);
        if (length != image.Length || !bytes.SequenceEqual(image.Bytes.AsSpan(offset, image.Length - offset)))
        {
            // A write that fails half-way throws before the image is kept again: the file is written whole next time.
            image.Stamp = State.WriteFileInPlace(path, bytes, offset, cut: length < image.Length);
            image.Length = offset;
            Append(image, bytes);
        }
        image.Entries = entries;
        image.Epoch = State.CacheEpoch;
        return image;
    }

    /// <summary>Whether the old file's lines of <paramref name="entry"/> (at <paramref name="at"/>) are <paramref name="e"/>'s: the same record, or one with the same id and lines.</summary>
    private static bool Keeps(HostsImage image, (ContainerEndpoint Endpoint, int Length) entry, int at, ContainerEndpoint e) =>
        ReferenceEquals(entry.Endpoint, e)
        || (entry.Endpoint.Id == e.Id && Encoding.UTF8.GetBytes(HostsLines(e)).AsSpan().SequenceEqual(image.Bytes.AsSpan(at, entry.Length)));

    private static void Append(HostsImage image, ReadOnlySpan<byte> bytes)
    {
        if (image.Length + bytes.Length > image.Bytes.Length)
            Array.Resize(ref image.Bytes, Math.Max(image.Length + bytes.Length, image.Bytes.Length * 2));
        bytes.CopyTo(image.Bytes.AsSpan(image.Length));
        image.Length += bytes.Length;
    }
}
