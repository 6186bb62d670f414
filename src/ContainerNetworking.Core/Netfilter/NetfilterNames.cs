namespace ContainerNetworking.Netfilter;

/// <summary>Names of nfnetlink message types (subsystem in the high byte), for error messages.</summary>
public static class NetfilterNames
{
    private static readonly string[] Nftables =
    [
        "NFT_MSG_NEWTABLE", "NFT_MSG_GETTABLE", "NFT_MSG_DELTABLE", "NFT_MSG_NEWCHAIN", "NFT_MSG_GETCHAIN",
        "NFT_MSG_DELCHAIN", "NFT_MSG_NEWRULE", "NFT_MSG_GETRULE", "NFT_MSG_DELRULE", "NFT_MSG_NEWSET",
        "NFT_MSG_GETSET", "NFT_MSG_DELSET", "NFT_MSG_NEWSETELEM", "NFT_MSG_GETSETELEM", "NFT_MSG_DELSETELEM",
        "NFT_MSG_NEWGEN", "NFT_MSG_GETGEN", "NFT_MSG_TRACE", "NFT_MSG_NEWOBJ", "NFT_MSG_GETOBJ", "NFT_MSG_DELOBJ",
        "NFT_MSG_GETOBJ_RESET", "NFT_MSG_NEWFLOWTABLE", "NFT_MSG_GETFLOWTABLE", "NFT_MSG_DELFLOWTABLE",
        "NFT_MSG_GETRULE_RESET", "NFT_MSG_DESTROYTABLE", "NFT_MSG_DESTROYCHAIN", "NFT_MSG_DESTROYRULE",
        "NFT_MSG_DESTROYSET", "NFT_MSG_DESTROYSETELEM", "NFT_MSG_DESTROYOBJ", "NFT_MSG_DESTROYFLOWTABLE",
    ];

    public static string Describe(ushort type)
    {
        if (type == 0x10) return "NFNL_MSG_BATCH_BEGIN";
        if (type == 0x11) return "NFNL_MSG_BATCH_END";
        var subsys = type >> 8;
        var msg = type & 0xff;
        return subsys switch
        {
            10 when msg < Nftables.Length => Nftables[msg],
            1 => msg switch { 0 => "IPCTNL_MSG_CT_NEW", 1 => "IPCTNL_MSG_CT_GET", 2 => "IPCTNL_MSG_CT_DELETE", _ => "IPCTNL_MSG " + msg },
            _ => $"nfnetlink subsystem {subsys} message {msg}",
        };
    }
}
