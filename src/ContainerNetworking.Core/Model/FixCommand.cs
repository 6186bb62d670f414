namespace ContainerNetworking.Model;

/// <summary>
/// The commands a diagnosis suggests, each naming the namespace it acts on, so that pasted as is it acts where the
/// problem is: the module's cmdlet with <c>-NetNamespace NS</c>, then after <c># or:</c> (a comment in PowerShell, so
/// the whole line pastes) the iproute2 equivalent: <c>ip -n NS …</c> or <c>ip netns exec NS …</c>, and
/// <c>nsenter --net=PATH …</c> for a namespace known by path. A null namespace is the one the process runs in (the
/// default of both, so neither names it).
/// </summary>
public static class FixCommand
{
    /// <summary><paramref name="cmdlet"/> in <paramref name="ns"/>, with <c>ip ARGS</c> in the same namespace as the alternative.</summary>
    public static string WithIp(string cmdlet, string? ns, string ipArgs) => $"{Cmdlet(cmdlet, ns)}  # or: {Ip(ns, ipArgs)}";

    /// <summary><paramref name="cmdlet"/> in <paramref name="ns"/>, with <paramref name="command"/> run inside that namespace as the alternative.</summary>
    public static string WithExec(string cmdlet, string? ns, string command) => $"{Cmdlet(cmdlet, ns)}  # or: {Exec(ns, command)}";

    /// <summary>A cmdlet line acting in <paramref name="ns"/>.</summary>
    public static string Cmdlet(string cmdlet, string? ns) => ns is null ? cmdlet : $"{cmdlet} -NetNamespace {Quote(ns)}";

    /// <summary><c>ip -n NS ARGS</c>.</summary>
    public static string Ip(string? ns, string args) => ns is null ? "ip " + args : IsPath(ns) ? $"nsenter --net={Quote(ns)} ip {args}" : $"ip -n {ns} {args}";

    /// <summary><c>ip netns exec NS COMMAND</c>.</summary>
    public static string Exec(string? ns, string command) => ns is null ? command : IsPath(ns) ? $"nsenter --net={Quote(ns)} {command}" : $"ip netns exec {ns} {command}";

    /// <summary>A word for a command line: single-quoted when it holds anything but letters, digits and ._-/:.</summary>
    public static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '/' or ':') ? s : "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static bool IsPath(string ns) => ns.StartsWith('/');
}
