using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Values;

namespace ContainerNetworking.Model;

/// <summary>
/// The addressing of one family of a network, as CNI host-local and Docker's default IPAM see it: a subnet, a
/// gateway (by default the first address), an allocation range inside the subnet (by default the whole subnet),
/// and the reserved addresses that are never handed out (the network address, the gateway and, for IPv4, the
/// broadcast address). Pure arithmetic; which addresses are taken is the caller's (the state store's) business.
/// </summary>
public sealed class AddressPool
{
    private AddressPool(IPNetwork subnet, IPAddress gateway, IPNetwork range, IPAddress? start, IPAddress? end)
    {
        Subnet = subnet;
        Gateway = gateway;
        Range = range;
        var first = AddressMath.First(range);
        var last = AddressMath.Last(range);
        // The network address and (IPv4) the broadcast address of the subnet are never handed out.
        if (first == AddressMath.First(subnet)) first++;
        if (IsV4 && last == AddressMath.Last(subnet)) last--;
        // host-local's rangeStart/rangeEnd narrow it further.
        if (start is not null) first = UInt128.Max(first, AddressMath.ToInteger(start));
        if (end is not null) last = UInt128.Min(last, AddressMath.ToInteger(end));
        RangeFirst = first;
        RangeLast = last;
    }

    public IPNetwork Subnet { get; }
    public IPAddress Gateway { get; }

    /// <summary>The prefix that dynamic allocations come from (Docker's --ip-range); equal to the subnet by default.</summary>
    public IPNetwork Range { get; }

    internal UInt128 RangeFirst { get; }
    internal UInt128 RangeLast { get; }

    public AddressFamily Family => Subnet.BaseAddress.AddressFamily;
    private bool IsV4 => Family == AddressFamily.InterNetwork;

    /// <summary>The first and last address handed out dynamically.</summary>
    public IPAddress FirstAllocatable => AddressMath.FromInteger(RangeFirst, Family);
    public IPAddress LastAllocatable => AddressMath.FromInteger(RangeLast, Family);

    /// <summary>
    /// Validates and builds a pool. Errors: "GatewayOutsideSubnet" (the gateway is not a usable address of the
    /// subnet), "IpRangeOutsideSubnet", "InvalidSubnet" (too small to hold a gateway and one address).
    /// <paramref name="start"/> and <paramref name="end"/> (CNI host-local's rangeStart and rangeEnd) bound the
    /// dynamic allocations inside the range; both must lie in the subnet.
    /// </summary>
    public static AddressPool Create(IPNetwork subnet, IPAddress? gateway = null, IPNetwork? range = null, IPAddress? start = null, IPAddress? end = null)
    {
        var family = subnet.BaseAddress.AddressFamily;
        var bits = AddressMath.Bits(family);
        if (subnet.PrefixLength > bits - 2)
            throw new ContainerNetworkingException("InvalidSubnet", ErrorKind.InvalidArgument,
                $"Subnet {subnet} is too small: it must hold a gateway and at least one container address. Use a prefix of /{bits - 2} or shorter.");
        var first = AddressMath.First(subnet);
        var last = AddressMath.Last(subnet);
        if (gateway is null) gateway = AddressMath.FromInteger(first + 1, family);
        else
        {
            var g = gateway.AddressFamily == family ? AddressMath.ToInteger(gateway) : UInt128.MaxValue;
            var broadcast = family == AddressFamily.InterNetwork && g == last;
            if (gateway.AddressFamily != family || !subnet.Contains(gateway) || g == first || broadcast)
                throw new ContainerNetworkingException("GatewayOutsideSubnet", ErrorKind.InvalidArgument,
                    $"Gateway {gateway} is not a usable address of subnet {subnet}. Give a gateway inside the subnet other than its network{(family == AddressFamily.InterNetwork ? " and broadcast" : "")} address (by default the first address, {AddressMath.FromInteger(first + 1, family)}), or change the subnet.");
        }
        var r = range ?? subnet;
        if (r.BaseAddress.AddressFamily != family || r.PrefixLength < subnet.PrefixLength || !subnet.Contains(r.BaseAddress))
            throw new ContainerNetworkingException("IpRangeOutsideSubnet", ErrorKind.InvalidArgument,
                $"IP range {r} is not inside subnet {subnet}. Give a range that is a sub-prefix of the subnet, e.g. {IPPrefix.Network(subnet.BaseAddress, Math.Min(bits, subnet.PrefixLength + 1))}.");
        foreach (var (bound, what) in new[] { (start, "range start"), (end, "range end") })
            if (bound is not null && (bound.AddressFamily != family || !subnet.Contains(bound)))
                throw new ContainerNetworkingException("IpRangeOutsideSubnet", ErrorKind.InvalidArgument,
                    $"The {what} {bound} is not inside subnet {subnet}. Give a start and end inside the subnet, or leave them out to use all of it.");
        var pool = new AddressPool(subnet, gateway, r, start, end);
        if (pool.RangeFirst > pool.RangeLast)
            throw new ContainerNetworkingException("IpRangeOutsideSubnet", ErrorKind.InvalidArgument,
                $"IP range {r}{(start is null && end is null ? "" : $" from {start?.ToString() ?? "its start"} to {end?.ToString() ?? "its end"}")} holds no usable address of subnet {subnet}. Give a larger range.");
        return pool;
    }

    /// <summary>True for the addresses never handed out: network, broadcast (IPv4), gateway.</summary>
    public bool IsReserved(IPAddress address)
    {
        var v = AddressMath.ToInteger(address);
        return v == AddressMath.First(Subnet) || (IsV4 && v == AddressMath.Last(Subnet)) || address.Equals(Gateway);
    }

    /// <summary>
    /// Picks the next free address after <paramref name="lastReserved"/> (as host-local does, so a released
    /// address is not handed out again at once), wrapping around once. "AddressRangeExhausted" when none is free.
    /// </summary>
    public IPAddress Allocate(Func<IPAddress, bool> isTaken, IPAddress? lastReserved = null)
    {
        var start = RangeFirst;
        if (lastReserved is not null && lastReserved.AddressFamily == Family)
        {
            var l = AddressMath.ToInteger(lastReserved);
            if (l >= RangeFirst && l < RangeLast) start = l + 1;
        }
        var v = start;
        while (true)
        {
            var a = AddressMath.FromInteger(v, Family);
            if (!IsReserved(a) && !isTaken(a)) return a;
            v = v == RangeLast ? RangeFirst : v + 1;
            if (v == start)
                throw new ContainerNetworkingException("AddressRangeExhausted", ErrorKind.LimitsExceeded,
                    $"No free address is left in {Range} (network subnet {Subnet}): every address from {FirstAllocatable} to {LastAllocatable} is leased. Disconnect endpoints that are no longer used, run Repair-ContainerNetwork to release leaked leases, or create the network with a larger subnet or range.");
        }
    }

    /// <summary>
    /// Checks a statically requested address: inside the subnet (Docker allows it outside --ip-range, as long as
    /// it is in the subnet), not reserved, not taken. Errors "AddressOutsideRange", "AddressInUse".
    /// </summary>
    public void CheckStatic(IPAddress address, Func<IPAddress, bool> isTaken)
    {
        if (address.AddressFamily != Family || !Subnet.Contains(address))
            throw new ContainerNetworkingException("AddressOutsideRange", ErrorKind.InvalidArgument,
                $"Address {address} is outside the network's subnet {Subnet}. Request an address inside it, or omit the address to get one from {Range}.");
        if (IsReserved(address))
            throw new ContainerNetworkingException("AddressInUse", ErrorKind.AlreadyExists,
                $"Address {address} is reserved in subnet {Subnet} ({(address.Equals(Gateway) ? "it is the gateway" : "network or broadcast address")}). Request another address, or omit it to get a free one.");
        if (isTaken(address))
            throw new ContainerNetworkingException("AddressInUse", ErrorKind.AlreadyExists,
                $"Address {address} is already leased to another endpoint of this network. Request another address, or omit it to get a free one; Get-ContainerEndpoint shows who holds it.");
    }
}

/// <summary>
/// Docker's default address pools (libnetwork ipamutils, the daemon's default "default-address-pools"):
/// 172.17.0.0/16 … 172.31.0.0/16 as one /16 each, then 192.168.0.0/16 cut into /20s (192.168.0.0/20,
/// 192.168.16.0/20 … 192.168.240.0/20): 31 networks in all. A network created without a subnet gets the first
/// of them that overlaps no existing network and no route or address of the host namespace.
/// </summary>
public static class DefaultAddressPools
{
    /// <summary>The pools: base prefix, and the size of the subnets cut from it.</summary>
    public static IReadOnlyList<(IPNetwork Base, int Size)> Pools { get; } = BuildPools();

    private static List<(IPNetwork, int)> BuildPools()
    {
        var list = new List<(IPNetwork, int)>();
        for (var i = 17; i <= 31; i++) list.Add((new IPNetwork(new IPAddress([172, (byte)i, 0, 0]), 16), 16));
        list.Add((new IPNetwork(new IPAddress([192, 168, 0, 0]), 16), 20));
        return list;
    }

    /// <summary>Every candidate subnet, in the order they are tried.</summary>
    public static IEnumerable<IPNetwork> Candidates()
    {
        foreach (var (b, size) in Pools)
        {
            var count = UInt128.One << (size - b.PrefixLength);
            var step = UInt128.One << (32 - size);
            for (UInt128 i = 0; i < count; i++)
                yield return new IPNetwork(AddressMath.FromInteger(AddressMath.First(b) + i * step, AddressFamily.InterNetwork), size);
        }
    }

    /// <summary>The first candidate that overlaps none of <paramref name="inUse"/>; "SubnetPoolExhausted" otherwise.</summary>
    public static IPNetwork PickFree(IEnumerable<IPNetwork> inUse)
    {
        var used = inUse.ToList();
        foreach (var c in Candidates())
            if (!used.Any(u => AddressMath.Overlaps(u, c))) return c;
        throw new ContainerNetworkingException("SubnetPoolExhausted", ErrorKind.LimitsExceeded,
            "Every subnet of the default address pools (172.17.0.0/16 … 172.31.0.0/16, 192.168.0.0/16 in /20s) overlaps an existing network, route or address. Remove unused networks, or give the network an explicit -Subnet.");
    }

    /// <summary>A random IPv6 unique-local /64 (fd00::/8 with a random 40-bit global id, RFC 4193), for dual stack without a subnet.</summary>
    public static IPNetwork RandomUniqueLocal()
    {
        var b = new byte[16];
        b[0] = 0xfd;
        KernelRandom.Fill(b.AsSpan(1, 5));
        return new IPNetwork(new IPAddress(b), 64);
    }
}
