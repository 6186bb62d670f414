using System.Net;
using System.Net.Sockets;

namespace ContainerNetworking.Values;

/// <summary>
/// IP prefixes, checked and masked once for every layer: the lengths a family allows (0–32, 0–128) and the prefix an
/// address lies in (host bits cleared).
/// </summary>
public static class IPPrefix
{
    /// <summary>The longest prefix of a family: 32 for IPv4, 128 for IPv6. ErrorId "InvalidAddressFamily" for any other.</summary>
    public static int MaxLength(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => 32,
        AddressFamily.InterNetworkV6 => 128,
        _ => throw new ContainerNetworkingException("InvalidAddressFamily", ErrorKind.InvalidArgument,
            $"Address family {family} is not supported; use an IPv4 or IPv6 address."),
    };

    /// <summary>A prefix length that fits the address family: 0–32 for IPv4, 0–128 for IPv6. ErrorId "InvalidPrefixLength".</summary>
    public static void ValidateLength(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        var max = MaxLength(address.AddressFamily);
        if (prefixLength < 0 || prefixLength > max)
            throw new ContainerNetworkingException("InvalidPrefixLength", ErrorKind.InvalidArgument,
                $"Prefix length {prefixLength} is not valid for {(max == 32 ? "IPv4" : "IPv6")} address {address}: it must be between 0 and {max}.");
    }

    /// <summary><paramref name="address"/> with every bit after the first <paramref name="prefixLength"/> cleared.</summary>
    public static IPAddress Mask(IPAddress address, int prefixLength)
    {
        var b = address.GetAddressBytes();
        for (var i = 0; i < b.Length; i++) b[i] &= (byte)(0xff << (8 - Math.Clamp(prefixLength - i * 8, 0, 8)));
        return new IPAddress(b);
    }

    /// <summary>The prefix of the given length that contains <paramref name="address"/> (host bits cleared).</summary>
    public static IPNetwork Network(IPAddress address, int prefixLength) => new(Mask(address, prefixLength), prefixLength);
}
