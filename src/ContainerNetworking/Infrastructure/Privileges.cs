using System.Globalization;

namespace ContainerNetworking.Commands;

/// <summary>
/// The capabilities of this process, read once from <c>/proc/self/status</c> (CapEff). Changing links, addresses,
/// routes and nf_tables needs CAP_NET_ADMIN; creating, entering and deleting namespaces needs CAP_SYS_ADMIN.
/// </summary>
public static class Privileges
{
    public const int CAP_NET_ADMIN = 12;
    public const int CAP_SYS_ADMIN = 21;

    private static readonly Lazy<ulong> Effective = new(ReadEffective);

    /// <summary>True when the process has the capability in its effective set.</summary>
    public static bool Has(int capability) => (Effective.Value & (1UL << capability)) != 0;

    /// <summary>What is missing for <paramref name="needSysAdmin"/>, or null when everything is there.</summary>
    public static string? Missing(bool needSysAdmin)
    {
        var missing = new List<string>();
        if (!Has(CAP_NET_ADMIN)) missing.Add("CAP_NET_ADMIN");
        if (needSysAdmin && !Has(CAP_SYS_ADMIN)) missing.Add("CAP_SYS_ADMIN");
        return missing.Count == 0 ? null : string.Join(" and ", missing);
    }

    private static ulong ReadEffective()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                    return ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        // Unknown: let the kernel decide (an EPERM is mapped to an error that says to run as root).
        return ulong.MaxValue;
    }
}
