using ContainerNetworking.Netlink;

namespace ContainerNetworking.Netfilter;

/// <summary>nf_tables over nfnetlink, typed: atomic batches of tables, chains, rules, sets and elements.</summary>
public sealed partial class NftClient
{
    private readonly NetlinkConnection _conn;

    public NftClient(NetlinkConnection connection) => _conn = connection;
}
