using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Values;

namespace ContainerNetworking.Model;

/// <summary>Arithmetic on IPv4/IPv6 addresses and prefixes (addresses as 128-bit integers).</summary>
public static class AddressMath
{
    /// <summary>The address as an unsigned integer (IPv4 in the low 32 bits).</summary>
    public static UInt128 ToInteger(IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out var n);
        UInt128 v = 0;
        for (var i = 0; i < n; i++) v = (v << 8) | b[i];
        return v;
    }

    /// <summary>The address of an integer in the given family.</summary>
    public static IPAddress FromInteger(UInt128 value, AddressFamily family)
    {
        var n = family == AddressFamily.InterNetwork ? 4 : 16;
        var b = new byte[n];
        for (var i = n - 1; i >= 0; i--)
        {
            b[i] = (byte)(value & 0xff);
            value >>= 8;
        }
        return new IPAddress(b);
    }

    public static int Bits(AddressFamily family) => family == AddressFamily.InterNetwork ? 32 : 128;

    /// <summary>The first address of a prefix (the network address).</summary>
    public static UInt128 First(IPNetwork net) => ToInteger(net.BaseAddress);

    /// <summary>The last address of a prefix (the IPv4 broadcast address).</summary>
    public static UInt128 Last(IPNetwork net)
    {
        var hostBits = Bits(net.BaseAddress.AddressFamily) - net.PrefixLength;
        var mask = hostBits == 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
        return First(net) | mask;
    }

    /// <summary>The number of addresses in a prefix, capped at <see cref="UInt128.MaxValue"/>.</summary>
    public static UInt128 Size(IPNetwork net) => Last(net) - First(net) + 1;

    /// <summary>True when the two prefixes share at least one address (same family only).</summary>
    public static bool Overlaps(IPNetwork a, IPNetwork b) =>
        a.BaseAddress.AddressFamily == b.BaseAddress.AddressFamily && First(a) <= Last(b) && First(b) <= Last(a);

    /// <summary>The n-th address of a prefix (0 = the network address).</summary>
    public static IPAddress Nth(IPNetwork net, UInt128 n) => FromInteger(First(net) + n, net.BaseAddress.AddressFamily);

    /// <summary>
    /// Parses "172.17.0.0/16" strictly: the address must be the network address of the prefix, as Docker demands
    /// ("172.17.0.1/16" is refused with the corrected form in the message).
    /// </summary>
    public static IPNetwork ParseSubnet(string text, string what = "subnet")
    {
        ArgumentNullException.ThrowIfNull(text);
        var slash = text.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out var addr)
            || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var len)
            || len < 0 || len > Bits(addr.AddressFamily))
            throw new ContainerNetworkingException("InvalidSubnet", ErrorKind.InvalidArgument,
                $"'{text}' is not a valid {what}. Give it in CIDR form, e.g. 172.18.0.0/16 or fd00:1::/64.");
        var net = IPPrefix.Network(addr, len);
        if (!net.BaseAddress.Equals(addr))
            throw new ContainerNetworkingException("InvalidSubnet", ErrorKind.InvalidArgument,
                $"'{text}' is not a network address: the {what} should be {net}.");
        return net;
    }

    /// <summary>Parses an address, with a clear error naming what it is for.</summary>
    public static IPAddress ParseAddress(string text, string what)
    {
        if (IPAddress.TryParse(text, out var a) && (text.Contains('.') || text.Contains(':'))) return a;
        throw new ContainerNetworkingException("InvalidAddress", ErrorKind.InvalidArgument,
            $"'{text}' is not a valid {what}. Give an IPv4 or IPv6 address, e.g. 172.18.0.10.");
    }
}
