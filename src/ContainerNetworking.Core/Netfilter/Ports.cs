using System.Globalization;

namespace ContainerNetworking.Netfilter;

/// <summary>A layer-4 protocol a port can be published for (the IANA protocol numbers).</summary>
public enum PortProtocol : byte
{
    Tcp = 6,
    Udp = 17,
    Sctp = 132,
}

/// <summary>
/// Ports and protocols as users write them, checked once for every layer (the firewall's port maps, Docker's
/// <c>-p</c> notation, the cmdlets' -HostPort): port numbers 1–65535, ranges "FIRST-LAST", tcp/udp/sctp.
/// </summary>
public static class Ports
{
    public const int First = 1;
    public const int Last = 65535;

    /// <summary>True for 1–65535.</summary>
    public static bool IsValid(int port) => port is >= First and <= Last;

    /// <summary>Throws InvalidPort unless <paramref name="port"/> is 1–65535; <paramref name="what"/> names it ("host port").</summary>
    public static void Validate(int port, string what)
    {
        if (!IsValid(port))
            throw new ContainerNetworkingException("InvalidPort", ErrorKind.InvalidArgument, $"The {what} {port} is not a port: give a number from 1 to 65535.");
    }

    /// <summary>Parses a port number (digits only, 1–65535).</summary>
    public static bool TryParse(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && IsValid(port);

    /// <summary>
    /// Parses "PORT" or "FIRST-LAST"; null when it is valid, else why not (naming <paramref name="what"/>, e.g.
    /// "'0' is not a valid host port (1-65535)").
    /// </summary>
    public static string? TryParseRange(string text, string what, out int first, out int last)
    {
        var dash = text.IndexOf('-');
        var a = dash < 0 ? text : text[..dash];
        var b = dash < 0 ? text : text[(dash + 1)..];
        first = last = 0;
        if (!TryParse(a, out first)) return $"'{a}' is not a valid {what} (1-65535)";
        if (!TryParse(b, out last)) return $"'{b}' is not a valid {what} (1-65535)";
        if (last < first) return $"the {what} range {text} ends before it starts";
        return null;
    }

    /// <summary>Parses "tcp", "udp" or "sctp" (any case; or 6, 17, 132).</summary>
    public static bool TryParseProtocol(string? text, out PortProtocol protocol)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "tcp" or "6": protocol = PortProtocol.Tcp; return true;
            case "udp" or "17": protocol = PortProtocol.Udp; return true;
            case "sctp" or "132": protocol = PortProtocol.Sctp; return true;
            default: protocol = default; return false;
        }
    }

    /// <summary>Parses "tcp", "udp" or "sctp" (any case); anything else is refused with InvalidProtocol.</summary>
    public static PortProtocol ParseProtocol(string protocol) => TryParseProtocol(protocol, out var p) ? p
        : throw new ContainerNetworkingException("InvalidProtocol", ErrorKind.InvalidArgument,
            $"Unknown protocol '{protocol}': ports can be published for tcp, udp or sctp.");

    /// <summary>"tcp", "udp" or "sctp".</summary>
    public static string Name(PortProtocol protocol) => protocol.ToString().ToLowerInvariant();
}
