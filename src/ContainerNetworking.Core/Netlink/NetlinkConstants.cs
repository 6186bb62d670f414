namespace ContainerNetworking.Netlink;

/// <summary>Constants of &lt;linux/netlink.h&gt;, with the kernel's names.</summary>
public static class Nl
{
    public const ushort NLM_F_REQUEST = 0x01;
    public const ushort NLM_F_MULTI = 0x02;
    public const ushort NLM_F_ACK = 0x04;
    public const ushort NLM_F_ECHO = 0x08;
    public const ushort NLM_F_DUMP_INTR = 0x10;
    public const ushort NLM_F_DUMP_FILTERED = 0x20;
    // GET requests
    public const ushort NLM_F_ROOT = 0x100;
    public const ushort NLM_F_MATCH = 0x200;
    public const ushort NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
    // NEW requests
    public const ushort NLM_F_REPLACE = 0x100;
    public const ushort NLM_F_EXCL = 0x200;
    public const ushort NLM_F_CREATE = 0x400;
    public const ushort NLM_F_APPEND = 0x800;
    // DELETE requests
    public const ushort NLM_F_NONREC = 0x100;
    public const ushort NLM_F_BULK = 0x200;
    // ACK flags
    public const ushort NLM_F_CAPPED = 0x100;
    public const ushort NLM_F_ACK_TLVS = 0x200;

    public const ushort NLMSG_NOOP = 1;
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;
    public const ushort NLMSG_OVERRUN = 4;
    public const ushort NLMSG_MIN_TYPE = 0x10;

    public const ushort NLMSGERR_ATTR_MSG = 1;
    public const ushort NLMSGERR_ATTR_OFFS = 2;
    public const ushort NLMSGERR_ATTR_COOKIE = 3;
    public const ushort NLMSGERR_ATTR_POLICY = 4;
    public const ushort NLMSGERR_ATTR_MISS_TYPE = 5;
    public const ushort NLMSGERR_ATTR_MISS_NEST = 6;

    public const ushort NLA_F_NESTED = 1 << 15;
    public const ushort NLA_F_NET_BYTEORDER = 1 << 14;
    public const ushort NLA_TYPE_MASK = unchecked((ushort)~(NLA_F_NESTED | NLA_F_NET_BYTEORDER));

    public const int NLMSG_HDRLEN = 16;
    public const int NLA_HDRLEN = 4;

    public static int Align(int len) => (len + 3) & ~3;
}
