using ContainerNetworking.Interop;

namespace ContainerNetworking.Netlink;

/// <summary>
/// The kernel refused a netlink request. Carries the errno (number and name), the kernel's extended-ACK
/// message and offset, and the request that caused it, e.g. <c>RTM_NEWLINK: File exists (EEXIST): …</c>.
/// </summary>
public sealed class NetlinkException : LinuxException
{
    public NetlinkException(int errno, string request, uint sequence, string? extAckMessage, int? extAckOffset, string? context = null)
        : base(errno, request, Format(errno, request, extAckMessage, context))
    {
        Sequence = sequence;
        ExtAckMessage = extAckMessage;
        ExtAckOffset = extAckOffset;
        Context = context;
    }

    /// <summary>The sequence number of the failed request.</summary>
    public uint Sequence { get; }

    /// <summary>The kernel's extended-ACK text (NLMSGERR_ATTR_MSG), if it sent one.</summary>
    public string? ExtAckMessage { get; }

    /// <summary>The byte offset in the request of the attribute the kernel objected to (NLMSGERR_ATTR_OFFS).</summary>
    public int? ExtAckOffset { get; }

    /// <summary>What the request was meant to do, in the caller's words (e.g. "create veth veth0").</summary>
    public string? Context { get; }

    private static string Format(int errno, string request, string? ext, string? context)
    {
        var s = $"{request}: {Errno.Message(errno)} ({Errno.Name(errno)})";
        if (!string.IsNullOrEmpty(ext)) s += ": " + ext;
        if (!string.IsNullOrEmpty(context)) s += " [" + context + "]";
        return s;
    }
}

/// <summary>
/// Answers to a batch were lost: the socket's receive queue overflowed (ENOBUFS) while the kernel answered it, so it is
/// not known from the answers alone whether the batch took effect. <see cref="Refused"/> is the error that did arrive,
/// if any (then the kernel refused the batch).
/// </summary>
public sealed class NetlinkAnswersLostException(int missing, int expected, NetlinkException? refused, string? context)
    : LinuxException(Interop.LibC.ENOBUFS, "netlink batch",
        $"netlink batch: {missing} of {expected} answers were lost (receive queue full, ENOBUFS){(refused is null ? "" : "; the kernel refused it: " + refused.Message)}{(string.IsNullOrEmpty(context) ? "" : " [" + context + "]")}")
{
    /// <summary>How many answers did not arrive.</summary>
    public int Missing { get; } = missing;

    /// <summary>The error among the answers that did arrive, if one did.</summary>
    public NetlinkException? Refused { get; } = refused;
}

/// <summary>A netlink message or attribute that cannot be decoded: truncated, overlong or of the wrong size.</summary>
public sealed class NetlinkDecodeException : FormatException
{
    public NetlinkDecodeException(string message) : base(message) { }
}
