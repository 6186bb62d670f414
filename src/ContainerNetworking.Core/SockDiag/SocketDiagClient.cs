using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using ContainerNetworking.Netlink;

namespace ContainerNetworking.SockDiag;

/// <summary>
/// A socket bound to a local port (<c>ss -ltn</c>, <c>ss -lun</c>): TCP or SCTP listening, UDP bound and not
/// connected. <see cref="Address"/> 0.0.0.0 or :: means every address. <see cref="Inode"/> names the socket in
/// /proc/PID/fd (<c>socket:[INODE]</c>), <see cref="Uid"/> its owner.
/// </summary>
public sealed record BoundSocket(byte Protocol, IPAddress Address, ushort Port, uint Inode, uint Uid)
{
    /// <summary>True when it is bound to every address of its family (0.0.0.0, ::; :: takes IPv4 too unless v6only).</summary>
    public bool OnEveryAddress => Address.Equals(IPAddress.Any) || Address.Equals(IPAddress.IPv6Any);
}

/// <summary>
/// sock_diag (NETLINK_SOCK_DIAG, inet_diag): the sockets of a namespace, as <c>ss</c> reads them; never by parsing
/// /proc/net. Over a connection bound to the namespace.
/// </summary>
public sealed class SocketDiagClient(NetlinkConnection connection)
{
    internal const int NETLINK_SOCK_DIAG = 4;
    private const ushort SOCK_DIAG_BY_FAMILY = 20;
    private const ushort TCPDIAG_GETSOCK = 18; // inet_diag's first request (struct inet_diag_req): TCP of both families
    private const int TCP_ESTABLISHED = 1, TCP_CLOSE = 7, TCP_LISTEN = 10;

    /// <summary>Names a sock_diag message type for errors.</summary>
    public static string Describe(ushort type) => type switch
    {
        SOCK_DIAG_BY_FAMILY => "SOCK_DIAG_BY_FAMILY",
        TCPDIAG_GETSOCK => "TCPDIAG_GETSOCK",
        _ => "sock_diag message " + type,
    };

    /// <summary>struct inet_diag_sockid: which sockets (ports, addresses big-endian; 0 for any).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct inet_diag_sockid
    {
        public ushort idiag_sport; // big-endian
        public ushort idiag_dport;
        public fixed uint idiag_src[4];
        public fixed uint idiag_dst[4];
        public uint idiag_if;
        public fixed uint idiag_cookie[2];
    }

    /// <summary>struct inet_diag_req_v2.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct inet_diag_req_v2
    {
        public byte sdiag_family;
        public byte sdiag_protocol;
        public byte idiag_ext;
        public byte pad;
        public uint idiag_states;
        public inet_diag_sockid id;
    }

    /// <summary>struct inet_diag_req: the request without protocol (TCP by its message type) whose dump is of both families.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct inet_diag_req
    {
        public byte idiag_family;
        public byte idiag_src_len;
        public byte idiag_dst_len;
        public byte idiag_ext;
        public inet_diag_sockid id;
        public uint idiag_states;
        public uint idiag_dbs;
    }

    private const int InetDiagMsgSize = 72; // struct inet_diag_msg

    /// <summary>
    /// <c>ss -lnt</c> / <c>ss -lnu</c> / SCTP: the sockets of <paramref name="protocol"/> (6 tcp, 17 udp, 132 sctp) and
    /// <paramref name="family"/> that hold a local port: listening for TCP and SCTP, bound and unconnected for UDP; only
    /// those of <paramref name="port"/> when given (the kernel filters). None when the kernel has no sock_diag for the
    /// protocol (its module is not there).
    /// </summary>
    public List<BoundSocket> ListBound(byte protocol, AddressFamily family, ushort? port = null) =>
        ListBound(protocol, [family], port);

    /// <summary>
    /// As the other overload, for IPv4 and IPv6 at once, in one round trip. The kernel walks its whole table of the
    /// protocol's bound sockets for every dump, whatever the filter, so TCP's both families come from one dump (inet_diag's
    /// first request, TCPDIAG_GETSOCK, which is of every family); the other protocols' two requests go in one datagram.
    /// </summary>
    public List<BoundSocket> ListBound(byte protocol, ushort? port = null)
    {
        if (protocol == 6 && ListTcpBothFamilies(port) is { } tcp) return tcp;
        return ListBound(protocol, [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6], port);
    }

    /// <summary>The listening TCP sockets of both families from one TCPDIAG_GETSOCK dump; null when the kernel does not take that request.</summary>
    private List<BoundSocket>? ListTcpBothFamilies(ushort? port)
    {
        var req = new inet_diag_req
        {
            idiag_family = 2,
            idiag_states = 1u << TCP_LISTEN,
            id = Local(port),
        };
        var answer = connection.QueryMany([new NetlinkQuery(TCPDIAG_GETSOCK, Dump: true, w => w.Write(req), Describing(6, port))])[0];
        if (answer.Error is { } e)
        {
            if (e.ErrorNumber is Interop.LibC.EINVAL or Interop.LibC.ENOENT or Interop.LibC.EOPNOTSUPP) return null; // a kernel without it
            throw e;
        }
        var list = new List<BoundSocket>();
        foreach (var m in answer.Replies) if (Decode(6, m) is { } b) list.Add(b);
        return [.. list.OrderBy(b => b.Address.AddressFamily)]; // IPv4's first, as the requests by family give them
    }

    private static string Describing(byte protocol, ushort? port) =>
        $"list the {Name(protocol)} sockets bound to {(port is null ? "a port" : "port " + port.Value.ToString(CultureInfo.InvariantCulture))}";

    private List<BoundSocket> ListBound(byte protocol, AddressFamily[] families, ushort? port)
    {
        var what = Describing(protocol, port);
        var queries = new NetlinkQuery[families.Length];
        for (var i = 0; i < families.Length; i++)
        {
            var req = Request(protocol, families[i], port);
            queries[i] = new NetlinkQuery(SOCK_DIAG_BY_FAMILY, Dump: true, w => w.Write(req), what);
        }
        var list = new List<BoundSocket>();
        foreach (var answer in connection.QueryMany(queries))
        {
            if (answer.Error is { } e)
            {
                if (e.ErrorNumber is Interop.LibC.ENOENT or Interop.LibC.EOPNOTSUPP) continue; // no sock_diag handler for this protocol in this kernel
                throw e;
            }
            foreach (var m in answer.Replies) if (Decode(protocol, m) is { } b) list.Add(b);
        }
        return list;
    }

    /// <summary>The dump request for the bound sockets of one protocol and family (of one local port when given).</summary>
    private static inet_diag_req_v2 Request(byte protocol, AddressFamily family, ushort? port)
    {
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            throw new ArgumentException($"sock_diag lists IPv4 or IPv6 sockets, not {family}.", nameof(family));
        return new inet_diag_req_v2
        {
            sdiag_family = (byte)(family == AddressFamily.InterNetwork ? 2 : 10),
            sdiag_protocol = protocol,
            idiag_states = protocol == 17 ? 1u << TCP_CLOSE : 1u << TCP_LISTEN,
            id = Local(port),
        };
    }

    /// <summary>The sockets of local port <paramref name="port"/> (any when null), of any address and peer.</summary>
    private static inet_diag_sockid Local(ushort? port) =>
        new() { idiag_sport = port is { } p ? BinaryPrimitives.ReverseEndianness(p) : (ushort)0 };

    /// <summary>One inet_diag_msg as a bound socket; null for a socket that does not hold its port (a connected UDP one).</summary>
    private static BoundSocket? Decode(byte protocol, NetlinkMessage m)
    {
        var b = m.Payload;
        if (b.Length < InetDiagMsgSize) throw new NetlinkDecodeException($"inet_diag_msg of {b.Length} bytes, at least {InetDiagMsgSize} expected");
        var state = b[1];
        if (protocol == 17 ? state == TCP_ESTABLISHED : state != TCP_LISTEN) return null;
        var sport = BinaryPrimitives.ReadUInt16BigEndian(b[4..]);
        var address = b[0] == 2 ? new IPAddress(b.Slice(8, 4)) : new IPAddress(b.Slice(8, 16));
        var uid = BinaryPrimitives.ReadUInt32LittleEndian(b[64..]);
        var inode = BinaryPrimitives.ReadUInt32LittleEndian(b[68..]);
        return new BoundSocket(protocol, address, sport, inode, uid);
    }

    private static string Name(byte protocol) => protocol switch { 6 => "TCP", 17 => "UDP", 132 => "SCTP", _ => "protocol " + protocol };

    /// <summary>
    /// The processes that hold the socket with inode <paramref name="inode"/> open (their /proc/PID/fd links read
    /// <c>socket:[INODE]</c>), with their command names: for error messages only, it reads every process's descriptors.
    /// </summary>
    public static IReadOnlyList<(int Pid, string Command)> Holders(uint inode)
    {
        var wanted = $"socket:[{inode.ToString(CultureInfo.InvariantCulture)}]";
        var found = new List<(int, string)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries(dir + "/fd"))
                {
                    if (new FileInfo(fd).LinkTarget != wanted) continue;
                    string comm;
                    try { comm = File.ReadAllText(dir + "/comm").Trim(); }
                    catch (IOException) { comm = "?"; }
                    found.Add((pid, comm));
                    break;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* ended meanwhile, or not ours to see */ }
        }
        return found;
    }
}
