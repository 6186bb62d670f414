using System.Globalization;
using System.Text;

namespace ContainerNetworking.Values;

/// <summary>
/// Ethernet MAC addresses of interfaces, parsed and formatted once for every layer: six hex octets separated by ':'
/// (or '-'), unicast (lowest bit of the first octet clear) and not all zeros; formatted as iproute2 prints them.
/// </summary>
public static class MacAddress
{
    /// <summary>
    /// Parses a unicast Ethernet MAC address "02:42:ac:11:00:02" (or with '-'), case-insensitive, into 6 bytes.
    /// ErrorId "InvalidMacAddress".
    /// </summary>
    public static byte[] Parse(string? mac)
    {
        if (string.IsNullOrEmpty(mac))
            throw Invalid("The MAC address is empty. Give six hex octets such as 02:42:ac:11:00:02.");
        var parts = mac.Split(mac.Contains('-') ? '-' : ':');
        var b = new byte[6];
        if (parts.Length != 6)
            throw Invalid($"'{mac}' is not a MAC address: expected six hex octets separated by ':' such as 02:42:ac:11:00:02.");
        for (var i = 0; i < 6; i++)
        {
            if (parts[i].Length is < 1 or > 2 || !byte.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out b[i]))
                throw Invalid($"'{mac}' is not a MAC address: '{parts[i]}' is not a hex octet. Use the form 02:42:ac:11:00:02.");
        }
        if ((b[0] & 1) != 0)
            throw Invalid($"'{mac}' is a multicast address (lowest bit of the first octet set) and cannot be an interface address. Use a unicast address, e.g. with first octet 02.");
        if (b.All(x => x == 0))
            throw Invalid($"'{mac}' (all zeros) cannot be an interface address. Use e.g. 02:42:ac:11:00:02.");
        return b;
    }

    /// <summary>The canonical text of a valid MAC address: <see cref="Parse"/>, then <see cref="Format"/>.</summary>
    public static string Normalize(string? mac) => Format(Parse(mac));

    /// <summary>Formats a link-layer address as iproute2 does: lower-case hex octets joined by ':'.</summary>
    public static string Format(ReadOnlySpan<byte> address)
    {
        if (address.IsEmpty) return "";
        var sb = new StringBuilder(address.Length * 3);
        for (var i = 0; i < address.Length; i++)
        {
            if (i > 0) sb.Append(':');
            sb.Append(address[i].ToString("x2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>A random locally administered unicast MAC address.</summary>
    public static string Random()
    {
        Span<byte> b = stackalloc byte[6];
        KernelRandom.Fill(b);
        b[0] = (byte)((b[0] & 0xfe) | 0x02);
        return Format(b);
    }

    private static ContainerNetworkingException Invalid(string message) => new("InvalidMacAddress", ErrorKind.InvalidArgument, message);
}
