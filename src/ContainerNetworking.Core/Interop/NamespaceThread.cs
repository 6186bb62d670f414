using System.Runtime.ExceptionServices;
using Microsoft.Win32.SafeHandles;

namespace ContainerNetworking.Interop;

/// <summary>
/// Runs work inside another network namespace on a dedicated OS thread that is created for it and then ends.
/// No other thread ever calls setns, so a PowerShell pipeline thread never changes namespace. This is the pattern
/// of mdlayher/socket's netns_linux.go: enter, do the work (typically: open a socket), leave, let the thread die.
/// </summary>
internal static class NamespaceThread
{
    private const int StackSize = 256 * 1024;

    /// <summary>Runs <paramref name="work"/> with the thread's network namespace set to <paramref name="ns"/>.</summary>
    public static T Run<T>(SafeFileHandle ns, Func<T> work) => RunCore(work, () =>
    {
        bool added = false;
        ns.DangerousAddRef(ref added);
        try { Errno.ThrowIfError(LibC.setns((int)ns.DangerousGetHandle(), LibC.CLONE_NEWNET), "setns(CLONE_NEWNET)"); }
        finally { if (added) ns.DangerousRelease(); }
    });

    /// <summary>Runs <paramref name="work"/> on a thread that has just unshared into a brand-new network namespace.</summary>
    public static T RunInNew<T>(Func<T> work) => RunCore(work, () =>
        Errno.ThrowIfError(LibC.unshare(LibC.CLONE_NEWNET), "unshare(CLONE_NEWNET)"));

    private static T RunCore<T>(Func<T> work, Action enter)
    {
        T result = default!;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            int home = -1;
            try
            {
                home = Errno.ThrowIfError(LibC.open("/proc/thread-self/ns/net", LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open(/proc/thread-self/ns/net)");
                enter();
                result = work();
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                if (home >= 0)
                {
                    // Go home before the thread ends, in case the runtime ever reuses it.
                    LibC.setns(home, LibC.CLONE_NEWNET);
                    LibC.close(home);
                }
            }
        }, StackSize)
        {
            IsBackground = true,
            Name = "netns worker",
        };
        thread.Start();
        thread.Join();
        error?.Throw();
        return result;
    }
}
