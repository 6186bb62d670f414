using ContainerNetworking.Netlink;

namespace ContainerNetworking.Netfilter;

/// <summary>
/// nf_tables over nfnetlink, typed: atomic batches of tables, chains, rules, sets and elements (<see cref="NftBatch"/>,
/// <see cref="Commit"/>), the ruleset listed back and decoded, and the generation id for read-modify-write.
/// </summary>
public sealed class NftClient
{
    /// <summary>ERESTART: the kernel's answer to a batch whose NFNL_BATCH_GENID is no longer current.</summary>
    public const int ERESTART = 85;

    private const int MaxAttempts = 8;
    private readonly NetlinkConnection _conn;

    public NftClient(NetlinkConnection connection) => _conn = connection;

    /// <summary>The connection (NETLINK_NETFILTER) this client talks over.</summary>
    public NetlinkConnection Connection => _conn;

    /// <summary>The ruleset's generation id (NFT_MSG_GETGEN): it changes with every committed transaction.</summary>
    public uint GetGeneration()
    {
        var replies = _conn.Request(Nft.Type(Nft.NFT_MSG_GETGEN), 0, w => w.Write(new nfgenmsg(Nft.NFPROTO_UNSPEC)), "read the nf_tables generation");
        foreach (var m in replies)
        {
            if (m.Type != Nft.Type(Nft.NFT_MSG_NEWGEN)) continue;
            var r = m.Attributes(4);
            while (r.Next()) if (r.Type == Nft.NFTA_GEN_ID) return r.GetBE32();
        }
        throw new NetlinkDecodeException("NFT_MSG_GETGEN answered without NFTA_GEN_ID");
    }

    /// <summary>
    /// Sends the batch as one transaction (<c>nft -f FILE</c>): all of it is applied or none. Every message carries
    /// NLM_F_ACK; the first one the kernel refuses is reported as a <see cref="NetlinkException"/> naming its message
    /// type with the kernel's extended-ACK text. With <paramref name="generation"/> the batch carries NFNL_BATCH_GENID
    /// and the kernel refuses it (ERESTART) if the ruleset changed since that generation was read.
    /// Returns the messages the kernel echoed (rules added with echo, with their handles).
    /// </summary>
    public IReadOnlyList<NftRule> Commit(NftBatch batch, uint? generation = null, string? context = null)
    {
        if (batch.Count == 0) return [];
        // The generation before the batch: should answers be lost (see below), it tells whether the batch was committed.
        var before = generation ?? GetGeneration();
        var w = new NetlinkWriter(1024 + batch.Count * 256);
        var acked = new Dictionary<uint, ushort>(batch.Count);
        var begin = _conn.NextSequence();
        w.BeginMessage(Nft.NFNL_MSG_BATCH_BEGIN, Nl.NLM_F_REQUEST, begin);
        w.Write(new nfgenmsg(Nft.NFPROTO_UNSPEC, Nft.NFNL_SUBSYS_NFTABLES));
        if (generation is { } g) w.AttrBE32(Nft.NFNL_BATCH_GENID, g);
        w.EndMessage();
        foreach (var op in batch.Ops)
        {
            var seq = _conn.NextSequence();
            var type = Nft.Type(op.Msg);
            w.BeginMessage(type, (ushort)(Nl.NLM_F_REQUEST | Nl.NLM_F_ACK | op.Flags), seq);
            w.Write(new nfgenmsg(op.Family));
            op.Body(w);
            w.EndMessage();
            acked[seq] = type;
        }
        var end = _conn.NextSequence();
        w.BeginMessage(Nft.NFNL_MSG_BATCH_END, Nl.NLM_F_REQUEST, end);
        w.Write(new nfgenmsg(Nft.NFPROTO_UNSPEC, Nft.NFNL_SUBSYS_NFTABLES));
        w.EndMessage();
        List<NetlinkMessage> replies;
        try
        {
            replies = _conn.Transact(w, acked, context, [begin, end]);
        }
        catch (NetlinkAnswersLostException lost)
        {
            replies = AfterLostAnswers(lost, w, acked, before, context, [begin, end]);
        }
        var rules = new List<NftRule>();
        foreach (var m in replies)
            if (m.Type == Nft.Type(Nft.NFT_MSG_NEWRULE)) rules.Add(DecodeRule(m));
        return rules;
    }

    /// <summary>
    /// Some answers to a batch were lost (the receive queue overflowed), so whether the kernel committed it is learnt from
    /// the generation, which every committed batch increments by one: unchanged, the batch was refused and changed nothing,
    /// so it is sent once more with a receive queue large enough for every answer, to report the kernel's reason; one
    /// more, it was committed (its echoed rules, if any, are lost with the answers); more than one, others committed too
    /// and the outcome cannot be told apart: that is reported, with what to check.
    /// </summary>
    private List<NetlinkMessage> AfterLostAnswers(NetlinkAnswersLostException lost, NetlinkWriter batch, Dictionary<uint, ushort> acked,
        uint before, string? context, uint[] unacked)
    {
        var after = GetGeneration();
        if (lost.Refused is not null && after == before) throw lost.Refused;
        if (after == before)
        {
            _conn.Socket.EnsureReceiveBuffer(Math.Max(_conn.Socket.ReceiveBufferLimit * 2, (acked.Count + 1) * NetlinkConnection.AnswerCost * 2 + batch.Written.Length));
            return _conn.Transact(batch, acked, context, unacked);
        }
        if (after == unchecked(before + 1) && lost.Refused is null) return [];
        throw new NetlinkException(Interop.LibC.ENOBUFS, "netlink batch", 0,
            $"{lost.Missing} answers of the batch were lost and the ruleset moved {unchecked(after - before)} generations meanwhile (other processes committed too), so whether this batch was applied is not known; list the ruleset (nft list ruleset) to see", null, context);
    }

    /// <summary>
    /// A read-modify-write transaction, as google/nftables and nft do it: reads the generation, lets
    /// <paramref name="plan"/> read the ruleset and build the batch, commits it with that generation, and starts over
    /// when the ruleset changed in between (ERESTART) or the kernel asks to retry (EAGAIN, EINTR).
    /// </summary>
    public IReadOnlyList<NftRule> Transaction(Func<NftBatch> plan, string? context = null) => Transaction(_ => plan(), context);

    /// <summary>
    /// <see cref="Transaction(Func{NftBatch}, string?)"/>, with the generation the plan is made against passed to
    /// <paramref name="plan"/>: a caller can cache what it verified at that generation (the kernel increments the
    /// generation by one with each committed batch, so after committing a non-empty batch planned at G the ruleset is
    /// at G + 1 unless someone else commits).
    /// </summary>
    public IReadOnlyList<NftRule> Transaction(Func<uint, NftBatch> plan, string? context = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var gen = GetGeneration();
            var batch = plan(gen);
            try
            {
                return Commit(batch, gen, context);
            }
            catch (NetlinkException e) when (attempt < MaxAttempts && e.ErrorNumber is ERESTART or Interop.LibC.EAGAIN or Interop.LibC.EINTR)
            {
                // the ruleset changed under us: read it again
            }
        }
    }

    // ---- listing ----------------------------------------------------------------------------------------------

    /// <summary><c>nft list tables [FAMILY]</c>.</summary>
    public List<NftTable> ListTables(NftFamily family = NftFamily.Unspec)
    {
        var list = new List<NftTable>();
        foreach (var m in _conn.Dump(Nft.Type(Nft.NFT_MSG_GETTABLE), w => w.Write(new nfgenmsg((byte)family)), "list nf_tables tables"))
        {
            var h = m.ReadHeader<nfgenmsg>();
            var r = m.Attributes(4);
            string name = "";
            uint flags = 0, use = 0;
            ulong handle = 0;
            while (r.Next())
            {
                switch (r.Type)
                {
                    case Nft.NFTA_TABLE_NAME: name = r.GetString(); break;
                    case Nft.NFTA_TABLE_FLAGS: flags = r.GetBE32(); break;
                    case Nft.NFTA_TABLE_USE: use = r.GetBE32(); break;
                    case Nft.NFTA_TABLE_HANDLE: handle = r.GetBE64(); break;
                }
            }
            list.Add(new NftTable((NftFamily)h.nfgen_family, name) { Flags = flags, Use = use, Handle = handle });
        }
        return list;
    }

    /// <summary>True when the table exists (<c>nft list table FAMILY NAME</c> succeeds).</summary>
    public bool TableExists(NftFamily family, string name)
    {
        try
        {
            _conn.Request(Nft.Type(Nft.NFT_MSG_GETTABLE), 0, w =>
            {
                w.Write(new nfgenmsg((byte)family));
                w.AttrString(Nft.NFTA_TABLE_NAME, name);
            }, $"get table {name}");
            return true;
        }
        catch (NetlinkException e) when (e.ErrorNumber == Interop.LibC.ENOENT)
        {
            return false;
        }
    }

    /// <summary><c>nft list chains [FAMILY]</c>, optionally of one table.</summary>
    public List<NftChain> ListChains(NftFamily family = NftFamily.Unspec, string? table = null)
    {
        var list = new List<NftChain>();
        foreach (var m in _conn.Dump(Nft.Type(Nft.NFT_MSG_GETCHAIN), w => w.Write(new nfgenmsg((byte)family)), "list nf_tables chains"))
        {
            var c = DecodeChain(m);
            if (table is null || c.Table == table) list.Add(c);
        }
        return list;
    }

    private static NftChain DecodeChain(NetlinkMessage m)
    {
        var h = m.ReadHeader<nfgenmsg>();
        var r = m.Attributes(4);
        string t = "", name = "";
        string? type = null;
        ulong handle = 0;
        NftHook? hook = null;
        int prio = 0;
        int? policy = null;
        while (r.Next())
        {
            switch (r.Type)
            {
                case Nft.NFTA_CHAIN_TABLE: t = r.GetString(); break;
                case Nft.NFTA_CHAIN_NAME: name = r.GetString(); break;
                case Nft.NFTA_CHAIN_HANDLE: handle = r.GetBE64(); break;
                case Nft.NFTA_CHAIN_TYPE: type = r.GetString(); break;
                case Nft.NFTA_CHAIN_POLICY: policy = unchecked((int)r.GetBE32()); break;
                case Nft.NFTA_CHAIN_HOOK:
                    var n = r.Nested();
                    while (n.Next())
                    {
                        if (n.Type == Nft.NFTA_HOOK_HOOKNUM) hook = (NftHook)n.GetBE32();
                        else if (n.Type == Nft.NFTA_HOOK_PRIORITY) prio = unchecked((int)n.GetBE32());
                    }
                    break;
            }
        }
        return new NftChain((NftFamily)h.nfgen_family, t, name) { Handle = handle, Hook = hook, Priority = prio, Type = type, Policy = policy };
    }

    /// <summary><c>nft -a list chain|table …</c>: the rules of a table (or of one chain), in order, with handles and counters.</summary>
    public List<NftRule> ListRules(NftFamily family, string table, string? chain = null)
    {
        var list = new List<NftRule>();
        foreach (var m in _conn.Dump(Nft.Type(Nft.NFT_MSG_GETRULE), w =>
        {
            w.Write(new nfgenmsg((byte)family));
            w.AttrString(Nft.NFTA_RULE_TABLE, table);
            if (chain is not null) w.AttrString(Nft.NFTA_RULE_CHAIN, chain);
        }, $"list rules of table {table}"))
        {
            var rule = DecodeRule(m);
            if (rule.Table == table && (chain is null || rule.Chain == chain)) list.Add(rule);
        }
        return list;
    }

    internal static NftRule DecodeRule(NetlinkMessage m)
    {
        var h = m.ReadHeader<nfgenmsg>();
        var r = m.Attributes(4);
        string table = "", chain = "";
        ulong handle = 0, pos = 0;
        string? comment = null;
        var exprs = new List<NftExpr>();
        while (r.Next())
        {
            switch (r.Type)
            {
                case Nft.NFTA_RULE_TABLE: table = r.GetString(); break;
                case Nft.NFTA_RULE_CHAIN: chain = r.GetString(); break;
                case Nft.NFTA_RULE_HANDLE: handle = r.GetBE64(); break;
                case Nft.NFTA_RULE_POSITION: pos = r.GetBE64(); break;
                case Nft.NFTA_RULE_USERDATA: comment = NftUserData.ReadComment(r.Value, Nft.NFTNL_UDATA_RULE_COMMENT); break;
                case Nft.NFTA_RULE_EXPRESSIONS:
                    var l = r.Nested();
                    while (l.Next()) if (l.Type == Nft.NFTA_LIST_ELEM) exprs.Add(NftExpr.Decode(l.Nested()));
                    break;
            }
        }
        return new NftRule((NftFamily)h.nfgen_family, table, chain, exprs) { Handle = handle, Position = pos, Comment = comment };
    }

    /// <summary><c>nft list sets|maps FAMILY TABLE</c> (anonymous sets included).</summary>
    public List<NftSet> ListSets(NftFamily family, string table)
    {
        var list = new List<NftSet>();
        foreach (var m in _conn.Dump(Nft.Type(Nft.NFT_MSG_GETSET), w =>
        {
            w.Write(new nfgenmsg((byte)family));
            w.AttrString(Nft.NFTA_SET_TABLE, table);
        }, $"list sets of table {table}"))
        {
            var h = m.ReadHeader<nfgenmsg>();
            var r = m.Attributes(4);
            var s = new NftSet((NftFamily)h.nfgen_family, "", "");
            while (r.Next())
            {
                switch (r.Type)
                {
                    case Nft.NFTA_SET_TABLE: s = s with { Table = r.GetString() }; break;
                    case Nft.NFTA_SET_NAME: s = s with { Name = r.GetString() }; break;
                    case Nft.NFTA_SET_HANDLE: s = s with { Handle = r.GetBE64() }; break;
                    case Nft.NFTA_SET_FLAGS: s = s with { Flags = r.GetBE32() }; break;
                    case Nft.NFTA_SET_KEY_TYPE: s = s with { KeyType = r.GetBE32() }; break;
                    case Nft.NFTA_SET_KEY_LEN: s = s with { KeyLength = r.GetBE32() }; break;
                    case Nft.NFTA_SET_DATA_TYPE: s = s with { DataType = r.GetBE32() }; break;
                    case Nft.NFTA_SET_DATA_LEN: s = s with { DataLength = r.GetBE32() }; break;
                    case Nft.NFTA_SET_USERDATA: s = s with { Comment = NftUserData.ReadComment(r.Value, Nft.NFTNL_UDATA_SET_COMMENT) }; break;
                    case Nft.NFTA_SET_EXPR:
                        var x = r.Nested();
                        while (x.Next()) if (x.Type == Nft.NFTA_EXPR_NAME && x.GetString() == "counter") s = s with { Counters = true };
                        break;
                    case Nft.NFTA_SET_DESC:
                        var d = r.Nested();
                        while (d.Next())
                        {
                            if (d.Type != Nft.NFTA_SET_DESC_CONCAT) continue;
                            var fields = new List<uint>();
                            var c = d.Nested();
                            while (c.Next())
                            {
                                var f = c.Nested();
                                while (f.Next()) if (f.Type == Nft.NFTA_SET_FIELD_LEN) fields.Add(f.GetBE32());
                            }
                            s = s with { ConcatFieldLengths = fields };
                        }
                        break;
                }
            }
            if (s.Table == table) list.Add(s);
        }
        return list;
    }

    /// <summary><c>nft list set|map FAMILY TABLE NAME</c>: the elements, with their data, comments and counters.</summary>
    public List<NftSetElement> ListElements(NftFamily family, string table, string set)
    {
        var list = new List<NftSetElement>();
        foreach (var m in _conn.Dump(Nft.Type(Nft.NFT_MSG_GETSETELEM), w => WriteElementQuery(w, family, table, set, null), $"list elements of set {set}"))
            DecodeElements(m, list);
        return list;
    }

    /// <summary>
    /// <c>nft get element FAMILY TABLE SET '{ KEY }'</c>: the one element with this key (NFT_MSG_GETSETELEM for the key,
    /// not a dump), with its data, comment and counters; null when the set has no such element (or the set or table
    /// does not exist).
    /// </summary>
    public NftSetElement? GetElement(NftFamily family, string table, string set, byte[] key)
    {
        List<NetlinkMessage> replies;
        try
        {
            replies = _conn.Request(Nft.Type(Nft.NFT_MSG_GETSETELEM), 0, w => WriteElementQuery(w, family, table, set, key), $"get an element of set {set}");
        }
        catch (NetlinkException e) when (e.ErrorNumber == Interop.LibC.ENOENT)
        {
            return null;
        }
        var found = new List<NftSetElement>();
        foreach (var m in replies) DecodeElements(m, found);
        return found.Count > 0 ? found[0] : null;
    }

    /// <summary>
    /// Several element lookups in one datagram, answered in one round trip: for a (set, key) the element with that key,
    /// as <see cref="GetElement"/>; for a (set, null) every element of the set, as <see cref="ListElements"/>. None when
    /// the set has no such element or the set or table does not exist (ENOENT); any other refusal throws.
    /// </summary>
    public List<NftSetElement>[] LookupElements(NftFamily family, string table, IReadOnlyList<(string Set, byte[]? Key)> lookups)
    {
        var queries = lookups.Select(l => new NetlinkQuery(Nft.Type(Nft.NFT_MSG_GETSETELEM), Dump: l.Key is null,
            w => WriteElementQuery(w, family, table, l.Set, l.Key), l.Key is null ? $"list elements of set {l.Set}" : $"get an element of set {l.Set}")).ToList();
        var answers = _conn.QueryMany(queries);
        var result = new List<NftSetElement>[answers.Length];
        for (var i = 0; i < answers.Length; i++)
        {
            if (answers[i].Error is { } e && e.ErrorNumber != Interop.LibC.ENOENT) throw e;
            result[i] = [];
            foreach (var m in answers[i].Replies) DecodeElements(m, result[i]);
        }
        return result;
    }

    /// <summary>An NFT_MSG_GETSETELEM body: the set, and the key of the one element asked for (none: all of them).</summary>
    private static void WriteElementQuery(NetlinkWriter w, NftFamily family, string table, string set, byte[]? key)
    {
        w.Write(new nfgenmsg((byte)family));
        w.AttrString(Nft.NFTA_SET_ELEM_LIST_TABLE, table);
        w.AttrString(Nft.NFTA_SET_ELEM_LIST_SET, set);
        if (key is null) return;
        var list = w.BeginNested(Nft.NFTA_SET_ELEM_LIST_ELEMENTS, true);
        var el = w.BeginNested(Nft.NFTA_LIST_ELEM, true);
        var k = w.BeginNested(Nft.NFTA_SET_ELEM_KEY, true);
        w.Attr(Nft.NFTA_DATA_VALUE, key);
        w.EndNested(k);
        w.EndNested(el);
        w.EndNested(list);
    }

    /// <summary>The elements of an NFT_MSG_NEWSETELEM answer (other messages have none).</summary>
    private static void DecodeElements(NetlinkMessage m, List<NftSetElement> into)
    {
        if (m.Type != Nft.Type(Nft.NFT_MSG_NEWSETELEM)) return;
        var r = m.Attributes(4);
        while (r.Next())
        {
            if (r.Type != Nft.NFTA_SET_ELEM_LIST_ELEMENTS) continue;
            var l = r.Nested();
            while (l.Next()) if (l.Type == Nft.NFTA_LIST_ELEM) into.Add(DecodeElement(l.Nested()));
        }
    }

    private static NftSetElement DecodeElement(AttributeReader r)
    {
        var e = new NftSetElement([]);
        while (r.Next())
        {
            switch (r.Type)
            {
                case Nft.NFTA_SET_ELEM_KEY:
                    var k = r.Nested();
                    while (k.Next()) if (k.Type == Nft.NFTA_DATA_VALUE) e = e with { Key = k.GetBytes() };
                    break;
                case Nft.NFTA_SET_ELEM_DATA:
                    var d = r.Nested();
                    while (d.Next())
                    {
                        if (d.Type == Nft.NFTA_DATA_VALUE) e = e with { Data = d.GetBytes() };
                        else if (d.Type == Nft.NFTA_DATA_VERDICT)
                        {
                            var (v, c) = NftImmediate.ReadVerdict(d.Nested());
                            e = e with { Verdict = v, Chain = c };
                        }
                    }
                    break;
                case Nft.NFTA_SET_ELEM_USERDATA:
                    e = e with { Comment = NftUserData.ReadComment(r.Value, Nft.NFTNL_UDATA_SET_ELEM_COMMENT) };
                    break;
                case Nft.NFTA_SET_ELEM_EXPR:
                    if (NftExpr.Decode(r.Nested()) is NftCounter c1) e = e with { Packets = c1.Packets, Bytes = c1.Bytes };
                    break;
                case Nft.NFTA_SET_ELEM_EXPRESSIONS:
                    var xs = r.Nested();
                    while (xs.Next())
                        if (xs.Type == Nft.NFTA_LIST_ELEM && NftExpr.Decode(xs.Nested()) is NftCounter c2) e = e with { Packets = c2.Packets, Bytes = c2.Bytes };
                    break;
            }
        }
        return e;
    }
}
