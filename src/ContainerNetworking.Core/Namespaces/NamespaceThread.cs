using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using ContainerNetworking.Interop;
using Microsoft.Win32.SafeHandles;

namespace ContainerNetworking.Namespaces;

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

    private static int _runtimeThreadsStarted;

    /// <summary>AppContext switch: true when the process uses no System.Net.Sockets, so the engine need not be started at home.</summary>
    public const string NoSocketEngineSwitch = "ContainerNetworking.Namespaces.NoSocketEngine";

    /// <summary>
    /// The runtime starts some threads lazily, and a new thread inherits the network namespace of the thread that
    /// starts it: the socket engine's thread (".NET Sockets"), started by the first socket operation of the process,
    /// would live on in whichever namespace that operation ran in, and pin it (its veths never go). So before the
    /// first worker enters a namespace, that engine is started here, at home: an asynchronous receive on a loopback
    /// UDP socket, cancelled at once (no packet is sent).
    /// </summary>
    private static void StartRuntimeThreadsAtHome()
    {
        if (Interlocked.Exchange(ref _runtimeThreadsStarted, 1) != 0) return;
        // A process that never uses System.Net.Sockets and lives for milliseconds (the CNI plugin) turns this off: the
        // engine never starts there, and starting it would cost the socket engine and thread pool threads every exec.
        if (AppContext.TryGetSwitch(NoSocketEngineSwitch, out var off) && off) return;
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            using var cancel = new CancellationTokenSource();
            var receive = socket.ReceiveAsync(new byte[1], SocketFlags.None, cancel.Token);
            cancel.Cancel();
            try { receive.AsTask().Wait(); } catch (AggregateException) { /* cancelled, as meant */ }
        }
        catch (SocketException) { /* no IPv4 loopback: nothing to start */ }
    }

    private static T RunCore<T>(Func<T> work, Action enter)
    {
        StartRuntimeThreadsAtHome();
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
