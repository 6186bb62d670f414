// rtnetlink's kernel structs and constants, with the kernel's names (<linux/rtnetlink.h>, <linux/if_link.h>,
// <linux/if_addr.h>, <linux/neighbour.h>, <linux/if.h>, <linux/net_namespace.h>, <linux/if_bridge.h>).
// The one place for them: nothing else in the module spells these numbers.
using System.Runtime.InteropServices;

namespace ContainerNetworking.Route;

#pragma warning disable CS1591 // kernel names document themselves; see the uapi headers named above
#pragma warning disable CS8981 // kernel struct names are lower case on purpose

/// <summary>struct ifinfomsg (16 bytes): the header of RTM_*LINK messages.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ifinfomsg
{
    public byte ifi_family;
    public byte __ifi_pad;
    public ushort ifi_type;
    public int ifi_index;
    public uint ifi_flags;
    public uint ifi_change;
}

/// <summary>struct ifaddrmsg (8 bytes): the header of RTM_*ADDR messages.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ifaddrmsg
{
    public byte ifa_family;
    public byte ifa_prefixlen;
    public byte ifa_flags;
    public byte ifa_scope;
    public int ifa_index;
}

/// <summary>struct rtmsg (12 bytes): the header of RTM_*ROUTE messages.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct rtmsg
{
    public byte rtm_family;
    public byte rtm_dst_len;
    public byte rtm_src_len;
    public byte rtm_tos;
    public byte rtm_table;
    public byte rtm_protocol;
    public byte rtm_scope;
    public byte rtm_type;
    public uint rtm_flags;
}

/// <summary>struct ndmsg (12 bytes): the header of RTM_*NEIGH messages (neighbours and, with AF_BRIDGE, the FDB).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ndmsg
{
    public byte ndm_family;
    public byte ndm_pad1;
    public ushort ndm_pad2;
    public int ndm_ifindex;
    public ushort ndm_state;
    public byte ndm_flags;
    public byte ndm_type;
}

/// <summary>struct rtgenmsg (1 byte, padded to 4 on the wire): the header of RTM_*NSID messages.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct rtgenmsg
{
    public byte rtgen_family;
}

/// <summary>rtnetlink constants with their kernel names.</summary>
public static class RtnlConstants
{
    // address families used in rtnetlink headers
    public const byte AF_UNSPEC = 0;
    public const byte AF_INET = 2;
    public const byte AF_BRIDGE = 7;
    public const byte AF_INET6 = 10;

    // message types
    public const ushort RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, RTM_SETLINK = 19;
    public const ushort RTM_NEWADDR = 20, RTM_DELADDR = 21, RTM_GETADDR = 22;
    public const ushort RTM_NEWROUTE = 24, RTM_DELROUTE = 25, RTM_GETROUTE = 26;
    public const ushort RTM_NEWNEIGH = 28, RTM_DELNEIGH = 29, RTM_GETNEIGH = 30;
    public const ushort RTM_NEWNSID = 88, RTM_DELNSID = 89, RTM_GETNSID = 90;

    // IFLA_* (link attributes)
    public const ushort IFLA_UNSPEC = 0, IFLA_ADDRESS = 1, IFLA_BROADCAST = 2, IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_LINK = 5,
        IFLA_QDISC = 6, IFLA_STATS = 7, IFLA_COST = 8, IFLA_PRIORITY = 9, IFLA_MASTER = 10, IFLA_WIRELESS = 11,
        IFLA_PROTINFO = 12, IFLA_TXQLEN = 13, IFLA_MAP = 14, IFLA_WEIGHT = 15, IFLA_OPERSTATE = 16, IFLA_LINKMODE = 17,
        IFLA_LINKINFO = 18, IFLA_NET_NS_PID = 19, IFLA_IFALIAS = 20, IFLA_NUM_VF = 21, IFLA_VFINFO_LIST = 22,
        IFLA_STATS64 = 23, IFLA_VF_PORTS = 24, IFLA_PORT_SELF = 25, IFLA_AF_SPEC = 26, IFLA_GROUP = 27,
        IFLA_NET_NS_FD = 28, IFLA_EXT_MASK = 29, IFLA_PROMISCUITY = 30, IFLA_NUM_TX_QUEUES = 31, IFLA_NUM_RX_QUEUES = 32,
        IFLA_CARRIER = 33, IFLA_PHYS_PORT_ID = 34, IFLA_CARRIER_CHANGES = 35, IFLA_PHYS_SWITCH_ID = 36,
        IFLA_LINK_NETNSID = 37, IFLA_PHYS_PORT_NAME = 38, IFLA_PROTO_DOWN = 39, IFLA_GSO_MAX_SEGS = 40,
        IFLA_GSO_MAX_SIZE = 41, IFLA_PAD = 42, IFLA_XDP = 43, IFLA_EVENT = 44, IFLA_NEW_NETNSID = 45,
        IFLA_TARGET_NETNSID = 46, IFLA_CARRIER_UP_COUNT = 47, IFLA_CARRIER_DOWN_COUNT = 48, IFLA_NEW_IFINDEX = 49,
        IFLA_MIN_MTU = 50, IFLA_MAX_MTU = 51, IFLA_PROP_LIST = 52, IFLA_ALT_IFNAME = 53, IFLA_PERM_ADDRESS = 54;

    // IFLA_INET6_* (inside IFLA_AF_SPEC, AF_INET6)
    public const ushort IFLA_INET6_ADDR_GEN_MODE = 8;

    // IFLA_INFO_* (inside IFLA_LINKINFO)
    public const ushort IFLA_INFO_UNSPEC = 0, IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2, IFLA_INFO_XSTATS = 3,
        IFLA_INFO_SLAVE_KIND = 4, IFLA_INFO_SLAVE_DATA = 5;

    // veth (inside IFLA_INFO_DATA)
    public const ushort VETH_INFO_UNSPEC = 0, VETH_INFO_PEER = 1;

    // IFLA_BRPORT_* (bridge port: IFLA_PROTINFO with AF_BRIDGE, or IFLA_INFO_SLAVE_DATA)
    public const ushort IFLA_BRPORT_UNSPEC = 0, IFLA_BRPORT_STATE = 1, IFLA_BRPORT_PRIORITY = 2, IFLA_BRPORT_COST = 3,
        IFLA_BRPORT_MODE = 4, IFLA_BRPORT_GUARD = 5, IFLA_BRPORT_PROTECT = 6, IFLA_BRPORT_FAST_LEAVE = 7,
        IFLA_BRPORT_LEARNING = 8, IFLA_BRPORT_UNICAST_FLOOD = 9, IFLA_BRPORT_PROXYARP = 10,
        IFLA_BRPORT_MCAST_FLOOD = 27, IFLA_BRPORT_BCAST_FLOOD = 30, IFLA_BRPORT_NEIGH_SUPPRESS = 32,
        IFLA_BRPORT_ISOLATED = 33;

    // IFLA_BR_* (bridge device, inside IFLA_INFO_DATA)
    public const ushort IFLA_BR_UNSPEC = 0, IFLA_BR_FORWARD_DELAY = 1, IFLA_BR_HELLO_TIME = 2, IFLA_BR_MAX_AGE = 3,
        IFLA_BR_AGEING_TIME = 4, IFLA_BR_STP_STATE = 5, IFLA_BR_PRIORITY = 6, IFLA_BR_VLAN_FILTERING = 7,
        IFLA_BR_VLAN_PROTOCOL = 8;

    // BR_STATE_* (IFLA_BRPORT_STATE)
    public const byte BR_STATE_DISABLED = 0, BR_STATE_LISTENING = 1, BR_STATE_LEARNING = 2, BR_STATE_FORWARDING = 3,
        BR_STATE_BLOCKING = 4;

    // IFF_* (net_device_flags)
    public const uint IFF_UP = 0x1, IFF_BROADCAST = 0x2, IFF_DEBUG = 0x4, IFF_LOOPBACK = 0x8, IFF_POINTOPOINT = 0x10,
        IFF_NOTRAILERS = 0x20, IFF_RUNNING = 0x40, IFF_NOARP = 0x80, IFF_PROMISC = 0x100, IFF_ALLMULTI = 0x200,
        IFF_MASTER = 0x400, IFF_SLAVE = 0x800, IFF_MULTICAST = 0x1000, IFF_PORTSEL = 0x2000, IFF_AUTOMEDIA = 0x4000,
        IFF_DYNAMIC = 0x8000, IFF_LOWER_UP = 0x10000, IFF_DORMANT = 0x20000, IFF_ECHO = 0x40000;

    // IF_OPER_* (IFLA_OPERSTATE)
    public const byte IF_OPER_UNKNOWN = 0, IF_OPER_NOTPRESENT = 1, IF_OPER_DOWN = 2, IF_OPER_LOWERLAYERDOWN = 3,
        IF_OPER_TESTING = 4, IF_OPER_DORMANT = 5, IF_OPER_UP = 6;

    // IFA_* (address attributes) and IFA_F_* (address flags)
    public const ushort IFA_UNSPEC = 0, IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_LABEL = 3, IFA_BROADCAST = 4, IFA_ANYCAST = 5,
        IFA_CACHEINFO = 6, IFA_MULTICAST = 7, IFA_FLAGS = 8, IFA_RT_PRIORITY = 9, IFA_TARGET_NETNSID = 10, IFA_PROTO = 11;
    public const uint IFA_F_SECONDARY = 0x01, IFA_F_NODAD = 0x02, IFA_F_OPTIMISTIC = 0x04, IFA_F_DADFAILED = 0x08,
        IFA_F_HOMEADDRESS = 0x10, IFA_F_DEPRECATED = 0x20, IFA_F_TENTATIVE = 0x40, IFA_F_PERMANENT = 0x80,
        IFA_F_MANAGETEMPADDR = 0x100, IFA_F_NOPREFIXROUTE = 0x200, IFA_F_MCAUTOJOIN = 0x400, IFA_F_STABLE_PRIVACY = 0x800;

    // RTA_* (route attributes)
    public const ushort RTA_UNSPEC = 0, RTA_DST = 1, RTA_SRC = 2, RTA_IIF = 3, RTA_OIF = 4, RTA_GATEWAY = 5,
        RTA_PRIORITY = 6, RTA_PREFSRC = 7, RTA_METRICS = 8, RTA_MULTIPATH = 9, RTA_PROTOINFO = 10, RTA_FLOW = 11,
        RTA_CACHEINFO = 12, RTA_SESSION = 13, RTA_MP_ALGO = 14, RTA_TABLE = 15, RTA_MARK = 16, RTA_MFC_STATS = 17,
        RTA_VIA = 18, RTA_NEWDST = 19, RTA_PREF = 20, RTA_ENCAP_TYPE = 21, RTA_ENCAP = 22, RTA_EXPIRES = 23,
        RTA_PAD = 24, RTA_UID = 25, RTA_TTL_PROPAGATE = 26, RTA_IP_PROTO = 27, RTA_SPORT = 28, RTA_DPORT = 29, RTA_NH_ID = 30;

    // RT_SCOPE_*
    public const byte RT_SCOPE_UNIVERSE = 0, RT_SCOPE_SITE = 200, RT_SCOPE_LINK = 253, RT_SCOPE_HOST = 254, RT_SCOPE_NOWHERE = 255;

    // RTPROT_*
    public const byte RTPROT_UNSPEC = 0, RTPROT_REDIRECT = 1, RTPROT_KERNEL = 2, RTPROT_BOOT = 3, RTPROT_STATIC = 4,
        RTPROT_RA = 9, RTPROT_DHCP = 16;

    /// <summary>rtm_flags / rtnh_flags: the gateway is on-link (<c>onlink</c>).</summary>
    public const uint RTNH_F_ONLINK = 4;

    // RTN_* (route types)
    public const byte RTN_UNSPEC = 0, RTN_UNICAST = 1, RTN_LOCAL = 2, RTN_BROADCAST = 3, RTN_ANYCAST = 4, RTN_MULTICAST = 5,
        RTN_BLACKHOLE = 6, RTN_UNREACHABLE = 7, RTN_PROHIBIT = 8, RTN_THROW = 9, RTN_NAT = 10, RTN_XRESOLVE = 11;

    // RT_TABLE_*
    public const uint RT_TABLE_UNSPEC = 0, RT_TABLE_COMPAT = 252, RT_TABLE_DEFAULT = 253, RT_TABLE_MAIN = 254, RT_TABLE_LOCAL = 255;

    // NDA_* (neighbour / FDB attributes)
    public const ushort NDA_UNSPEC = 0, NDA_DST = 1, NDA_LLADDR = 2, NDA_CACHEINFO = 3, NDA_PROBES = 4, NDA_VLAN = 5,
        NDA_PORT = 6, NDA_VNI = 7, NDA_IFINDEX = 8, NDA_MASTER = 9, NDA_LINK_NETNSID = 10, NDA_SRC_VNI = 11,
        NDA_PROTOCOL = 12, NDA_NH_ID = 13, NDA_FDB_EXT_ATTRS = 14, NDA_FLAGS_EXT = 15;

    // NUD_* (neighbour states)
    public const ushort NUD_NONE = 0x00, NUD_INCOMPLETE = 0x01, NUD_REACHABLE = 0x02, NUD_STALE = 0x04, NUD_DELAY = 0x08,
        NUD_PROBE = 0x10, NUD_FAILED = 0x20, NUD_NOARP = 0x40, NUD_PERMANENT = 0x80;

    // NTF_* (neighbour flags)
    public const byte NTF_USE = 0x01, NTF_SELF = 0x02, NTF_MASTER = 0x04, NTF_PROXY = 0x08, NTF_EXT_LEARNED = 0x10,
        NTF_OFFLOADED = 0x20, NTF_STICKY = 0x40, NTF_ROUTER = 0x80;

    // NETNSA_* (RTM_*NSID attributes)
    public const ushort NETNSA_NONE = 0, NETNSA_NSID = 1, NETNSA_PID = 2, NETNSA_FD = 3, NETNSA_TARGET_NSID = 4,
        NETNSA_CURRENT_NSID = 5;
    public const int NETNSA_NSID_NOT_ASSIGNED = -1;

    /// <summary>IFNAMSIZ: an interface name is at most IFNAMSIZ - 1 = 15 bytes.</summary>
    public const int IFNAMSIZ = 16;

    /// <summary>The operational state's name as iproute2 prints it (IF_OPER_UP → "UP").</summary>
    public static string OperStateName(byte state) => state switch
    {
        IF_OPER_UNKNOWN => "UNKNOWN",
        IF_OPER_NOTPRESENT => "NOTPRESENT",
        IF_OPER_DOWN => "DOWN",
        IF_OPER_LOWERLAYERDOWN => "LOWERLAYERDOWN",
        IF_OPER_TESTING => "TESTING",
        IF_OPER_DORMANT => "DORMANT",
        IF_OPER_UP => "UP",
        _ => "UNKNOWN",
    };

    /// <summary>A neighbour state's name(s) as iproute2 prints them (NUD_REACHABLE → "REACHABLE"; several joined by ',').</summary>
    public static string NeighborStateName(ushort state)
    {
        if (state == NUD_NONE) return "NONE";
        var names = new List<string>(2);
        if ((state & NUD_INCOMPLETE) != 0) names.Add("INCOMPLETE");
        if ((state & NUD_REACHABLE) != 0) names.Add("REACHABLE");
        if ((state & NUD_STALE) != 0) names.Add("STALE");
        if ((state & NUD_DELAY) != 0) names.Add("DELAY");
        if ((state & NUD_PROBE) != 0) names.Add("PROBE");
        if ((state & NUD_FAILED) != 0) names.Add("FAILED");
        if ((state & NUD_NOARP) != 0) names.Add("NOARP");
        if ((state & NUD_PERMANENT) != 0) names.Add("PERMANENT");
        if ((state & 0xff00) != 0) names.Add("0x" + (state & 0xff00).ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        return string.Join(',', names);
    }
}
