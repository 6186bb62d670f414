using System.Net;
using System.Text.Json;
using ContainerNetworking.Netfilter;
using ContainerNetworking.Netlink;
using ContainerNetworking.Tests.Fixtures;

namespace ContainerNetworking.Tests.Netfilter;

/// <summary>The nf_tables client against the kernel, with the nft CLI as the oracle (google/nftables' nft_test.go style).</summary>
public sealed class NftClientTests : IDisposable
{
    private readonly TestNamespaces _nss = new();
    public void Dispose() => _nss.Dispose();

    private static NftRule R(string chain, string? comment, params NftExpr[] e) => new(NftFamily.Inet, "t", chain, e) { Comment = comment };

    [Fact]
    public void Batch_TablesChainsRulesSets_ReadBackEqualsWhatNftShows()
    {
        using var ns = _nss.Create("nftc");
        var nft = ns.Nft;
        var gen0 = nft.GetGeneration();
        var b = new NftBatch()
            .AddTable(new NftTable(NftFamily.Inet, "t"))
            .AddChain(new NftChain(NftFamily.Inet, "t", "post") { Hook = NftHook.Postrouting, Priority = 100, Type = "nat", Policy = Nft.NF_ACCEPT })
            .AddChain(new NftChain(NftFamily.Inet, "t", "fwd") { Hook = NftHook.Forward, Priority = 0, Type = "filter", Policy = Nft.NF_DROP })
            .AddChain(new NftChain(NftFamily.Inet, "t", "sub"))
            .AddSet(new NftSet(NftFamily.Inet, "t", "m")
            {
                Flags = Nft.NFT_SET_MAP, KeyType = Nft.ConcatType(Nft.TYPE_INET_PROTOCOL, Nft.TYPE_INET_SERVICE), KeyLength = 8,
                DataType = Nft.ConcatType(Nft.TYPE_IPADDR, Nft.TYPE_INET_SERVICE), DataLength = 8, ConcatFieldLengths = [1, 2],
            })
            .AddRule(R("post", "owner x", [.. NftMatch.NfProto(Nft.NFPROTO_IPV4), .. NftMatch.Address(true, IPNetwork.Parse("192.168.0.0/24")),
                .. NftMatch.IfName(true, "br0", equal: false), new NftCounter(), new NftMasq()]))
            .AddRule(R("fwd", null, [.. NftMatch.CtBits(Nft.NFT_CT_STATE, Nft.NF_CT_STATE_ESTABLISHED | Nft.NF_CT_STATE_RELATED), NftImmediate.Accept()]))
            .AddRule(R("fwd", "to sub", NftImmediate.Jump("sub")))
            .AddElements(NftFamily.Inet, "t", "m", [new NftSetElement([6, 0, 0, 0, 0x1f, 0x98, 0, 0]) { Data = [192, 168, 0, 2, 0, 80, 0, 0], Comment = "web" }]);
        nft.Commit(b);
        Assert.NotEqual(gen0, nft.GetGeneration());

        // chains: what nft shows = what was asked = what the client reads back
        var nftChains = NftOracle.Items(ns.Name!, "chain").ToDictionary(c => c.GetProperty("name").GetString()!);
        var mine = nft.ListChains(NftFamily.Inet, "t").ToDictionary(c => c.Name);
        Assert.Equal(new[] { "fwd", "post", "sub" }, nftChains.Keys.Order());
        Assert.Equal(nftChains.Keys.Order(), mine.Keys.Order());
        Assert.Equal("postrouting", nftChains["post"].GetProperty("hook").GetString());
        Assert.Equal(100, nftChains["post"].GetProperty("prio").GetInt32());
        Assert.Equal("nat", nftChains["post"].GetProperty("type").GetString());
        Assert.Equal("drop", nftChains["fwd"].GetProperty("policy").GetString());
        Assert.False(nftChains["sub"].TryGetProperty("hook", out _));
        foreach (var (name, c) in nftChains)
        {
            Assert.Equal(c.GetProperty("handle").GetUInt64(), mine[name].Handle);
            if (c.TryGetProperty("hook", out var h))
            {
                Assert.Equal(h.GetString(), NftText.Hook(mine[name].Hook!.Value));
                Assert.Equal(c.GetProperty("prio").GetInt32(), mine[name].Priority);
                Assert.Equal(c.GetProperty("policy").GetString() == "accept" ? Nft.NF_ACCEPT : Nft.NF_DROP, mine[name].Policy);
            }
            else Assert.Null(mine[name].Hook);
        }

        // rules: handles and comments equal, the expressions are what nft would write for the same text
        var nftRules = NftOracle.Items(ns.Name!, "rule").ToList();
        var myRules = nft.ListRules(NftFamily.Inet, "t");
        Assert.Equal(nftRules.Count, myRules.Count);
        foreach (var jr in nftRules)
        {
            var r = myRules.Single(x => x.Handle == jr.GetProperty("handle").GetUInt64());
            Assert.Equal(jr.GetProperty("chain").GetString(), r.Chain);
            Assert.Equal(jr.TryGetProperty("comment", out var c) ? c.GetString() : null, r.Comment);
        }
        var post = nftRules.Single(r => r.GetProperty("chain").GetString() == "post").GetProperty("expr").GetRawText();
        Assert.Contains("\"prefix\": {\"addr\": \"192.168.0.0\", \"len\": 24}", post);
        Assert.Contains("{\"match\": {\"op\": \"!=\", \"left\": {\"meta\": {\"key\": \"oifname\"}}, \"right\": \"br0\"}}", post);
        Assert.Contains("\"masquerade\": null", post);
        var fwd = nftRules.Where(r => r.GetProperty("chain").GetString() == "fwd").Select(r => r.GetProperty("expr").GetRawText()).ToList();
        Assert.Contains("[\"established\", \"related\"]", fwd[0]);
        Assert.Contains("{\"jump\": {\"target\": \"sub\"}}", fwd[1]);
        Assert.Equal(NftImmediate.Jump("sub"), myRules.Single(r => r.Comment == "to sub").Expressions.Single());

        // the concatenated map, as nft decodes it
        var map = NftOracle.Items(ns.Name!, "map").Single();
        Assert.Equal("[\"inet_proto\",\"inet_service\"]", JsonSerializer.Serialize(map.GetProperty("type")));
        Assert.Equal("ipv4_addr . inet_service", map.GetProperty("map").GetString());
        var elem = map.GetProperty("elem")[0];
        Assert.Contains("{\"concat\": [\"tcp\", 8088]}", elem[0].GetRawText());
        Assert.Contains("\"comment\": \"web\"", elem[0].GetRawText());
        Assert.Equal("{\"concat\": [\"192.168.0.2\", 80]}", elem[1].GetRawText());
        var myElem = nft.ListElements(NftFamily.Inet, "t", "m").Single();
        Assert.Equal("web", myElem.Comment);
        Assert.Equal(new byte[] { 192, 168, 0, 2, 0, 80, 0, 0 }, myElem.Data);
        var mySet = nft.ListSets(NftFamily.Inet, "t").Single();
        Assert.Equal(Nft.ConcatType(Nft.TYPE_INET_PROTOCOL, Nft.TYPE_INET_SERVICE), mySet.KeyType);
        Assert.Equal(8u, mySet.DataLength);
        Assert.Equal(map.GetProperty("handle").GetUInt64(), mySet.Handle);
    }

    [Fact]
    public void RuleEncoding_IsWhatNftGeneratesForTheSameText()
    {
        // Golden comparison: nft compiles the text in one namespace, the client encodes the rule in another;
        // libnftnl's dump of both (nft --debug=netlink) must be identical, user data (the comment TLV) included.
        using var a = _nss.Create("gold-nft");
        using var b = _nss.Create("gold-cn");
        var text = "table inet t { chain post { type nat hook postrouting priority 100; policy accept; }; chain pre { type nat hook prerouting priority -100; policy accept; }; chain pub { }; map p4 { type inet_proto . inet_service : ipv4_addr . inet_service; }; }";
        Assert.Equal(0, Cli.Run("sh", "-c", $"echo '{text}' | ip netns exec {a.Name} nft -f -").ExitCode);
        NftOracle.Run(a.Name!, "add", "rule", "inet", "t", "post", "ip", "saddr", "192.168.0.0/24", "oifname", "!=", "br0", "counter", "masquerade", "comment", "\"cn:test owner=x\"");
        NftOracle.Run(a.Name!, "add", "rule", "inet", "t", "post", "ct", "status", "dnat", "ip", "saddr", "10.1.0.0/20", "masquerade");
        NftOracle.Run(a.Name!, "add", "rule", "inet", "t", "post", "ip", "saddr", "10.0.0.0/8", "snat", "ip", "to", "198.18.0.9");
        NftOracle.Run(a.Name!, "add", "rule", "inet", "t", "pre", "fib", "daddr", "type", "local", "jump", "pub");
        NftOracle.Run(a.Name!, "add", "rule", "inet", "t", "pub", "meta", "nfproto", "ipv4", "dnat", "ip", "to", "meta", "l4proto", ".", "th", "dport", "map", "@p4");

        var nft = b.Nft;
        var v4 = Nft.NFPROTO_IPV4;
        nft.Commit(new NftBatch()
            .AddTable(new NftTable(NftFamily.Inet, "t"))
            .AddChain(new NftChain(NftFamily.Inet, "t", "post") { Hook = NftHook.Postrouting, Priority = 100, Type = "nat", Policy = Nft.NF_ACCEPT })
            .AddChain(new NftChain(NftFamily.Inet, "t", "pre") { Hook = NftHook.Prerouting, Priority = -100, Type = "nat", Policy = Nft.NF_ACCEPT })
            .AddChain(new NftChain(NftFamily.Inet, "t", "pub"))
            .AddSet(new NftSet(NftFamily.Inet, "t", "p4")
            {
                Flags = Nft.NFT_SET_MAP, KeyType = Nft.ConcatType(Nft.TYPE_INET_PROTOCOL, Nft.TYPE_INET_SERVICE), KeyLength = 8,
                DataType = Nft.ConcatType(Nft.TYPE_IPADDR, Nft.TYPE_INET_SERVICE), DataLength = 8, ConcatFieldLengths = [1, 2],
            })
            .AddRule(R("post", "cn:test owner=x", [.. NftMatch.NfProto(v4), .. NftMatch.Address(true, IPNetwork.Parse("192.168.0.0/24")),
                .. NftMatch.IfName(true, "br0", equal: false), new NftCounter(), new NftMasq()]))
            .AddRule(R("post", null, [.. NftMatch.CtBits(Nft.NFT_CT_STATUS, Nft.IPS_DST_NAT), .. NftMatch.NfProto(v4),
                .. NftMatch.Address(true, IPNetwork.Parse("10.1.0.0/20")), new NftMasq()]))
            .AddRule(R("post", null, [.. NftMatch.NfProto(v4), .. NftMatch.Address(true, IPNetwork.Parse("10.0.0.0/8")),
                NftImmediate.Value([198, 18, 0, 9]), new NftNat(Nft.NFT_NAT_SNAT, v4, Nft.NFT_REG_1)]))
            .AddRule(R("pre", null, [.. NftMatch.DaddrIsLocal(), NftImmediate.Jump("pub")]))
            .AddRule(R("pub", null, [.. NftMatch.NfProto(v4), new NftMeta(Nft.NFT_META_L4PROTO), new NftPayload(Nft.NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, Nft.NFT_REG32_00 + 1),
                new NftLookup("p4", Nft.NFT_REG_1, Nft.NFT_REG_1), new NftNat(Nft.NFT_NAT_DNAT, v4, Nft.NFT_REG_1, Nft.NFT_REG32_00 + 1)])));

        foreach (var chain in new[] { "post", "pre", "pub" })
        {
            var expected = NftOracle.DebugNetlink(a.Name!, "list", "chain", "inet", "t", chain);
            var actual = NftOracle.DebugNetlink(b.Name!, "list", "chain", "inet", "t", chain);
            Assert.Equal(expected, actual);
        }
        // and the client decodes nft's rules into the very expressions it encodes
        var fromNft = a.Nft.ListRules(NftFamily.Inet, "t");
        var fromMe = nft.ListRules(NftFamily.Inet, "t");
        Assert.Equal(fromNft.Select(r => (r.Chain, r.Comment)), fromMe.Select(r => (r.Chain, r.Comment)));
        for (var i = 0; i < fromNft.Count; i++) Assert.Equal(fromNft[i].Expressions, fromMe[i].Expressions);
    }

    [Fact]
    public void CommentUserData_IsLibnftnlsTlv()
    {
        // nft --debug=netlink shows "userdata = { \x00\x06hello\x00 }" for comment "hello"
        Assert.Equal(new byte[] { 0, 6, (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o', 0 }, NftUserData.Comment("hello"));
        Assert.Equal("hello", NftUserData.ReadComment(NftUserData.Comment("hello")));
    }

    [Fact]
    public void BatchHeader_GoldenBytes()
    {
        // NFNL_MSG_BATCH_BEGIN: len 20, type 0x10, flags REQUEST, nfgenmsg AF_UNSPEC v0 res_id htons(NFNL_SUBSYS_NFTABLES)
        var w = new NetlinkWriter();
        w.BeginMessage(Nft.NFNL_MSG_BATCH_BEGIN, Nl.NLM_F_REQUEST, 7);
        w.Write(new nfgenmsg(Nft.NFPROTO_UNSPEC, Nft.NFNL_SUBSYS_NFTABLES));
        w.EndMessage();
        Assert.Equal("14000000" + "1000" + "0100" + "07000000" + "00000000" + "00" + "00" + "000a", Convert.ToHexString(w.Written).ToLowerInvariant());
    }

    [Fact]
    public void FailedBatch_ChangesNothing_AndNamesTheMessage()
    {
        using var ns = _nss.Create("nftatomic");
        var before = NftOracle.RulesetText(ns.Name!);
        var b = new NftBatch()
            .AddTable(new NftTable(NftFamily.Inet, "t"))
            .AddChain(new NftChain(NftFamily.Inet, "t", "c"))
            .AddRule(R("c", null, NftImmediate.Jump("does-not-exist")));
        var e = Assert.Throws<NetlinkException>(() => ns.Nft.Commit(b));
        Assert.Equal("NFT_MSG_NEWRULE", e.Operation);
        Assert.Equal(2, e.ErrorNumber); // ENOENT
        Assert.Equal(before, NftOracle.RulesetText(ns.Name!));
        Assert.Empty(ns.Nft.ListTables(NftFamily.Inet));
    }

    [Fact]
    public void StaleGeneration_IsRefused_AndTransactionRetries()
    {
        using var ns = _nss.Create("nftgen");
        var nft = ns.Nft;
        var gen = nft.GetGeneration();
        nft.Commit(new NftBatch().AddTable(new NftTable(NftFamily.Inet, "a")));
        var e = Assert.Throws<NetlinkException>(() => nft.Commit(new NftBatch().AddTable(new NftTable(NftFamily.Inet, "b")), gen));
        Assert.Equal(NftClient.ERESTART, e.ErrorNumber);
        Assert.DoesNotContain(nft.ListTables(), t => t.Name == "b");

        // a concurrent change between plan and commit makes Transaction plan again
        var plans = 0;
        nft.Transaction(() =>
        {
            if (plans++ == 0) NftOracle.Run(ns.Name!, "add", "table", "inet", "intruder");
            return new NftBatch().AddTable(new NftTable(NftFamily.Inet, "b"));
        });
        Assert.Equal(2, plans);
        Assert.Contains(nft.ListTables(), t => t.Name == "b");
    }

    [Fact]
    public void LargeBatch_OfThousandsOfRules_CommitsAndReportsSuccess()
    {
        // Every message of a batch is ACKed: 5,000 ACKs (each with the echoed header and ext-ACK TLVs) overflowed a fixed
        // 1 MiB receive buffer (recv: ENOBUFS) although the kernel had committed every rule.
        using var ns = _nss.Create("nftbig");
        const int rules = 5000;
        ns.Nft.Commit(ManyRules(rules), ns.Nft.GetGeneration());
        Assert.Equal(0, ns.Nft.Connection.Overruns);

        var listed = NftOracle.Items(ns.Name!, "rule").Select(r => r.GetProperty("comment").GetString()).ToList();
        Assert.Equal(rules, listed.Count);
        Assert.Equal("rule 0", listed[0]);
        Assert.Equal("rule " + (rules - 1), listed[^1]);
        Assert.Equal(rules, ns.Nft.ListRules(NftFamily.Inet, "t").Count);
    }

    private static NftBatch ManyRules(int count, NftRule? last = null)
    {
        var b = new NftBatch()
            .AddTable(new NftTable(NftFamily.Inet, "t"))
            .AddChain(new NftChain(NftFamily.Inet, "t", "c"));
        for (var i = 0; i < count; i++)
            b.AddRule(R("c", "rule " + i, [.. NftMatch.NfProto(Nft.NFPROTO_IPV4), new NftCounter(), NftImmediate.Accept()]));
        if (last is not null) b.AddRule(last);
        return b;
    }

    [Fact]
    public void LostAnswers_CommittedBatch_IsReportedAsCommitted_FromTheGeneration()
    {
        // A receive queue too small for the answers (and not grown): the kernel drops most ACKs (ENOBUFS), and the
        // generation (one more than before) tells the batch was committed.
        using var ns = _nss.Create("nftlost");
        var conn = ns.Nft.Connection;
        conn.GrowReceiveBufferForBatches = false;
        conn.Socket.SetReceiveBuffer(64 * 1024);
        var gen = ns.Nft.GetGeneration();
        ns.Nft.Commit(ManyRules(3000), gen);
        Assert.Equal(1, conn.Overruns);
        Assert.Equal(gen + 1, ns.Nft.GetGeneration());
        Assert.Equal(3000, NftOracle.Items(ns.Name!, "rule").Count());
    }

    [Fact]
    public void LostAnswers_RefusedBatch_ReportsTheKernelsReason_AndChangesNothing()
    {
        using var ns = _nss.Create("nftlostbad");
        var conn = ns.Nft.Connection;
        conn.GrowReceiveBufferForBatches = false;
        conn.Socket.SetReceiveBuffer(64 * 1024);
        var before = NftOracle.RulesetText(ns.Name!);
        var e = Assert.Throws<NetlinkException>(() => ns.Nft.Commit(ManyRules(3000, R("c", null, NftImmediate.Jump("does-not-exist")))));
        Assert.Equal(1, conn.Overruns);
        Assert.Equal("NFT_MSG_NEWRULE", e.Operation);
        Assert.Equal(2, e.ErrorNumber); // ENOENT, for the last rule: the batch was sent again with room for every answer
        Assert.Equal(before, NftOracle.RulesetText(ns.Name!));
    }

    [Fact]
    public void StaleError_OfAnEarlierRequest_IsNotBlamedOnTheBatch()
    {
        using var ns = _nss.Create("nftstale");
        var conn = ns.Nft.Connection;
        // A request whose answer (ENOENT: no such table) nobody reads, as one abandoned half-way would leave.
        var w = new NetlinkWriter();
        w.BeginMessage(Nft.Type(Nft.NFT_MSG_GETTABLE), Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, conn.NextSequence());
        w.Write(new nfgenmsg((byte)NftFamily.Inet));
        w.AttrString(Nft.NFTA_TABLE_NAME, "missing");
        w.EndMessage();
        conn.Socket.Send(w.Written);
        ns.Nft.Commit(new NftBatch().AddTable(new NftTable(NftFamily.Inet, "t")));
        Assert.Contains(ns.Nft.ListTables(NftFamily.Inet), t => t.Name == "t");
    }

    [Fact]
    public void SequenceNumbers_AreUnique_AcrossThreads()
    {
        using var ns = _nss.Create("nftseq");
        var conn = ns.Nft.Connection;
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<uint, byte>();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 20000; i++) Assert.True(seen.TryAdd(conn.NextSequence(), 0));
        });
        Assert.Equal(160000, seen.Count);
    }
}
