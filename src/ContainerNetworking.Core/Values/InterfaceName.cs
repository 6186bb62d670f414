using System.Text;

namespace ContainerNetworking.Values;

/// <summary>
/// Linux interface names, checked once for every layer (links, bridge networks, firewall rules, endpoints): what the
/// kernel's dev_valid_name accepts, 1–15 bytes (IFNAMSIZ − 1), not "." or "..", no '/', ':', NUL or whitespace.
/// </summary>
public static class InterfaceName
{
    /// <summary>The longest name in bytes (IFNAMSIZ − 1).</summary>
    public const int MaxBytes = 15;

    /// <summary>
    /// Throws <see cref="ContainerNetworkingException"/> (ErrorKind.InvalidArgument, <paramref name="errorId"/>) when
    /// <paramref name="name"/> is not a valid interface name; <paramref name="what"/> names the value in the message
    /// ("Veth peer name", "bridge name").
    /// </summary>
    public static void Validate(string? name, string what = "Interface name", string errorId = "InvalidInterfaceName")
    {
        if (Problem(name) is { } why)
            throw new ContainerNetworkingException(errorId, ErrorKind.InvalidArgument, $"{Capitalized(what)} {why}");
    }

    /// <summary>True when the kernel would accept <paramref name="name"/> as an interface name.</summary>
    public static bool IsValid(string? name) => Problem(name) is null;

    private static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return $"is empty. Give a name of 1 to {MaxBytes} bytes, e.g. 'veth0'.";
        var bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > MaxBytes)
            return $"'{name}' is {bytes} bytes long; Linux allows at most {MaxBytes} bytes (IFNAMSIZ). Choose a shorter name.";
        if (name is "." or "..") return $"'{name}' is not allowed. Choose a name such as 'veth0'.";
        foreach (var c in name)
        {
            if (c == '/' || c == ':' || c == '\0' || char.IsWhiteSpace(c))
                return $"'{name}' contains '{(char.IsWhiteSpace(c) || c == '\0' ? "whitespace" : c.ToString())}', which Linux does not allow in interface names " +
                    "(no '/', ':' or whitespace). Choose a name such as 'veth0'.";
        }
        return null;
    }

    private static string Capitalized(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
