using System.Net;
using ContainerNetworking.Netlink;

namespace ContainerNetworking.Tests.NetlinkLayer;

/// <summary>NetlinkWriter's framing (padding, back-patched lengths) and AttributeReader reading it back.</summary>
public sealed class NetlinkCodecTests
{
    [Fact]
    public void NestedAttributes_HaveBackPatchedLengths_AndPadding()
    {
        var w = new NetlinkWriter(8); // small on purpose: the buffer has to grow
        w.BeginMessage(16, Nl.NLM_F_REQUEST, 1);
        w.AttrU8(1, 0xab);
        var outer = w.BeginNested(2, nestedFlag: true);
        w.AttrString(3, "abc");
        w.AttrAddress(4, IPAddress.Parse("10.0.0.1"));
        w.EndNested(outer);
        w.EndMessage();
        var b = w.Written.ToArray();
        Assert.Equal(
            "2c000000" + "1000" + "0100" + "01000000" + "00000000" +
            "05000100" + "ab000000" +                       // u8 + 3 bytes pad
            "14000280" +                                    // nested, 20 bytes, NLA_F_NESTED
            "08000300" + "61626300" +                       // "abc\0"
            "08000400" + "0a000001",                        // address
            Convert.ToHexString(b).ToLowerInvariant());
        Assert.Equal(b.Length, BitConverter.ToInt32(b, 0));

        var msgs = new List<NetlinkMessage>();
        NetlinkMessage.Split(b, b.Length, msgs);
        var r = Assert.Single(msgs).Attributes(0);
        Assert.True(r.Next());
        Assert.Equal(0xab, r.GetU8());
        Assert.True(r.Next());
        Assert.Equal(2, r.Type);
        Assert.Equal(2 | Nl.NLA_F_NESTED, r.RawType);
        var n = r.Nested();
        Assert.True(n.Next());
        Assert.Equal("abc", n.GetString());
        Assert.True(n.Next());
        Assert.Equal(IPAddress.Parse("10.0.0.1"), n.GetAddress());
        Assert.False(n.Next());
        Assert.False(r.Next());
    }

    [Fact]
    public void TwoMessagesInOneDatagram_SplitApart()
    {
        var w = new NetlinkWriter();
        w.BeginMessage(16, 0, 1);
        w.AttrU8(1, 1);
        w.EndMessage();
        w.BeginMessage(17, 0, 2);
        w.AttrU32(1, 7);
        w.EndMessage();
        var msgs = new List<NetlinkMessage>();
        NetlinkMessage.Split(w.Written.ToArray(), w.Length, msgs);
        Assert.Equal(2, msgs.Count);
        Assert.Equal((ushort)17, msgs[1].Type);
        Assert.Equal(2u, msgs[1].Sequence);
        var r = msgs[1].Attributes(0);
        Assert.True(r.Next());
        Assert.Equal(7u, r.GetU32());
        Assert.Throws<NetlinkDecodeException>(() => { var a = msgs[0].Attributes(0); a.Next(); a.GetU32(); });
    }
}
