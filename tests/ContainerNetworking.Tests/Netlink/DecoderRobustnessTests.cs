using System.Buffers.Binary;
using System.Net;
using ContainerNetworking.Netlink;
using ContainerNetworking.Route;
using ContainerNetworking.Tests.Fixtures;
using static ContainerNetworking.Route.RtnlConstants;

namespace ContainerNetworking.Tests.NetlinkLayer;

/// <summary>
/// The decoders (NetlinkMessage.Split, AttributeReader, RouteClient's record decoders) on truncated, mutated and random
/// input: they may only raise NetlinkDecodeException. The seed corpus is real kernel answers from a throwaway namespace.
/// </summary>
public sealed class DecoderRobustnessTests : IDisposable
{
    private readonly TestNamespaces _nss = new();
    public void Dispose() => _nss.Dispose();

    private static readonly ushort[] Types = [RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWNEIGH, RTM_NEWNSID, Nl.NLMSG_ERROR, Nl.NLMSG_DONE];
    private static readonly byte[] Families = [AF_UNSPEC, AF_INET, AF_BRIDGE, AF_INET6];

    /// <summary>Everything a decoder might do with a datagram; any exception but NetlinkDecodeException fails the test.</summary>
    private static int DecodeAll(byte[] datagram, int length)
    {
        var n = 0;
        var msgs = new List<NetlinkMessage>();
        try { NetlinkMessage.Split(datagram, length, msgs); }
        catch (NetlinkDecodeException) { return 0; }
        foreach (var m in msgs)
        {
            n += Try(() => RouteClient.DecodeLink(m, "x"));
            n += Try(() => RouteClient.DecodeAddress(m, "x"));
            n += Try(() => RouteClient.DecodeRoute(m, "x"));
            n += Try(() => RouteClient.DecodeNeighbor(m, "x"));
            n += Try(() => RouteClient.DecodeFdb(m, "x"));
            n += Try(() => m.ErrorCode);
            n += Try(() => m.ErrorSequence);
            n += Try(() => m.ExtendedAck());
            foreach (var headerSize in new[] { 0, 1, 4, 8, 12, 16 })
                n += Try(() => Walk(m.Attributes(headerSize), 0));
        }
        return n;
    }

    private static int Try<T>(Func<T> f)
    {
        try { f(); return 1; }
        catch (NetlinkDecodeException) { return 0; }
    }

    /// <summary>Walks every attribute, reading it every way and descending into it as if it were nested.</summary>
    private static int Walk(AttributeReader r, int depth)
    {
        var count = 0;
        while (r.Next())
        {
            count++;
            for (var how = 0; how < 11; how++)
            {
                try
                {
                    _ = how switch
                    {
                        0 => r.GetU8(), 1 => r.GetU16(), 2 => r.GetU32(), 3 => r.GetU64(), 4 => r.GetBE16(), 5 => r.GetBE32(),
                        6 => r.GetBE64(), 7 => r.GetS32(), 8 => r.GetString(), 9 => r.GetAddress(), _ => (object)r.GetBytes(),
                    };
                }
                catch (NetlinkDecodeException) { }
            }
            if (depth < 4)
            {
                try { count += Walk(r.Nested(), depth + 1); }
                catch (NetlinkDecodeException) { }
            }
        }
        return count;
    }

    /// <summary>Real kernel answers: links (veth, bridge, bridge port, stats), addresses, routes, neighbours, FDB.</summary>
    private List<byte[]> Corpus()
    {
        var a = _nss.Create("fuzz");
        var b = _nss.Create("fuzzb");
        a.Rtnl.CreateBridge("br0", new BridgeOptions { Up = true });
        a.Rtnl.CreateVeth("v0", "eth0", b.Handle, new VethOptions { Up = true, PeerUp = true, Master = "br0" });
        a.Rtnl.AddAddress("br0", IPAddress.Parse("10.5.0.1"), 24);
        a.Rtnl.AddAddress("br0", IPAddress.Parse("fd00:5::1"), 64);
        b.Rtnl.AddAddress("eth0", IPAddress.Parse("10.5.0.2"), 24);
        b.Rtnl.AddDefaultRoute(IPAddress.Parse("10.5.0.1"));
        Cli.Ping(b.Name!, "10.5.0.1");
        var corpus = new List<byte[]>();
        var c = a.RouteConnection;
        foreach (var m in c.Dump(RTM_GETLINK, RouteClient.WriteDumpLinks)) corpus.Add(m.Bytes.ToArray());
        foreach (var m in c.Dump(RTM_GETADDR, w => RouteClient.WriteDumpAddresses(w, AF_UNSPEC, 0))) corpus.Add(m.Bytes.ToArray());
        foreach (var m in c.Dump(RTM_GETROUTE, w => RouteClient.WriteDumpRoutes(w, AF_UNSPEC, RT_TABLE_MAIN))) corpus.Add(m.Bytes.ToArray());
        foreach (var m in c.Dump(RTM_GETNEIGH, w => RouteClient.WriteDumpNeighbors(w, AF_UNSPEC, 0))) corpus.Add(m.Bytes.ToArray());
        foreach (var m in c.Dump(RTM_GETNEIGH, w => RouteClient.WriteDumpFdb(w, 0))) corpus.Add(m.Bytes.ToArray());
        foreach (var m in b.RouteConnection.Dump(RTM_GETLINK, RouteClient.WriteDumpLinks)) corpus.Add(m.Bytes.ToArray());
        return corpus;
    }

    [Fact]
    public void RealMessages_Decode_AndEveryTruncationRaisesOnlyDecodeErrors()
    {
        var corpus = Corpus();
        Assert.Contains(corpus, m => BinaryPrimitives.ReadUInt16LittleEndian(m.AsSpan(4)) == RTM_NEWNEIGH);
        // Whole: every record decodes.
        var decoded = 0;
        foreach (var bytes in corpus)
        {
            var msgs = new List<NetlinkMessage>();
            NetlinkMessage.Split(bytes, bytes.Length, msgs);
            var m = Assert.Single(msgs);
            object? r = RouteClient.DecodeLink(m, null) ?? (object?)RouteClient.DecodeAddress(m, null) ?? RouteClient.DecodeRoute(m, null)
                ?? (object?)RouteClient.DecodeNeighbor(m, null) ?? RouteClient.DecodeFdb(m, null);
            if (r is not null) decoded++;
        }
        Assert.True(decoded >= corpus.Count - 2, $"{decoded} of {corpus.Count} decoded");

        // Truncated at every length, with the header's length field both left alone and made to agree.
        foreach (var bytes in corpus)
        {
            for (var len = 0; len < bytes.Length; len++)
            {
                DecodeAll(bytes, len);
                if (len < Nl.NLMSG_HDRLEN) continue;
                var cut = bytes[..len];
                BinaryPrimitives.WriteUInt32LittleEndian(cut, (uint)len);
                DecodeAll(cut, len);
            }
        }
    }

    [Fact]
    public void MutatedMessages_RaiseOnlyDecodeErrors()
    {
        var corpus = Corpus();
        var rng = new Random(20240602);
        for (var i = 0; i < 20000; i++)
        {
            var bytes = (byte[])corpus[rng.Next(corpus.Count)].Clone();
            var flips = rng.Next(1, 6);
            for (var f = 0; f < flips; f++)
            {
                var pos = rng.Next(bytes.Length);
                switch (rng.Next(3))
                {
                    case 0: bytes[pos] = (byte)rng.Next(256); break;
                    case 1: bytes[pos] ^= (byte)(1 << rng.Next(8)); break;
                    default:
                        // Attribute lengths are where decoders go wrong: hit a 16-bit field with a boundary value.
                        if (pos + 1 < bytes.Length) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(pos), (ushort)(new[] { 0, 1, 3, 4, 5, 0xffff, bytes.Length - pos }[rng.Next(7)]));
                        break;
                }
            }
            DecodeAll(bytes, bytes.Length);
        }
    }

    [Fact]
    public void RandomBuffers_RaiseOnlyDecodeErrors()
    {
        var rng = new Random(7);
        for (var i = 0; i < 20000; i++)
        {
            var bytes = new byte[rng.Next(0, 200)];
            rng.NextBytes(bytes);
            if (bytes.Length >= 20)
            {
                // A plausible header, so the decoders behind Split get to see the random payload.
                BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)rng.Next(16, bytes.Length + 1));
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), Types[rng.Next(Types.Length)]);
                bytes[16] = Families[rng.Next(Families.Length)];
            }
            DecodeAll(bytes, bytes.Length);
        }
    }

    [Fact]
    public void Split_RefusesLengthsBeyondTheBuffer()
    {
        Assert.Throws<NetlinkDecodeException>(() => NetlinkMessage.Split(new byte[8], 9, []));
        var h = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(h, 17);
        Assert.Throws<NetlinkDecodeException>(() => NetlinkMessage.Split(h, 16, []));
        BinaryPrimitives.WriteUInt32LittleEndian(h, 15);
        Assert.Throws<NetlinkDecodeException>(() => NetlinkMessage.Split(h, 16, []));
    }
}
