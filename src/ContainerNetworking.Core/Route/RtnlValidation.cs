using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ContainerNetworking.Route;

/// <summary>
/// Checks of rtnetlink input made before any request is sent, so that bad input changes nothing and gets an error
/// that names the problem and the fix (ErrorKind.InvalidArgument with a stable ErrorId).
/// </summary>
public static class RtnlValidation
{
    public const int MinMtu = 68;
    public const int MaxMtu = 65535;

    /// <summary>
    /// An interface name as the kernel's dev_valid_name accepts it: 1–15 bytes, not "." or "..", no '/', ':' or
    /// whitespace. ErrorId "InvalidInterfaceName".
    /// </summary>
    public static void ValidateInterfaceName(string? name, string what = "Interface name")
    {
        if (string.IsNullOrEmpty(name))
            throw Invalid("InvalidInterfaceName", $"{what} is empty. Give a name of 1 to {RtnlConstants.IFNAMSIZ - 1} bytes, e.g. 'veth0'.");
        var bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > RtnlConstants.IFNAMSIZ - 1)
            throw Invalid("InvalidInterfaceName",
                $"{what} '{name}' is {bytes} bytes long; Linux allows at most {RtnlConstants.IFNAMSIZ - 1} bytes (IFNAMSIZ). Choose a shorter name.");
        if (name is "." or "..")
            throw Invalid("InvalidInterfaceName", $"{what} '{name}' is not allowed. Choose a name such as 'veth0'.");
        foreach (var c in name)
        {
            if (c == '/' || c == ':' || c == '\0' || char.IsWhiteSpace(c))
                throw Invalid("InvalidInterfaceName",
                    $"{what} '{name}' contains '{(char.IsWhiteSpace(c) || c == '\0' ? "whitespace" : c.ToString())}', which Linux does not allow in interface names (no '/', ':' or whitespace). Choose a name such as 'veth0'.");
        }
    }

    /// <summary>A prefix length that fits the address family: 0–32 for IPv4, 0–128 for IPv6. ErrorId "InvalidPrefixLength".</summary>
    public static void ValidatePrefixLength(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        var max = MaxPrefix(address.AddressFamily);
        if (prefixLength < 0 || prefixLength > max)
            throw Invalid("InvalidPrefixLength",
                $"Prefix length {prefixLength} is not valid for {(max == 32 ? "IPv4" : "IPv6")} address {address}: it must be between 0 and {max}.");
    }

    internal static int MaxPrefix(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => 32,
        AddressFamily.InterNetworkV6 => 128,
        _ => throw Invalid("InvalidAddressFamily", $"Address family {family} is not supported; use an IPv4 or IPv6 address."),
    };

    internal static byte Family(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => RtnlConstants.AF_INET,
        AddressFamily.InterNetworkV6 => RtnlConstants.AF_INET6,
        AddressFamily.Unspecified => RtnlConstants.AF_UNSPEC,
        _ => throw Invalid("InvalidAddressFamily", $"Address family {family} is not supported; use InterNetwork (IPv4) or InterNetworkV6 (IPv6)."),
    };

    /// <summary>An MTU in 68..65535. ErrorId "InvalidMtu".</summary>
    public static void ValidateMtu(int mtu)
    {
        if (mtu < MinMtu || mtu > MaxMtu)
            throw Invalid("InvalidMtu", $"MTU {mtu} is out of range: it must be between {MinMtu} and {MaxMtu} (1500 is the Ethernet default).");
    }

    /// <summary>
    /// Parses a unicast Ethernet MAC address "02:42:ac:11:00:02" (or with '-'), case-insensitive, into 6 bytes.
    /// ErrorId "InvalidMacAddress".
    /// </summary>
    public static byte[] ParseMac(string mac)
    {
        if (string.IsNullOrEmpty(mac))
            throw Invalid("InvalidMacAddress", "The MAC address is empty. Give six hex octets such as 02:42:ac:11:00:02.");
        var parts = mac.Split(mac.Contains('-') ? '-' : ':');
        var b = new byte[6];
        if (parts.Length != 6)
            throw Invalid("InvalidMacAddress", $"'{mac}' is not a MAC address: expected six hex octets separated by ':' such as 02:42:ac:11:00:02.");
        for (var i = 0; i < 6; i++)
        {
            if (parts[i].Length is < 1 or > 2 || !byte.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out b[i]))
                throw Invalid("InvalidMacAddress", $"'{mac}' is not a MAC address: '{parts[i]}' is not a hex octet. Use the form 02:42:ac:11:00:02.");
        }
        if ((b[0] & 1) != 0)
            throw Invalid("InvalidMacAddress", $"'{mac}' is a multicast address (lowest bit of the first octet set) and cannot be an interface address. Use a unicast address, e.g. with first octet 02.");
        if (b.All(x => x == 0))
            throw Invalid("InvalidMacAddress", $"'{mac}' (all zeros) cannot be an interface address. Use e.g. 02:42:ac:11:00:02.");
        return b;
    }

    /// <summary>Formats a link-layer address as iproute2 does: lower-case hex octets joined by ':'.</summary>
    public static string FormatMac(ReadOnlySpan<byte> address)
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

    internal static ContainerNetworkingException Invalid(string id, string message) => new(id, ErrorKind.InvalidArgument, message);
}
