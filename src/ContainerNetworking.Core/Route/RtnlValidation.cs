using System.Net.Sockets;

namespace ContainerNetworking.Route;

/// <summary>
/// Checks of rtnetlink input made before any request is sent, so that bad input changes nothing and gets an error
/// that names the problem and the fix (ErrorKind.InvalidArgument with a stable ErrorId).
/// </summary>
public static class RtnlValidation
{
    public const int MinMtu = 68;
    public const int MaxMtu = 65535;

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

    /// <summary>One of the kernel's address generation modes. ErrorId "InvalidAddressGeneration".</summary>
    public static void ValidateAddressGeneration(IPv6AddressGeneration mode)
    {
        if (!Enum.IsDefined(mode))
            throw Invalid("InvalidAddressGeneration", $"IPv6 address generation mode {(byte)mode} is not one the kernel knows; use Eui64, None, StablePrivacy or Random.");
    }

    internal static ContainerNetworkingException Invalid(string id, string message) => new(id, ErrorKind.InvalidArgument, message);
}
