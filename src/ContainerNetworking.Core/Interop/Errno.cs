using System.Runtime.InteropServices;

namespace ContainerNetworking.Interop;

/// <summary>The one place where errno values become names, messages and exceptions.</summary>
public static class Errno
{
    private static readonly string[] Names = BuildNames();

    private static string[] BuildNames()
    {
        var n = new string[134];
        void S(int i, string s) => n[i] = s;
        S(1, "EPERM"); S(2, "ENOENT"); S(3, "ESRCH"); S(4, "EINTR"); S(5, "EIO"); S(6, "ENXIO"); S(7, "E2BIG");
        S(8, "ENOEXEC"); S(9, "EBADF"); S(10, "ECHILD"); S(11, "EAGAIN"); S(12, "ENOMEM"); S(13, "EACCES");
        S(14, "EFAULT"); S(15, "ENOTBLK"); S(16, "EBUSY"); S(17, "EEXIST"); S(18, "EXDEV"); S(19, "ENODEV");
        S(20, "ENOTDIR"); S(21, "EISDIR"); S(22, "EINVAL"); S(23, "ENFILE"); S(24, "EMFILE"); S(25, "ENOTTY");
        S(26, "ETXTBSY"); S(27, "EFBIG"); S(28, "ENOSPC"); S(29, "ESPIPE"); S(30, "EROFS"); S(31, "EMLINK");
        S(32, "EPIPE"); S(33, "EDOM"); S(34, "ERANGE"); S(35, "EDEADLK"); S(36, "ENAMETOOLONG"); S(37, "ENOLCK");
        S(38, "ENOSYS"); S(39, "ENOTEMPTY"); S(40, "ELOOP"); S(42, "ENOMSG"); S(43, "EIDRM"); S(61, "ENODATA");
        S(62, "ETIME"); S(71, "EPROTO"); S(74, "EBADMSG"); S(75, "EOVERFLOW"); S(84, "EILSEQ"); S(88, "ENOTSOCK");
        S(90, "EMSGSIZE"); S(92, "ENOPROTOOPT"); S(93, "EPROTONOSUPPORT"); S(95, "EOPNOTSUPP"); S(97, "EAFNOSUPPORT");
        S(98, "EADDRINUSE"); S(99, "EADDRNOTAVAIL"); S(100, "ENETDOWN"); S(101, "ENETUNREACH"); S(103, "ECONNABORTED");
        S(104, "ECONNRESET"); S(105, "ENOBUFS"); S(106, "EISCONN"); S(107, "ENOTCONN"); S(110, "ETIMEDOUT");
        S(111, "ECONNREFUSED"); S(112, "EHOSTDOWN"); S(113, "EHOSTUNREACH"); S(114, "EALREADY"); S(115, "EINPROGRESS");
        S(122, "EDQUOT"); S(125, "ECANCELED"); S(130, "EOWNERDEAD"); S(131, "ENOTRECOVERABLE"); S(132, "ERFKILL"); S(133, "EHWPOISON");
        return n;
    }

    /// <summary>The symbolic name of an errno value, e.g. 17 → "EEXIST".</summary>
    public static string Name(int errno) =>
        errno > 0 && errno < Names.Length && Names[errno] is { } s ? s : "E" + errno.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The C library's text for an errno value, e.g. 17 → "File exists".</summary>
    public static string Message(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>The errno of the last failed call made through <see cref="LibC"/>.</summary>
    internal static int Last => Marshal.GetLastPInvokeError();

    /// <summary>Throws a <see cref="LinuxException"/> for the last failed call when <paramref name="result"/> is negative.</summary>
    internal static int ThrowIfError(int result, string operation)
    {
        if (result < 0) throw new LinuxException(Last, operation);
        return result;
    }

    internal static nint ThrowIfError(nint result, string operation)
    {
        if (result < 0) throw new LinuxException(Last, operation);
        return result;
    }
}

/// <summary>A failed system call: keeps its errno, its name and the operation that failed.</summary>
public class LinuxException : IOException
{
    public LinuxException(int errno, string operation)
        : this(errno, operation, $"{operation}: {Errno.Message(errno)} ({Errno.Name(errno)})") { }

    protected LinuxException(int errno, string operation, string message) : base(message)
    {
        ErrorNumber = errno;
        Operation = operation;
        HResult = errno;
    }

    /// <summary>The errno value, e.g. 17.</summary>
    public int ErrorNumber { get; }

    /// <summary>The errno name, e.g. "EEXIST".</summary>
    public string ErrorName => Errno.Name(ErrorNumber);

    /// <summary>What was being done, e.g. "setns" or "RTM_NEWLINK".</summary>
    public string Operation { get; }
}
