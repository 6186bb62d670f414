namespace ContainerNetworking.Netfilter;

/// <summary>
/// Constants of &lt;linux/netfilter/nfnetlink.h&gt; and &lt;linux/netfilter/nf_tables.h&gt;, with the kernel's names
/// (the one place for nf_tables constants). Message types are given without the subsystem byte; see <see cref="Type"/>.
/// </summary>
public static class Nft
{
    // nfnetlink.h
    public const byte NFNETLINK_V0 = 0;
    public const ushort NFNL_SUBSYS_CTNETLINK = 1;
    public const ushort NFNL_SUBSYS_NFTABLES = 10;
    public const ushort NFNL_MSG_BATCH_BEGIN = 0x10;
    public const ushort NFNL_MSG_BATCH_END = 0x11;
    public const ushort NFNL_BATCH_GENID = 1;

    /// <summary>The nlmsg_type of an nf_tables message: subsystem in the high byte.</summary>
    public static ushort Type(ushort msg) => (ushort)((NFNL_SUBSYS_NFTABLES << 8) | msg);

    // enum nf_tables_msg_types
    public const ushort NFT_MSG_NEWTABLE = 0;
    public const ushort NFT_MSG_GETTABLE = 1;
    public const ushort NFT_MSG_DELTABLE = 2;
    public const ushort NFT_MSG_NEWCHAIN = 3;
    public const ushort NFT_MSG_GETCHAIN = 4;
    public const ushort NFT_MSG_DELCHAIN = 5;
    public const ushort NFT_MSG_NEWRULE = 6;
    public const ushort NFT_MSG_GETRULE = 7;
    public const ushort NFT_MSG_DELRULE = 8;
    public const ushort NFT_MSG_NEWSET = 9;
    public const ushort NFT_MSG_GETSET = 10;
    public const ushort NFT_MSG_DELSET = 11;
    public const ushort NFT_MSG_NEWSETELEM = 12;
    public const ushort NFT_MSG_GETSETELEM = 13;
    public const ushort NFT_MSG_DELSETELEM = 14;
    public const ushort NFT_MSG_NEWGEN = 15;
    public const ushort NFT_MSG_GETGEN = 16;

    // NFPROTO_*
    public const byte NFPROTO_UNSPEC = 0;
    public const byte NFPROTO_INET = 1;
    public const byte NFPROTO_IPV4 = 2;
    public const byte NFPROTO_ARP = 3;
    public const byte NFPROTO_NETDEV = 5;
    public const byte NFPROTO_BRIDGE = 7;
    public const byte NFPROTO_IPV6 = 10;

    // netfilter hooks (NF_INET_*)
    public const uint NF_INET_PRE_ROUTING = 0;
    public const uint NF_INET_LOCAL_IN = 1;
    public const uint NF_INET_FORWARD = 2;
    public const uint NF_INET_LOCAL_OUT = 3;
    public const uint NF_INET_POST_ROUTING = 4;

    // verdicts
    public const int NF_DROP = 0;
    public const int NF_ACCEPT = 1;
    public const int NFT_CONTINUE = -1;
    public const int NFT_BREAK = -2;
    public const int NFT_JUMP = -3;
    public const int NFT_GOTO = -4;
    public const int NFT_RETURN = -5;

    // registers
    public const uint NFT_REG_VERDICT = 0;
    public const uint NFT_REG_1 = 1;
    public const uint NFT_REG_2 = 2;
    public const uint NFT_REG32_00 = 8;

    // table
    public const ushort NFTA_TABLE_NAME = 1;
    public const ushort NFTA_TABLE_FLAGS = 2;
    public const ushort NFTA_TABLE_USE = 3;
    public const ushort NFTA_TABLE_HANDLE = 4;
    public const ushort NFTA_TABLE_USERDATA = 6;

    // chain
    public const ushort NFTA_CHAIN_TABLE = 1;
    public const ushort NFTA_CHAIN_HANDLE = 2;
    public const ushort NFTA_CHAIN_NAME = 3;
    public const ushort NFTA_CHAIN_HOOK = 4;
    public const ushort NFTA_CHAIN_POLICY = 5;
    public const ushort NFTA_CHAIN_USE = 6;
    public const ushort NFTA_CHAIN_TYPE = 7;
    public const ushort NFTA_CHAIN_COUNTERS = 8;
    public const ushort NFTA_CHAIN_FLAGS = 10;
    public const ushort NFTA_HOOK_HOOKNUM = 1;
    public const ushort NFTA_HOOK_PRIORITY = 2;
    public const ushort NFTA_HOOK_DEV = 3;

    // rule
    public const ushort NFTA_RULE_TABLE = 1;
    public const ushort NFTA_RULE_CHAIN = 2;
    public const ushort NFTA_RULE_HANDLE = 3;
    public const ushort NFTA_RULE_EXPRESSIONS = 4;
    public const ushort NFTA_RULE_POSITION = 6;
    public const ushort NFTA_RULE_USERDATA = 7;
    public const ushort NFTA_LIST_ELEM = 1;
    public const ushort NFTA_EXPR_NAME = 1;
    public const ushort NFTA_EXPR_DATA = 2;

    // data
    public const ushort NFTA_DATA_VALUE = 1;
    public const ushort NFTA_DATA_VERDICT = 2;
    public const ushort NFTA_VERDICT_CODE = 1;
    public const ushort NFTA_VERDICT_CHAIN = 2;

    // immediate
    public const ushort NFTA_IMMEDIATE_DREG = 1;
    public const ushort NFTA_IMMEDIATE_DATA = 2;
    // cmp
    public const ushort NFTA_CMP_SREG = 1;
    public const ushort NFTA_CMP_OP = 2;
    public const ushort NFTA_CMP_DATA = 3;
    // lookup
    public const ushort NFTA_LOOKUP_SET = 1;
    public const ushort NFTA_LOOKUP_SREG = 2;
    public const ushort NFTA_LOOKUP_DREG = 3;
    public const ushort NFTA_LOOKUP_FLAGS = 5;
    public const uint NFT_LOOKUP_F_INV = 1;
    // payload
    public const ushort NFTA_PAYLOAD_DREG = 1;
    public const ushort NFTA_PAYLOAD_BASE = 2;
    public const ushort NFTA_PAYLOAD_OFFSET = 3;
    public const ushort NFTA_PAYLOAD_LEN = 4;
    // bitwise
    public const ushort NFTA_BITWISE_SREG = 1;
    public const ushort NFTA_BITWISE_DREG = 2;
    public const ushort NFTA_BITWISE_LEN = 3;
    public const ushort NFTA_BITWISE_MASK = 4;
    public const ushort NFTA_BITWISE_XOR = 5;
    // meta
    public const ushort NFTA_META_DREG = 1;
    public const ushort NFTA_META_KEY = 2;
    // ct
    public const ushort NFTA_CT_DREG = 1;
    public const ushort NFTA_CT_KEY = 2;
    public const ushort NFTA_CT_DIRECTION = 3;
    // counter
    public const ushort NFTA_COUNTER_BYTES = 1;
    public const ushort NFTA_COUNTER_PACKETS = 2;
    // nat
    public const ushort NFTA_NAT_TYPE = 1;
    public const ushort NFTA_NAT_FAMILY = 2;
    public const ushort NFTA_NAT_REG_ADDR_MIN = 3;
    public const ushort NFTA_NAT_REG_ADDR_MAX = 4;
    public const ushort NFTA_NAT_REG_PROTO_MIN = 5;
    public const ushort NFTA_NAT_REG_PROTO_MAX = 6;
    public const ushort NFTA_NAT_FLAGS = 7;
    public const uint NFT_NAT_SNAT = 0;
    public const uint NFT_NAT_DNAT = 1;
    // masq
    public const ushort NFTA_MASQ_FLAGS = 1;
    public const ushort NFTA_MASQ_REG_PROTO_MIN = 2;
    public const ushort NFTA_MASQ_REG_PROTO_MAX = 3;
    // fib
    public const ushort NFTA_FIB_DREG = 1;
    public const ushort NFTA_FIB_RESULT = 2;
    public const ushort NFTA_FIB_FLAGS = 3;
    public const uint NFT_FIB_RESULT_OIF = 1;
    public const uint NFT_FIB_RESULT_OIFNAME = 2;
    public const uint NFT_FIB_RESULT_ADDRTYPE = 3;
    public const uint NFTA_FIB_F_SADDR = 1;
    public const uint NFTA_FIB_F_DADDR = 2;
    public const uint NFTA_FIB_F_MARK = 4;
    public const uint NFTA_FIB_F_IIF = 8;
    public const uint NFTA_FIB_F_OIF = 16;
    /// <summary>RTN_LOCAL: the fib address type of a local address.</summary>
    public const uint RTN_LOCAL = 2;

    // sets
    public const ushort NFTA_SET_TABLE = 1;
    public const ushort NFTA_SET_NAME = 2;
    public const ushort NFTA_SET_FLAGS = 3;
    public const ushort NFTA_SET_KEY_TYPE = 4;
    public const ushort NFTA_SET_KEY_LEN = 5;
    public const ushort NFTA_SET_DATA_TYPE = 6;
    public const ushort NFTA_SET_DATA_LEN = 7;
    public const ushort NFTA_SET_POLICY = 8;
    public const ushort NFTA_SET_DESC = 9;
    public const ushort NFTA_SET_ID = 10;
    public const ushort NFTA_SET_USERDATA = 13;
    public const ushort NFTA_SET_HANDLE = 16;
    public const ushort NFTA_SET_EXPR = 17;
    public const ushort NFTA_SET_DESC_SIZE = 1;
    public const ushort NFTA_SET_DESC_CONCAT = 2;
    public const ushort NFTA_SET_FIELD_LEN = 1;
    public const uint NFT_SET_ANONYMOUS = 0x1;
    public const uint NFT_SET_CONSTANT = 0x2;
    public const uint NFT_SET_INTERVAL = 0x4;
    public const uint NFT_SET_MAP = 0x8;
    public const uint NFT_SET_TIMEOUT = 0x10;
    public const uint NFT_SET_EVAL = 0x20;
    public const uint NFT_SET_CONCAT = 0x80;
    public const uint NFT_SET_EXPR = 0x100;
    public const uint NFT_DATA_VERDICT = 0xffffff00;

    // set elements
    public const ushort NFTA_SET_ELEM_LIST_TABLE = 1;
    public const ushort NFTA_SET_ELEM_LIST_SET = 2;
    public const ushort NFTA_SET_ELEM_LIST_ELEMENTS = 3;
    public const ushort NFTA_SET_ELEM_KEY = 1;
    public const ushort NFTA_SET_ELEM_DATA = 2;
    public const ushort NFTA_SET_ELEM_FLAGS = 3;
    public const ushort NFTA_SET_ELEM_USERDATA = 6;
    public const ushort NFTA_SET_ELEM_EXPR = 7;
    public const ushort NFTA_SET_ELEM_KEY_END = 9;
    public const ushort NFTA_SET_ELEM_EXPRESSIONS = 10;

    // generation
    public const ushort NFTA_GEN_ID = 1;

    // NFT_META_*
    public const uint NFT_META_LEN = 0;
    public const uint NFT_META_PROTOCOL = 1;
    public const uint NFT_META_MARK = 3;
    public const uint NFT_META_IIF = 4;
    public const uint NFT_META_OIF = 5;
    public const uint NFT_META_IIFNAME = 6;
    public const uint NFT_META_OIFNAME = 7;
    public const uint NFT_META_NFPROTO = 15;
    public const uint NFT_META_L4PROTO = 16;
    public const uint NFT_META_BRI_IIFNAME = 17;
    public const uint NFT_META_BRI_OIFNAME = 18;

    // NFT_CT_*
    public const uint NFT_CT_STATE = 0;
    public const uint NFT_CT_DIRECTION = 1;
    public const uint NFT_CT_STATUS = 2;
    public const uint NFT_CT_MARK = 3;
    // ct state bits (NF_CT_STATE_BIT) and ct status bits (IPS_*)
    public const uint NF_CT_STATE_INVALID_BIT = 1;
    public const uint NF_CT_STATE_ESTABLISHED = 2;
    public const uint NF_CT_STATE_RELATED = 4;
    public const uint NF_CT_STATE_NEW = 8;
    public const uint IPS_SRC_NAT = 0x10;
    public const uint IPS_DST_NAT = 0x20;

    // payload bases
    public const uint NFT_PAYLOAD_LL_HEADER = 0;
    public const uint NFT_PAYLOAD_NETWORK_HEADER = 1;
    public const uint NFT_PAYLOAD_TRANSPORT_HEADER = 2;

    // cmp ops
    public const uint NFT_CMP_EQ = 0;
    public const uint NFT_CMP_NEQ = 1;
    public const uint NFT_CMP_LT = 2;
    public const uint NFT_CMP_LTE = 3;
    public const uint NFT_CMP_GT = 4;
    public const uint NFT_CMP_GTE = 5;

    // libnftnl user data (TLV: u8 type, u8 len, value): a rule's or element's comment is type 0, a set's is type 7
    public const byte NFTNL_UDATA_RULE_COMMENT = 0;
    public const byte NFTNL_UDATA_SET_ELEM_COMMENT = 0;
    public const byte NFTNL_UDATA_SET_KEYBYTEORDER = 0;
    public const byte NFTNL_UDATA_SET_DATABYTEORDER = 1;
    public const byte NFTNL_UDATA_SET_COMMENT = 7;

    // nft's data type ids (nftables datatype.h): set key/data types, 6 bits each in a concatenation
    public const uint TYPE_VERDICT = 1;
    public const uint TYPE_INTEGER = 4;
    public const uint TYPE_IPADDR = 7;
    public const uint TYPE_IP6ADDR = 8;
    public const uint TYPE_INET_PROTOCOL = 12;
    public const uint TYPE_INET_SERVICE = 13;
    public const uint TYPE_IFNAME = 41;
    public const int TYPE_BITS = 6;

    /// <summary>nft's id of a concatenated type: the first field in the highest bits.</summary>
    public static uint ConcatType(params uint[] types)
    {
        uint t = 0;
        foreach (var x in types) t = (t << TYPE_BITS) | x;
        return t;
    }

    /// <summary>IFNAMSIZ: interface names are compared as 16 NUL-padded bytes.</summary>
    public const int IFNAMSIZ = 16;
}

/// <summary>Constants of &lt;linux/netfilter/nfnetlink_conntrack.h&gt; (ctnetlink), with the kernel's names.</summary>
public static class Ctnl
{
    public const ushort IPCTNL_MSG_CT_NEW = 0;
    public const ushort IPCTNL_MSG_CT_GET = 1;
    public const ushort IPCTNL_MSG_CT_DELETE = 2;
    public const ushort IPCTNL_MSG_CT_GET_STATS = 5;
    /// <summary>enum ctattr_stats_global: the number of entries of the namespace (<c>conntrack -C</c>).</summary>
    public const ushort CTA_STATS_GLOBAL_ENTRIES = 1;

    /// <summary>The nlmsg_type of a ctnetlink message.</summary>
    public static ushort Type(ushort msg) => (ushort)((Nft.NFNL_SUBSYS_CTNETLINK << 8) | msg);

    public const ushort CTA_TUPLE_ORIG = 1;
    public const ushort CTA_TUPLE_REPLY = 2;
    public const ushort CTA_STATUS = 3;
    public const ushort CTA_ID = 12;
    public const ushort CTA_ZONE = 18;
    /// <summary>Kernel-side filtering of a dump (Linux 5.8): which fields of CTA_TUPLE_ORIG / CTA_TUPLE_REPLY must match.</summary>
    public const ushort CTA_FILTER = 25;
    public const ushort CTA_FILTER_ORIG_FLAGS = 1;
    public const ushort CTA_FILTER_REPLY_FLAGS = 2;
    // The flags (native-endian u32), as the kernel's nf_internals.h and libnetfilter_conntrack define them.
    public const uint CTA_FILTER_F_CTA_IP_SRC = 1 << 0;
    public const uint CTA_FILTER_F_CTA_IP_DST = 1 << 1;
    public const uint CTA_FILTER_F_CTA_PROTO_NUM = 1 << 3;
    public const uint CTA_FILTER_F_CTA_PROTO_SRC_PORT = 1 << 4;
    public const uint CTA_FILTER_F_CTA_PROTO_DST_PORT = 1 << 5;

    public const ushort CTA_TUPLE_IP = 1;
    public const ushort CTA_TUPLE_PROTO = 2;
    public const ushort CTA_TUPLE_ZONE = 3;

    public const ushort CTA_IP_V4_SRC = 1;
    public const ushort CTA_IP_V4_DST = 2;
    public const ushort CTA_IP_V6_SRC = 3;
    public const ushort CTA_IP_V6_DST = 4;

    public const ushort CTA_PROTO_NUM = 1;
    public const ushort CTA_PROTO_SRC_PORT = 2;
    public const ushort CTA_PROTO_DST_PORT = 3;
    public const ushort CTA_PROTO_ICMP_ID = 4;
    public const ushort CTA_PROTO_ICMP_TYPE = 5;
    public const ushort CTA_PROTO_ICMP_CODE = 6;
    public const ushort CTA_PROTO_ICMPV6_ID = 7;
    public const ushort CTA_PROTO_ICMPV6_TYPE = 8;
    public const ushort CTA_PROTO_ICMPV6_CODE = 9;
}

/// <summary>struct nfgenmsg: the header of every nfnetlink message.</summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
public struct nfgenmsg
{
    public byte nfgen_family;
    public byte version;
    /// <summary>Big-endian resource id (the subsystem for batch messages, 0 otherwise).</summary>
    public ushort res_id;

    public nfgenmsg(byte family, ushort resIdHostOrder = 0)
    {
        nfgen_family = family;
        version = Nft.NFNETLINK_V0;
        res_id = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(resIdHostOrder);
    }
}
