namespace ContainerNetworking.Netlink;

/// <summary>
/// Request/response over one netlink socket: sequence numbers, ACKs, multi-part dumps (retried when the kernel
/// reports NLM_F_DUMP_INTR) and batches of many messages answered one by one. Thread-safe: one request at a time.
/// Kernel errors surface as <see cref="NetlinkException"/> naming the request that caused them.
/// </summary>
public sealed class NetlinkConnection : IDisposable
{
    private const int MaxDumpAttempts = 10;

    /// <summary>
    /// What one answer to a batch message costs in the receive queue: the kernel charges a message's buffer at its true
    /// size (sk_buff, shared info and the data rounded up to the allocator's size class: some 700-800 bytes for an ACK
    /// with NETLINK_CAP_ACK, more for an error with its ext-ACK text).
    /// </summary>
    internal const int AnswerCost = 1024;

    private readonly object _lock = new();
    private readonly Func<ushort, string> _describe;
    private readonly NetlinkWriter _writer = new(4096);
    private int _seq;

    /// <param name="socket">The socket; the connection owns it from now on.</param>
    /// <param name="describeType">Names a message type for error messages, e.g. 16 → "RTM_NEWLINK".</param>
    public NetlinkConnection(NetlinkSocket socket, Func<ushort, string> describeType)
    {
        Socket = socket;
        _describe = describeType;
        _seq = Environment.TickCount;
        socket.SetReceiveTimeout(TimeSpan.FromSeconds(30));
    }

    public NetlinkSocket Socket { get; }

    /// <summary>Names a message type as the family does, e.g. "RTM_NEWLINK".</summary>
    public string Describe(ushort type) => _describe(type);

    /// <summary>A sequence number not used before on this connection (atomic: batches are built outside the request lock).</summary>
    public uint NextSequence() => unchecked((uint)Interlocked.Increment(ref _seq));

    /// <summary>
    /// Whether <see cref="Transact"/> grows the socket's receive queue to hold every answer of a batch before sending it
    /// (true; tests switch it off to see how answers lost to a full queue are handled).
    /// </summary>
    internal bool GrowReceiveBufferForBatches { get; set; } = true;

    private int _overruns;
    private long _received;

    /// <summary>How many netlink messages this connection has received (what a request cost in answers).</summary>
    public long MessagesReceived => Interlocked.Read(ref _received);

    /// <summary>How many times answers to a batch were lost to a full receive queue (ENOBUFS) on this connection.</summary>
    public int Overruns => Volatile.Read(ref _overruns);

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

    /// <summary>
    /// Sends several requests in one datagram (one sendmsg), each with NLM_F_ACK, and reads their answers together:
    /// the kernel handles them one after another, in order, and answers each. A refused request does not stop the ones
    /// after it (rtnetlink is not transactional): the caller's undo must cover the whole batch. Throws the
    /// <see cref="NetlinkException"/> of the first refused request (errno, ext-ACK text, its own context), with
    /// <c>Data["Applied"]</c> = how many requests before it succeeded and <c>Data["Refused"]</c> = every refusal's message
    /// when more than one was refused.
    /// </summary>
    public void ExecuteMany(IReadOnlyList<NetlinkRequest> requests)
    {
        if (requests.Count == 0) return;
        if (requests.Count == 1)
        {
            var r = requests[0];
            Request(r.Type, r.Flags, r.Body, r.Context);
            return;
        }
        lock (_lock)
        {
            var seqs = new uint[requests.Count];
            var index = new Dictionary<uint, int>(requests.Count);
            var batch = new NetlinkWriter(512 * requests.Count);
            for (var i = 0; i < requests.Count; i++)
            {
                var r = requests[i];
                seqs[i] = NextSequence();
                index[seqs[i]] = i;
                batch.BeginMessage(r.Type, (ushort)(r.Flags | Nl.NLM_F_REQUEST | Nl.NLM_F_ACK), seqs[i]);
                r.Body(batch);
                batch.EndMessage();
            }
            if (GrowReceiveBufferForBatches)
                Socket.EnsureReceiveBuffer((requests.Count + 1) * AnswerCost + batch.Written.Length);
            Socket.Send(batch.Written);
            var errors = new NetlinkException?[requests.Count];
            var pending = requests.Count;
            var rx = new List<NetlinkMessage>();
            while (pending > 0)
            {
                ReceiveInto(rx);
                foreach (var m in rx)
                {
                    if (m.Type != Nl.NLMSG_ERROR) continue; // replies (echoes) are not asked for here
                    if (!index.Remove(m.ErrorSequence, out var i)) continue; // an earlier, abandoned request's
                    pending--;
                    if (m.ErrorCode != 0) errors[i] = Error(m, requests[i].Type, seqs[i], requests[i].Context);
                }
            }
            var failed = Array.FindIndex(errors, e => e is not null);
            if (failed < 0) return;
            var ex = errors[failed]!;
            ex.Data["Applied"] = failed;
            if (errors.Count(e => e is not null) > 1) ex.Data["Refused"] = string.Join("; ", errors.Where(e => e is not null).Select(e => e!.Message));
            throw ex;
        }
    }

    /// <summary>
    /// Sends several read requests (gets answered by replies and an ACK, and dumps) in one datagram and reads every
    /// answer: the kernel handles them in order within the one sendmsg, so they cost one round trip instead of one each.
    /// A socket runs one dump at a time: a dump the kernel refused with EBUSY because one before it in the datagram had
    /// more to send, and one it interrupted (NLM_F_DUMP_INTR), is sent again once the others are answered. Refusals do
    /// not throw: each answer carries its own <see cref="NetlinkException"/> (errno, ext-ACK text, the query's context)
    /// for the caller to judge (ENOENT for a get is usually "none").
    /// </summary>
    public NetlinkAnswer[] QueryMany(IReadOnlyList<NetlinkQuery> queries)
    {
        var answers = new NetlinkAnswer[queries.Count];
        lock (_lock)
        {
            var attempts = new int[queries.Count];
            var todo = Enumerable.Range(0, queries.Count).ToList();
            var rx = new List<NetlinkMessage>();
            while (todo.Count > 0)
            {
                var pending = new Dictionary<uint, (int Index, List<NetlinkMessage> Replies, bool Interrupted)>(todo.Count);
                var batch = new NetlinkWriter(256 * todo.Count);
                foreach (var i in todo)
                {
                    var q = queries[i];
                    var seq = NextSequence();
                    pending[seq] = (i, [], false);
                    attempts[i]++;
                    batch.BeginMessage(q.Type, (ushort)(Nl.NLM_F_REQUEST | (q.Dump ? Nl.NLM_F_DUMP : Nl.NLM_F_ACK)), seq);
                    q.Body(batch);
                    batch.EndMessage();
                }
                if (GrowReceiveBufferForBatches && todo.Count > 1)
                    Socket.EnsureReceiveBuffer((todo.Count + 1) * AnswerCost + batch.Written.Length);
                Socket.Send(batch.Written);
                var again = new List<int>();
                while (pending.Count > 0)
                {
                    ReceiveInto(rx);
                    foreach (var m in rx)
                    {
                        var seq = m.Sequence;
                        if (!pending.TryGetValue(seq, out var p)) continue; // an earlier, abandoned request's
                        var q = queries[p.Index];
                        if (q.Dump && (m.Flags & Nl.NLM_F_DUMP_INTR) != 0) pending[seq] = p with { Interrupted = true };
                        if (m.Type == Nl.NLMSG_NOOP || (m.Type == Nl.NLMSG_DONE && !q.Dump)) continue;
                        if (m.Type != Nl.NLMSG_ERROR && m.Type != Nl.NLMSG_DONE)
                        {
                            p.Replies.Add(m);
                            continue;
                        }
                        var interrupted = pending[seq].Interrupted;
                        pending.Remove(seq);
                        var code = m.Type == Nl.NLMSG_DONE && m.Payload.Length < 4 ? 0 : m.ErrorCode;
                        var retry = q.Dump && attempts[p.Index] < MaxDumpAttempts && (code == -Interop.LibC.EBUSY || (code == 0 && interrupted));
                        if (retry) again.Add(p.Index);
                        else if (code != 0) answers[p.Index] = new NetlinkAnswer([], Error(m, q.Type, seq, q.Context));
                        else if (interrupted)
                            answers[p.Index] = new NetlinkAnswer([], new NetlinkException(Interop.LibC.EINTR, _describe(q.Type), seq,
                                $"the dump was interrupted by concurrent changes {MaxDumpAttempts} times in a row", null, q.Context));
                        else answers[p.Index] = new NetlinkAnswer(p.Replies, null);
                    }
                }
                again.Sort();
                todo = again;
            }
        }
        return answers;
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
                    throw new NetlinkException(Interop.LibC.EINTR, _describe(type), unchecked((uint)_seq),
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
    /// kernel refused (lowest sequence), naming that message; an error for one of <paramref name="unacked"/> (the batch
    /// header and trailer, which the kernel answers only to refuse the whole batch) ends the wait at once. Answers with a
    /// sequence number that is not the batch's (left over from an earlier request that was abandoned) are skipped.
    /// <para>
    /// The kernel handles the whole batch while the datagram is sent, queueing every answer at once; the socket's
    /// receive queue is grown to hold them first (as nft and google/nftables do). Should answers still be lost to a full
    /// queue (ENOBUFS), the rest of the queue is read and <see cref="NetlinkAnswersLostException"/> says which sequence
    /// numbers were answered and which error survived: whether the batch took effect is then for the caller to find out
    /// (nf_tables: from its generation).
    /// </para>
    /// </summary>
    /// <param name="batch">The messages, batch header and trailer included, in one datagram.</param>
    /// <param name="acked">Sequence number → message type, for every message sent with NLM_F_ACK.</param>
    /// <param name="context">What the batch is meant to do, for error messages.</param>
    /// <param name="unacked">The sequence numbers of the batch's other messages (header, trailer).</param>
    public List<NetlinkMessage> Transact(NetlinkWriter batch, IReadOnlyDictionary<uint, ushort> acked, string? context = null, IReadOnlyCollection<uint>? unacked = null)
    {
        lock (_lock)
        {
            if (GrowReceiveBufferForBatches)
                Socket.EnsureReceiveBuffer((int)Math.Min(int.MaxValue, (long)(acked.Count + 1) * AnswerCost + batch.Written.Length));
            Socket.Send(batch.Written);
            var pending = new HashSet<uint>(acked.Keys);
            var replies = new List<NetlinkMessage>();
            NetlinkMessage? firstError = null;
            var rx = new List<NetlinkMessage>();
            var lost = false;
            while (pending.Count > 0)
            {
                try
                {
                    if (!ReceiveInto(rx, dontWait: lost)) break; // lost answers: the queue is read to its end
                }
                catch (Interop.LinuxException x) when (x.ErrorNumber == Interop.LibC.ENOBUFS && !lost)
                {
                    lost = true;
                    Interlocked.Increment(ref _overruns);
                    continue;
                }
                foreach (var m in rx)
                {
                    if (m.Type == Nl.NLMSG_ERROR)
                    {
                        var s = m.ErrorSequence;
                        var ours = pending.Remove(s) || acked.ContainsKey(s);
                        var whole = !ours && unacked is not null && unacked.Contains(s);
                        if (!ours && !whole) continue; // not an answer to this batch
                        if (m.ErrorCode != 0 && (firstError is null || s < firstError.Value.ErrorSequence))
                            firstError = m;
                        if (whole && m.ErrorCode != 0) pending.Clear();
                    }
                    else if (m.Type != Nl.NLMSG_NOOP && m.Type != Nl.NLMSG_DONE && (acked.ContainsKey(m.Sequence) || unacked?.Contains(m.Sequence) == true))
                    {
                        replies.Add(m);
                    }
                }
            }
            NetlinkException? refused = null;
            if (firstError is { } e)
            {
                var s = e.ErrorSequence;
                refused = Error(e, acked.TryGetValue(s, out var t) ? t : (ushort)0, s, context);
            }
            if (lost && pending.Count > 0)
                throw new NetlinkAnswersLostException(pending.Count, acked.Count, refused, context);
            if (refused is not null) throw refused;
            return replies;
        }
    }

    private bool ReceiveInto(List<NetlinkMessage> into, bool dontWait = false)
    {
        into.Clear();
        var datagram = Socket.ReceiveDatagram(dontWait);
        if (datagram is null) return false;
        NetlinkMessage.Split(datagram, datagram.Length, into);
        _received += into.Count;
        return true;
    }

    private NetlinkException Error(NetlinkMessage m, ushort requestType, uint seq, string? context)
    {
        var errno = -m.ErrorCode;
        var (msg, offs) = m.ExtendedAck();
        return new NetlinkException(errno, requestType == 0 ? "netlink batch" : _describe(requestType), seq, msg, offs, context);
    }

    public void Dispose() => Socket.Dispose();
}

/// <summary>One request of <see cref="NetlinkConnection.ExecuteMany"/>: its type, flags (NLM_F_REQUEST and NLM_F_ACK are added), body and what it is meant to do.</summary>
public readonly record struct NetlinkRequest(ushort Type, ushort Flags, Action<NetlinkWriter> Body, string? Context);

/// <summary>One request of <see cref="NetlinkConnection.QueryMany"/>: a get (answered by replies and an ACK) or a dump (<paramref name="Dump"/>), its type, body and what it asks.</summary>
public readonly record struct NetlinkQuery(ushort Type, bool Dump, Action<NetlinkWriter> Body, string? Context);

/// <summary>The answer to one <see cref="NetlinkQuery"/>: its replies, or the kernel's refusal (<see cref="Error"/>, then no replies).</summary>
public readonly record struct NetlinkAnswer(List<NetlinkMessage> Replies, NetlinkException? Error);
