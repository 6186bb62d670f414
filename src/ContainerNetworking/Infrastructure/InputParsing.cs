using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Route;
using ContainerNetworking.Values;

namespace ContainerNetworking.Commands;

/// <summary>-AddressFamily of the module's cmdlets (Windows NetTCPIP names).</summary>
public enum NetAddressFamily
{
    IPv4,
    IPv6,
    Both,
}

/// <summary>-Scope of New-NetRoute (RT_SCOPE_*).</summary>
public enum RouteScope
{
    Universe = 0,
    Site = 200,
    Link = 253,
    Host = 254,
}

/// <summary>
/// Parsing of the text users type for addresses and prefixes, with errors that name the problem and the fix
/// (ErrorIds "InvalidIPAddress", "InvalidPrefixLength", "InvalidDestinationPrefix", "InvalidSourcePrefix", "PrefixLengthRequired").
/// </summary>
public static class InputParsing
{
    /// <summary>The socket family for a -AddressFamily value; null for Both.</summary>
    public static AddressFamily? ToSocketFamily(NetAddressFamily family) => family switch
    {
        NetAddressFamily.IPv4 => AddressFamily.InterNetwork,
        NetAddressFamily.IPv6 => AddressFamily.InterNetworkV6,
        _ => null,
    };

    /// <summary>The families a -AddressFamily value stands for.</summary>
    public static AddressFamily[] Families(NetAddressFamily family) => family switch
    {
        NetAddressFamily.IPv4 => [AddressFamily.InterNetwork],
        NetAddressFamily.IPv6 => [AddressFamily.InterNetworkV6],
        _ => [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6],
    };

    /// <summary>"IPv4" or "IPv6".</summary>
    public static string Name(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    /// <summary>An IPv4 or IPv6 address ("192.168.15.1", "fd00::1").</summary>
    public static IPAddress ParseAddress(string text, string what = "IP address")
    {
        if (!string.IsNullOrWhiteSpace(text) && !text.Contains('/') && IPAddress.TryParse(text.Trim(), out var a)
            && a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            return a;
        throw new ContainerNetworkingException("InvalidIPAddress", ErrorKind.InvalidArgument,
            $"'{text}' is not a valid {what}. Give an IPv4 address such as 192.168.15.1 or an IPv6 address such as fd00::1.");
    }

    /// <summary>
    /// An address with its prefix length: "192.168.15.1/24", or "192.168.15.1" with <paramref name="prefixLength"/>.
    /// Both forms at once must agree.
    /// </summary>
    public static (IPAddress Address, int PrefixLength) ParseAddressAndPrefix(string text, int? prefixLength)
    {
        var slash = text?.IndexOf('/') ?? -1;
        var address = ParseAddress(slash < 0 ? text ?? "" : text![..slash]);
        int? fromText = null;
        if (slash >= 0)
        {
            if (!int.TryParse(text![(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var p))
                throw new ContainerNetworkingException("InvalidPrefixLength", ErrorKind.InvalidArgument,
                    $"'{text}' has no valid prefix length after '/'. Write it as {address}/24, or give -PrefixLength.");
            fromText = p;
        }
        if (fromText is { } t && prefixLength is { } given && t != given)
            throw new ContainerNetworkingException("InvalidPrefixLength", ErrorKind.InvalidArgument,
                $"The prefix length is given twice and differs: /{t} in '{text}' and -PrefixLength {given}. Give it once.");
        var prefix = fromText ?? prefixLength ?? throw new ContainerNetworkingException("PrefixLengthRequired", ErrorKind.InvalidArgument,
            $"No prefix length for {address}. Give -PrefixLength (e.g. 24) or write the address as {address}/24.");
        IPPrefix.ValidateLength(address, prefix);
        return (address, prefix);
    }

    /// <summary>
    /// A destination prefix: "10.0.0.0/8", "fd00::/64", a bare address (a host route, /32 or /128), or "default"
    /// (0.0.0.0/0, or ::/0 when <paramref name="familyHint"/> is IPv6). With <paramref name="source"/> it is a source
    /// prefix (masquerade): the errors say so and their ErrorId is InvalidSourcePrefix.
    /// </summary>
    public static IPNetwork ParsePrefix(string text, AddressFamily? familyHint = null, bool source = false)
    {
        var id = source ? "InvalidSourcePrefix" : "InvalidDestinationPrefix";
        var kind = source ? "source" : "destination";
        var t = text?.Trim() ?? "";
        if (t.Equals("default", StringComparison.OrdinalIgnoreCase))
            return familyHint == AddressFamily.InterNetworkV6 ? new IPNetwork(IPAddress.IPv6Any, 0) : new IPNetwork(IPAddress.Any, 0);
        var slash = t.IndexOf('/');
        IPAddress address;
        int prefix;
        try
        {
            address = ParseAddress(slash < 0 ? t : t[..slash], kind + " address");
        }
        catch (ContainerNetworkingException)
        {
            throw new ContainerNetworkingException(id, ErrorKind.InvalidArgument,
                $"'{text}' is not a {kind} prefix. Write it as 192.168.15.0/24{(source ? " or fd00::/64" : ", fd00::/64 or 'default'")}.");
        }
        if (slash < 0) prefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        else if (!int.TryParse(t[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix))
            throw new ContainerNetworkingException(id, ErrorKind.InvalidArgument,
                $"'{text}' has no valid prefix length after '/'. Write it as {address}/24.");
        IPPrefix.ValidateLength(address, prefix);
        var network = IPPrefix.Network(address, prefix);
        if (!network.BaseAddress.Equals(address))
            throw new ContainerNetworkingException(id, ErrorKind.InvalidArgument,
                $"'{text}' has host bits set after the prefix. Did you mean {network}?");
        return network;
    }
}
