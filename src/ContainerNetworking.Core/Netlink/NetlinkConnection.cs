namespace ContainerNetworking.Netlink;

/// <summary>
/// Request/response over one netlink socket: sequence numbers, ACKs, multi-part dumps (retried when the kernel
/// reports NLM_F_DUMP_INTR) and batches of many messages answered one by one. Thread-safe: one request at a time.
/// Kernel errors surface as <see cref="NetlinkException"/> naming the request that caused them.
/// </summary>
public sealed class NetlinkConnection : IDisposable
{
    private const int ReceiveBufferSize = 256 * 1024;
    private const int MaxDumpAttempts = 10;

    private readonly object _lock = new();
    private readonly Func<ushort, string> _describe;
    private readonly NetlinkWriter _writer = new(4096);
    private readonly byte[] _rx = new byte[ReceiveBufferSize];
    private uint _seq;

    /// <param name="socket">The socket; the connection owns it from now on.</param>
    /// <param name="describeType">Names a message type for error messages, e.g. 16 → "RTM_NEWLINK".</param>
    public NetlinkConnection(NetlinkSocket socket, Func<ushort, string> describeType)
    {
        Socket = socket;
        _describe = describeType;
        _seq = (uint)Environment.TickCount;
        socket.SetReceiveTimeout(TimeSpan.FromSeconds(30));
    }

    public NetlinkSocket Socket { get; }

    /// <summary>Names a message type as the family does, e.g. "RTM_NEWLINK".</summary>
    public string Describe(ushort type) => _describe(type);

    public uint NextSequence() => unchecked(++_seq);

    /// <summary>Sends one request with NLM_F_ACK and waits for its ACK; returns any replies received before it.</summary>
    public List<NetlinkMessage> Request(ushort type, ushort flags, Action<NetlinkWriter> body, string? context = null)
    {
        lock (_lock)
        {
            var seq = NextSequence();
            _writer.Reset();
            _writer.BeginMessage(type, (ushort)(flags | Nl.NLM_F_REQUEST | Nl.NLM_F_ACK), seq);
            body(_writer);
            _writer.EndMessage();
            Socket.Send(_writer.Written);
            var replies = new List<NetlinkMessage>();
            var batch = new List<NetlinkMessage>();
            while (true)
            {
                ReceiveInto(batch);
                foreach (var m in batch)
                {
                    if (m.Sequence != seq) continue; // a stale answer to an earlier, abandoned request
                    if (m.Type == Nl.NLMSG_ERROR)
                    {
                        var code = m.ErrorCode;
                        if (code == 0) return replies;
                        throw Error(m, type, seq, context);
                    }
                    if (m.Type == Nl.NLMSG_DONE || m.Type == Nl.NLMSG_NOOP) continue;
                    replies.Add(m);
                }
            }
        }
    }

    /// <summary>Sends one request that must succeed; the ACK is awaited.</summary>
    public void Execute(ushort type, ushort flags, Action<NetlinkWriter> body, string? context = null) =>
        Request(type, flags, body, context);

    /// <summary>A multi-part dump (NLM_F_DUMP), retried from scratch when the kernel says it was interrupted.</summary>
    public List<NetlinkMessage> Dump(ushort type, Action<NetlinkWriter> body, string? context = null)
    {
        lock (_lock)
        {
            for (var attempt = 1; ; attempt++)
            {
                var (result, interrupted) = DumpOnce(type, body, context);
                if (!interrupted) return result;
                if (attempt >= MaxDumpAttempts)
                    throw new NetlinkException(Interop.LibC.EINTR, _describe(type), _seq,
                        $"the dump was interrupted by concurrent changes {MaxDumpAttempts} times in a row", null, context);
            }
        }
    }

    private (List<NetlinkMessage>, bool) DumpOnce(ushort type, Action<NetlinkWriter> body, string? context)
    {
        var seq = NextSequence();
        _writer.Reset();
        _writer.BeginMessage(type, Nl.NLM_F_REQUEST | Nl.NLM_F_DUMP, seq);
        body(_writer);
        _writer.EndMessage();
        Socket.Send(_writer.Written);
        var result = new List<NetlinkMessage>();
        var interrupted = false;
        var batch = new List<NetlinkMessage>();
        while (true)
        {
            ReceiveInto(batch);
            foreach (var m in batch)
            {
                if (m.Sequence != seq) continue;
                if ((m.Flags & Nl.NLM_F_DUMP_INTR) != 0) interrupted = true;
                switch (m.Type)
                {
                    case Nl.NLMSG_DONE:
                        if (m.Payload.Length >= 4 && m.ErrorCode < 0) throw Error(m, type, seq, context);
                        return (result, interrupted);
                    case Nl.NLMSG_ERROR:
                        if (m.ErrorCode == 0) return (result, interrupted);
                        throw Error(m, type, seq, context);
                    case Nl.NLMSG_NOOP:
                        continue;
                    default:
                        result.Add(m);
                        break;
                }
            }
        }
    }

    /// <summary>
    /// Sends a prepared batch (several messages in one datagram, e.g. an nf_tables transaction) and reads the
    /// answers until every sequence number in <paramref name="acked"/> has one. Throws for the first message the
    /// kernel refused (lowest sequence), naming that message; an error for a sequence outside
    /// <paramref name="acked"/> (for example the batch header) ends the wait at once.
    /// </summary>
    /// <param name="batch">The messages, batch header and trailer included, in one datagram.</param>
    /// <param name="acked">Sequence number → message type, for every message sent with NLM_F_ACK.</param>
    /// <param name="context">What the batch is meant to do, for error messages.</param>
    public List<NetlinkMessage> Transact(NetlinkWriter batch, IReadOnlyDictionary<uint, ushort> acked, string? context = null)
    {
        lock (_lock)
        {
            Socket.Send(batch.Written);
            var pending = new HashSet<uint>(acked.Keys);
            var replies = new List<NetlinkMessage>();
            NetlinkMessage? firstError = null;
            var rx = new List<NetlinkMessage>();
            while (pending.Count > 0)
            {
                ReceiveInto(rx);
                foreach (var m in rx)
                {
                    if (m.Type == Nl.NLMSG_ERROR)
                    {
                        var s = m.ErrorSequence;
                        var known = pending.Remove(s) || acked.ContainsKey(s);
                        if (m.ErrorCode != 0 && (firstError is null || s < firstError.Value.ErrorSequence))
                            firstError = m;
                        if (!known && m.ErrorCode != 0) pending.Clear();
                    }
                    else if (m.Type != Nl.NLMSG_NOOP && m.Type != Nl.NLMSG_DONE)
                    {
                        replies.Add(m);
                    }
                }
            }
            if (firstError is { } e)
            {
                var s = e.ErrorSequence;
                throw Error(e, acked.TryGetValue(s, out var t) ? t : (ushort)0, s, context);
            }
            return replies;
        }
    }

    private void ReceiveInto(List<NetlinkMessage> into)
    {
        into.Clear();
        var n = Socket.Receive(_rx);
        var copy = _rx.AsSpan(0, n).ToArray();
        NetlinkMessage.Split(copy, n, into);
    }

    private NetlinkException Error(NetlinkMessage m, ushort requestType, uint seq, string? context)
    {
        var errno = -m.ErrorCode;
        var (msg, offs) = m.ExtendedAck();
        return new NetlinkException(errno, requestType == 0 ? "netlink batch" : _describe(requestType), seq, msg, offs, context);
    }

    public void Dispose() => Socket.Dispose();
}
