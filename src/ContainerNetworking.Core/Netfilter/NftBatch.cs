using ContainerNetworking.Netlink;

namespace ContainerNetworking.Netfilter;

/// <summary>
/// The messages of one nf_tables transaction, in order. <see cref="NftClient.Commit"/> sends them between
/// NFNL_MSG_BATCH_BEGIN and NFNL_MSG_BATCH_END in one datagram: the kernel applies all of them or none.
/// Each method documents the nft command it stands for.
/// </summary>
public sealed class NftBatch
{
    internal readonly record struct Op(ushort Msg, ushort Flags, byte Family, Action<NetlinkWriter> Body);

    internal List<Op> Ops { get; } = [];

    public int Count => Ops.Count;

    private NftBatch Add(ushort msg, ushort flags, NftFamily family, Action<NetlinkWriter> body)
    {
        Ops.Add(new Op(msg, flags, (byte)family, body));
        return this;
    }

    /// <summary><c>nft add table FAMILY NAME</c> (a no-op if it exists), or <c>nft create table</c> when <paramref name="exclusive"/>.</summary>
    public NftBatch AddTable(NftTable table, bool exclusive = false) =>
        Add(Nft.NFT_MSG_NEWTABLE, (ushort)(Nl.NLM_F_CREATE | (exclusive ? Nl.NLM_F_EXCL : 0)), table.Family, w =>
        {
            w.AttrString(Nft.NFTA_TABLE_NAME, table.Name);
            w.AttrBE32(Nft.NFTA_TABLE_FLAGS, table.Flags);
        });

    /// <summary><c>nft delete table FAMILY NAME</c> (with everything in it).</summary>
    public NftBatch DeleteTable(NftFamily family, string name) =>
        Add(Nft.NFT_MSG_DELTABLE, 0, family, w => w.AttrString(Nft.NFTA_TABLE_NAME, name));

    /// <summary><c>nft add chain FAMILY TABLE NAME '{ type T hook H priority P; policy POLICY; }'</c>.</summary>
    public NftBatch AddChain(NftChain chain, bool exclusive = false) =>
        Add(Nft.NFT_MSG_NEWCHAIN, (ushort)(Nl.NLM_F_CREATE | (exclusive ? Nl.NLM_F_EXCL : 0)), chain.Family, w =>
        {
            w.AttrString(Nft.NFTA_CHAIN_TABLE, chain.Table);
            w.AttrString(Nft.NFTA_CHAIN_NAME, chain.Name);
            if (chain.Hook is { } hook)
            {
                var h = w.BeginNested(Nft.NFTA_CHAIN_HOOK, true);
                w.AttrBE32(Nft.NFTA_HOOK_HOOKNUM, (uint)hook);
                w.AttrBE32(Nft.NFTA_HOOK_PRIORITY, unchecked((uint)chain.Priority));
                w.EndNested(h);
                w.AttrString(Nft.NFTA_CHAIN_TYPE, chain.Type ?? "filter");
                if (chain.Policy is { } p) w.AttrBE32(Nft.NFTA_CHAIN_POLICY, unchecked((uint)p));
            }
        });

    /// <summary><c>nft delete chain FAMILY TABLE NAME</c>.</summary>
    public NftBatch DeleteChain(NftFamily family, string table, string name) =>
        Add(Nft.NFT_MSG_DELCHAIN, 0, family, w =>
        {
            w.AttrString(Nft.NFTA_CHAIN_TABLE, table);
            w.AttrString(Nft.NFTA_CHAIN_NAME, name);
        });

    /// <summary><c>nft flush chain FAMILY TABLE NAME</c>: deletes every rule of the chain.</summary>
    public NftBatch FlushChain(NftFamily family, string table, string chain) =>
        Add(Nft.NFT_MSG_DELRULE, 0, family, w =>
        {
            w.AttrString(Nft.NFTA_RULE_TABLE, table);
            w.AttrString(Nft.NFTA_RULE_CHAIN, chain);
        });

    /// <summary>
    /// <c>nft add rule FAMILY TABLE CHAIN [position HANDLE] EXPRESSIONS comment "…"</c>: appended at the end, or after
    /// the rule <see cref="NftRule.Position"/>. With <paramref name="echo"/> the kernel sends the new rule back (with its handle).
    /// </summary>
    public NftBatch AddRule(NftRule rule, bool echo = false) => NewRule(rule, Nl.NLM_F_APPEND, echo);

    /// <summary><c>nft insert rule FAMILY TABLE CHAIN [position HANDLE] …</c>: at the start, or before the rule <see cref="NftRule.Position"/>.</summary>
    public NftBatch InsertRule(NftRule rule, bool echo = false) => NewRule(rule, 0, echo);

    private NftBatch NewRule(NftRule rule, ushort append, bool echo) =>
        Add(Nft.NFT_MSG_NEWRULE, (ushort)(Nl.NLM_F_CREATE | append | (echo ? Nl.NLM_F_ECHO : 0)), rule.Family, w =>
        {
            w.AttrString(Nft.NFTA_RULE_TABLE, rule.Table);
            w.AttrString(Nft.NFTA_RULE_CHAIN, rule.Chain);
            if (rule.Position != 0) w.AttrBE64(Nft.NFTA_RULE_POSITION, rule.Position);
            var list = w.BeginNested(Nft.NFTA_RULE_EXPRESSIONS, true);
            foreach (var e in rule.Expressions) e.Encode(w);
            w.EndNested(list);
            if (rule.Comment is { } c) w.Attr(Nft.NFTA_RULE_USERDATA, NftUserData.Comment(c, Nft.NFTNL_UDATA_RULE_COMMENT));
        });

    /// <summary><c>nft delete rule FAMILY TABLE CHAIN handle HANDLE</c>.</summary>
    public NftBatch DeleteRule(NftFamily family, string table, string chain, ulong handle) =>
        Add(Nft.NFT_MSG_DELRULE, 0, family, w =>
        {
            w.AttrString(Nft.NFTA_RULE_TABLE, table);
            w.AttrString(Nft.NFTA_RULE_CHAIN, chain);
            w.AttrBE64(Nft.NFTA_RULE_HANDLE, handle);
        });

    /// <summary><c>nft add set|map FAMILY TABLE NAME '{ type K [: D]; [counter;] }'</c> (a no-op if an identical one exists).</summary>
    public NftBatch AddSet(NftSet set) =>
        Add(Nft.NFT_MSG_NEWSET, Nl.NLM_F_CREATE, set.Family, w =>
        {
            w.AttrString(Nft.NFTA_SET_TABLE, set.Table);
            w.AttrString(Nft.NFTA_SET_NAME, set.Name);
            // NFTA_SET_ID is mandatory (it lets later messages of the batch name the set by id); unique within the batch
            w.AttrBE32(Nft.NFTA_SET_ID, (uint)Ops.Count + 1);
            // NFTA_SET_DESC_CONCAT (with NFT_SET_CONCAT) is for interval sets of concatenations (the pipapo backend);
            // the kernel refuses it for a hash set (EINVAL), where nft sends none either: the field layout is then
            // implied by the key type and length.
            var isConcat = set.ConcatFieldLengths is { Count: > 1 } && (set.Flags & Nft.NFT_SET_INTERVAL) != 0;
            w.AttrBE32(Nft.NFTA_SET_FLAGS, isConcat ? set.Flags | Nft.NFT_SET_CONCAT : set.Flags);
            w.AttrBE32(Nft.NFTA_SET_KEY_TYPE, set.KeyType);
            w.AttrBE32(Nft.NFTA_SET_KEY_LEN, set.KeyLength);
            if (set.IsMap)
            {
                w.AttrBE32(Nft.NFTA_SET_DATA_TYPE, set.DataType);
                w.AttrBE32(Nft.NFTA_SET_DATA_LEN, set.DataLength);
            }
            if (isConcat && set.ConcatFieldLengths is { } fields)
            {
                var desc = w.BeginNested(Nft.NFTA_SET_DESC, true);
                var concat = w.BeginNested(Nft.NFTA_SET_DESC_CONCAT, true);
                foreach (var f in fields)
                {
                    var e = w.BeginNested(Nft.NFTA_LIST_ELEM, true);
                    w.AttrBE32(Nft.NFTA_SET_FIELD_LEN, f);
                    w.EndNested(e);
                }
                w.EndNested(concat);
                w.EndNested(desc);
            }
            if (set.Comment is not null || set.KeyByteOrder is not null)
            {
                var udata = new List<byte>();
                if (set.KeyByteOrder is { } bo)
                {
                    udata.AddRange([Nft.NFTNL_UDATA_SET_KEYBYTEORDER, 4]);
                    udata.AddRange(BitConverter.GetBytes(bo));
                }
                if (set.Comment is { } c) udata.AddRange(NftUserData.Comment(c, Nft.NFTNL_UDATA_SET_COMMENT));
                w.Attr(Nft.NFTA_SET_USERDATA, udata.ToArray());
            }
            if (set.Counters)
            {
                var x = w.BeginNested(Nft.NFTA_SET_EXPR, true);
                w.AttrString(Nft.NFTA_EXPR_NAME, "counter");
                var d = w.BeginNested(Nft.NFTA_EXPR_DATA, true);
                w.EndNested(d);
                w.EndNested(x);
            }
        });

    /// <summary><c>nft delete set FAMILY TABLE NAME</c>.</summary>
    public NftBatch DeleteSet(NftFamily family, string table, string name) =>
        Add(Nft.NFT_MSG_DELSET, 0, family, w =>
        {
            w.AttrString(Nft.NFTA_SET_TABLE, table);
            w.AttrString(Nft.NFTA_SET_NAME, name);
        });

    /// <summary>
    /// <c>nft add element FAMILY TABLE SET '{ KEY [: DATA] [comment "…"], … }'</c>; with <paramref name="exclusive"/>
    /// (<c>nft create element</c>) an element whose key exists already fails the whole batch with EEXIST.
    /// </summary>
    public NftBatch AddElements(NftFamily family, string table, string set, IReadOnlyList<NftSetElement> elements, bool exclusive = false) =>
        Add(Nft.NFT_MSG_NEWSETELEM, (ushort)(Nl.NLM_F_CREATE | (exclusive ? Nl.NLM_F_EXCL : 0)), family, w => WriteElements(w, table, set, elements, withData: true));

    /// <summary><c>nft delete element FAMILY TABLE SET '{ KEY, … }'</c>.</summary>
    public NftBatch DeleteElements(NftFamily family, string table, string set, IReadOnlyList<NftSetElement> elements) =>
        Add(Nft.NFT_MSG_DELSETELEM, 0, family, w => WriteElements(w, table, set, elements, withData: false));

    private static void WriteElements(NetlinkWriter w, string table, string set, IReadOnlyList<NftSetElement> elements, bool withData)
    {
        w.AttrString(Nft.NFTA_SET_ELEM_LIST_TABLE, table);
        w.AttrString(Nft.NFTA_SET_ELEM_LIST_SET, set);
        var list = w.BeginNested(Nft.NFTA_SET_ELEM_LIST_ELEMENTS, true);
        foreach (var e in elements)
        {
            var el = w.BeginNested(Nft.NFTA_LIST_ELEM, true);
            var k = w.BeginNested(Nft.NFTA_SET_ELEM_KEY, true);
            w.Attr(Nft.NFTA_DATA_VALUE, e.Key);
            w.EndNested(k);
            if (withData)
            {
                if (e.Verdict is { } v)
                {
                    var d = w.BeginNested(Nft.NFTA_SET_ELEM_DATA, true);
                    NftImmediate.WriteVerdict(w, v, e.Chain);
                    w.EndNested(d);
                }
                else if (e.Data is { } data)
                {
                    var d = w.BeginNested(Nft.NFTA_SET_ELEM_DATA, true);
                    w.Attr(Nft.NFTA_DATA_VALUE, data);
                    w.EndNested(d);
                }
                if (e.Comment is { } c) w.Attr(Nft.NFTA_SET_ELEM_USERDATA, NftUserData.Comment(c, Nft.NFTNL_UDATA_SET_ELEM_COMMENT));
            }
            w.EndNested(el);
        }
        w.EndNested(list);
    }
}
