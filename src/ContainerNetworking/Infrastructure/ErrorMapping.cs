using System.Management.Automation;
using ContainerNetworking.Interop;
using ContainerNetworking.Netlink;

namespace ContainerNetworking.Commands;

/// <summary>
/// The one place where exceptions become PowerShell ErrorRecords:
/// <list type="bullet">
/// <item><see cref="ContainerNetworkingException"/> → its ErrorId, its <see cref="ErrorKind"/> as the category;</item>
/// <item><see cref="LinuxException"/> / <see cref="NetlinkException"/> → "Kernel.EEXIST"-style ErrorId, the category of the
/// errno, the message keeping errno, request and the kernel's extended-ACK text, followed by the advice of
/// <see cref="KernelErrorAdvice"/> for that errno and kind of operation (also the RecommendedAction);</item>
/// <item><see cref="ArgumentException"/> (input validated by the core) → "InvalidArgument";</item>
/// <item><see cref="NetlinkDecodeException"/> → "Netlink.DecodeError" (a reply the library could not read).</item>
/// </list>
/// Anything else is a bug and is not mapped (it propagates).
/// </summary>
public static class ErrorMapping
{
    /// <summary>The ErrorRecord for a library or kernel failure, or null when the exception is not one of those.</summary>
    public static ErrorRecord? ToErrorRecord(Exception e, object? target)
    {
        switch (e)
        {
            case ContainerNetworkingException c:
                return new ErrorRecord(c, c.ErrorId, CategoryOf(c.Kind), target);
            case LinuxException l:
                {
                    // The kernel's text (errno, extended ACK, the request) stays the exception's message; the advice for
                    // that errno and kind of operation follows it in what PowerShell shows, and is the RecommendedAction.
                    var (category, advice) = KernelErrorAdvice.Explain(l);
                    var r = new ErrorRecord(l, ContainerNetworkingException.ErrorIdOf(l), category, target);
                    if (advice is not null)
                        r.ErrorDetails = new ErrorDetails(l.Message.TrimEnd('.') + ". " + advice) { RecommendedAction = advice };
                    return r;
                }
            case ArgumentException a:
                {
                    // What the user reads names the value and the fix, without .NET's " (Parameter 'name')" suffix: the
                    // parameter is the core's, not the cmdlet's.
                    var r = new ErrorRecord(a, "InvalidArgument", ErrorCategory.InvalidArgument, target);
                    if (a.ParamName is { } p && a.Message.Replace($" (Parameter '{p}')", "", StringComparison.Ordinal) is var text && text != a.Message)
                        r.ErrorDetails = new ErrorDetails(text);
                    return r;
                }
            case NetlinkDecodeException d:
                return new ErrorRecord(d, "Netlink.DecodeError", ErrorCategory.InvalidData, target);
            case ObjectDisposedException o:
                return new ErrorRecord(new InvalidOperationException(
                    "The network namespace object was closed, because Remove-NetNamespace removed it. Open it again with Get-NetNamespace, or create it with New-NetNamespace.", o),
                    "NetNamespaceClosed", ErrorCategory.InvalidOperation, target);
            default:
                return null;
        }
    }

    /// <summary>The PowerShell category of an error kind.</summary>
    public static ErrorCategory CategoryOf(ErrorKind kind) =>
        Array.FindIndex(Categories, p => p.Kind == kind) is var i and >= 0 ? Categories[i].Category : ErrorCategory.NotSpecified;

    /// <summary>The error kind of a PowerShell category (a cmdlet's own error carries one); OperationFailed for any other.</summary>
    public static ErrorKind KindOf(ErrorCategory category) =>
        Array.FindIndex(Categories, p => p.Category == category) is var i and >= 0 ? Categories[i].Kind : ErrorKind.OperationFailed;

    /// <summary>Each error kind and the PowerShell category it is reported under, one table for both directions.</summary>
    private static readonly (ErrorKind Kind, ErrorCategory Category)[] Categories =
    [
        (ErrorKind.InvalidArgument, ErrorCategory.InvalidArgument),
        (ErrorKind.NotFound, ErrorCategory.ObjectNotFound),
        (ErrorKind.AlreadyExists, ErrorCategory.ResourceExists),
        (ErrorKind.PermissionDenied, ErrorCategory.PermissionDenied),
        (ErrorKind.ResourceBusy, ErrorCategory.ResourceBusy),
        (ErrorKind.InvalidOperation, ErrorCategory.InvalidOperation),
        (ErrorKind.LimitsExceeded, ErrorCategory.LimitsExceeded),
        (ErrorKind.ProtocolError, ErrorCategory.ProtocolError),
        (ErrorKind.NotImplemented, ErrorCategory.NotImplemented),
    ];

    /// <summary>True for the exceptions <see cref="ToErrorRecord"/> maps (used in catch filters).</summary>
    public static bool IsMapped(Exception e) =>
        e is ContainerNetworkingException or LinuxException or ArgumentException or NetlinkDecodeException or ObjectDisposedException;
}
