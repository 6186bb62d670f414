using ContainerNetworking.Interop;

namespace ContainerNetworking;

/// <summary>What kind of failure an error is; the cmdlets map it to PowerShell's ErrorCategory.</summary>
public enum ErrorKind
{
    InvalidArgument,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    ResourceBusy,
    InvalidOperation,
    LimitsExceeded,
    ProtocolError,
    NotImplemented,
    OperationFailed,
}

/// <summary>
/// A failure the library explains itself: a stable <see cref="ErrorId"/> (used as the cmdlets' ErrorId), an
/// <see cref="ErrorKind"/>, and a message that names the problem and the fix.
/// </summary>
public class ContainerNetworkingException : Exception
{
    public ContainerNetworkingException(string errorId, ErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
    }

    /// <summary>A stable identifier, e.g. "LinkNotFound", "PortAlreadyPublished".</summary>
    public string ErrorId { get; }

    public ErrorKind Kind { get; }

    /// <summary>The kind of failure an errno stands for.</summary>
    public static ErrorKind KindOf(int errno) => errno switch
    {
        LibC.ENOENT or LibC.ENODEV or LibC.ESRCH or 99 /* EADDRNOTAVAIL */ => ErrorKind.NotFound,
        LibC.EEXIST or 98 /* EADDRINUSE */ => ErrorKind.AlreadyExists,
        LibC.EPERM or 13 /* EACCES */ => ErrorKind.PermissionDenied,
        LibC.EBUSY or LibC.EAGAIN => ErrorKind.ResourceBusy,
        LibC.EINVAL or 34 /* ERANGE */ or 36 /* ENAMETOOLONG */ or 90 /* EMSGSIZE */ => ErrorKind.InvalidArgument,
        LibC.EOPNOTSUPP or 38 /* ENOSYS */ or 93 /* EPROTONOSUPPORT */ => ErrorKind.NotImplemented,
        LibC.ENOBUFS or 12 /* ENOMEM */ or 28 /* ENOSPC */ => ErrorKind.LimitsExceeded,
        _ => ErrorKind.OperationFailed,
    };

    /// <summary>The stable ErrorId for a kernel errno, e.g. "Kernel.EEXIST".</summary>
    public static string ErrorIdOf(LinuxException e) => "Kernel." + e.ErrorName;
}
