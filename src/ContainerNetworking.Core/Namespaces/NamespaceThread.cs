using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using ContainerNetworking.Interop;
using Microsoft.Win32.SafeHandles;

namespace ContainerNetworking.Namespaces;

/// <summary>
/// Runs work inside another network namespace on a dedicated OS thread of ours (a <see cref="Worker"/>, long-lived:
/// it goes home after every job). No other thread ever calls setns, so a PowerShell pipeline thread never changes
/// namespace. This is the pattern of mdlayher/socket's netns_linux.go (enter, do the work, typically opening a socket,
/// leave), without a new thread per job.
/// </summary>
internal static class NamespaceThread
{
    private const int StackSize = 256 * 1024;

    /// <summary>Runs <paramref name="work"/> with the thread's network namespace set to <paramref name="ns"/>.</summary>
    public static T Run<T>(SafeFileHandle ns, Func<T> work) => RunCore(work, () => Enter(ns));

    /// <summary>setns(CLONE_NEWNET) into <paramref name="ns"/>, holding the handle meanwhile.</summary>
    private static void Enter(SafeFileHandle ns)
    {
        bool added = false;
        ns.DangerousAddRef(ref added);
        try { Errno.ThrowIfError(LibC.setns((int)ns.DangerousGetHandle(), LibC.CLONE_NEWNET), "setns(CLONE_NEWNET)"); }
        finally { if (added) ns.DangerousRelease(); }
    }

    /// <summary>
    /// Runs <paramref name="work"/> (starting a process) in <paramref name="ns"/> and, as <c>ip netns exec</c> does, in a
    /// mount namespace of its own in which each file of <paramref name="etcDirectory"/> (/etc/netns/NAME) is bind-mounted
    /// over the file of the same name in /etc: the process sees the namespace's hosts and resolv.conf. The mounts are
    /// the thread's (and its children's) only: / is made a slave first, so nothing propagates back to the host. It runs
    /// on a thread of its own that ends afterwards, never on a worker: unsharing the mount namespace also gives the
    /// thread a filesystem context (root, working directory) of its own, which a later job must not inherit.
    /// </summary>
    public static T RunWithEtc<T>(SafeFileHandle ns, string etcDirectory, Func<T> work)
    {
        StartRuntimeThreadsAtHome();
        return RunOnOwnThread(() => WithEtc(etcDirectory, work), () => Enter(ns));
    }

    private static T WithEtc<T>(string etcDirectory, Func<T> work)
    {
        var homeMnt = Errno.ThrowIfError(LibC.open("/proc/thread-self/ns/mnt", LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open(/proc/thread-self/ns/mnt)");
        try
        {
            Errno.ThrowIfError(LibC.unshare(LibC.CLONE_NEWNS), "unshare(CLONE_NEWNS)");
            Errno.ThrowIfError(LibC.mount("", "/", "none", LibC.MS_SLAVE | LibC.MS_REC, 0), "mount --make-rslave /");
            foreach (var file in Directory.EnumerateFiles(etcDirectory))
            {
                // As ip netns exec: a file without its twin in /etc, or a link that leads nowhere, is passed over.
                var target = Path.Combine("/etc", Path.GetFileName(file));
                if (!File.Exists(target) || !File.Exists(file)) continue;
                Errno.ThrowIfError(LibC.mount(file, target, "none", LibC.MS_BIND, 0), $"mount --bind {file} {target}");
            }
            return work();
        }
        finally
        {
            LibC.setns(homeMnt, LibC.CLONE_NEWNS);
            LibC.close(homeMnt);
        }
    }

    /// <summary>Runs <paramref name="work"/> on a thread that has just unshared into a brand-new network namespace.</summary>
    public static T RunInNew<T>(Func<T> work) => RunCore(work, Unshare);

    /// <summary>
    /// Starts <paramref name="before"/> (at home) and then <paramref name="work"/> on a thread that has unshared into a
    /// brand-new network namespace, and returns at once: the caller goes on with other work meanwhile and takes the
    /// result (or the job's exception) from <see cref="Pending{T}.Wait"/>, which it must call. Where jobs do not go to a
    /// worker (the calling thread enters itself, or a worker asks), and while fault injection is armed (its points then
    /// come in one order), the job has run by the time this returns.
    /// </summary>
    public static Pending<T> StartInNew<T>(Action before, Func<T> work)
    {
        void Enter()
        {
            before();
            Unshare();
        }
        StartRuntimeThreadsAtHome();
        if (Inline || Worker.IsCurrent || !UseWorkers || FaultInjection.Armed) return Pending<T>.Run(() => RunCore(work, Enter));
        return Start(work, Enter);
    }

    private static void Unshare() => Errno.ThrowIfError(LibC.unshare(LibC.CLONE_NEWNET), "unshare(CLONE_NEWNET)");

    /// <summary>A job started on a worker (<see cref="StartInNew"/>): <see cref="Wait"/> waits for it and gives its result.</summary>
    internal sealed class Pending<T>
    {
        private Worker? _worker;
        private T _result = default!;
        private ExceptionDispatchInfo? _error;

        /// <summary>A job run to its end at once, here.</summary>
        internal static Pending<T> Run(Func<T> job)
        {
            var p = new Pending<T>();
            try { p._result = job(); }
            catch (Exception e) { p._error = ExceptionDispatchInfo.Capture(e); }
            return p;
        }

        /// <summary>On <paramref name="worker"/>, running the job that reports to this.</summary>
        internal static Pending<T> On(Worker worker) => new() { _worker = worker };

        private volatile bool _over;

        internal void Succeeded(T result)
        {
            _result = result;
            _over = true;
        }

        internal void Failed(Exception e)
        {
            _error = ExceptionDispatchInfo.Capture(e);
            _over = true;
        }

        /// <summary>True once the job has ended (its result or its error is there): <see cref="Wait"/> waits at most for the worker to go home.</summary>
        public bool IsCompleted => _over || _worker is null;

        /// <summary>Waits for the job (once; later calls return at once) and returns its result, or throws its exception.</summary>
        public T Wait()
        {
            lock (this)
            {
                if (_worker is { } w)
                {
                    _worker = null;
                    try { w.WaitDone(); }
                    catch (Exception e) { _error ??= ExceptionDispatchInfo.Capture(e); }
                    finally { Worker.Return(w); }
                }
            }
            _error?.Throw();
            return _result;
        }
    }

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

    /// <summary>
    /// AppContext switch: true in a process that does one thing and ends (the CNI plugin), whose own thread may enter a
    /// namespace for a job and go home after it (<see cref="RunInline"/>) instead of handing it to a worker: starting a
    /// worker thread waits until the new thread runs (the runtime yields meanwhile), on a busy machine most of an exec's
    /// namespace work.
    /// </summary>
    public const string InlineSwitch = "ContainerNetworking.Namespaces.EnterOnCallingThread";

    private static readonly bool Inline = AppContext.TryGetSwitch(InlineSwitch, out var on) && on;

    private static T RunCore<T>(Func<T> work, Action enter)
    {
        StartRuntimeThreadsAtHome();
        if (Inline) return RunInline(work, enter);
        // Namespace work that itself enters a namespace (none does today) gets a thread that ends afterwards: a worker
        // started from inside a foreign namespace would call that namespace its home and pin it.
        if (Worker.IsCurrent || !UseWorkers) return RunOnOwnThread(work, enter);
        return Start(work, enter).Wait();
    }

    /// <summary>Starts the job on a worker, in the caller's execution context (AsyncLocals: cancellation, fault injection), as it did on a thread started for it.</summary>
    private static Pending<T> Start<T>(Func<T> work, Action enter)
    {
        var context = ExecutionContext.Capture();
        var worker = Worker.Take();
        var pending = Pending<T>.On(worker);
        worker.Start(() =>
        {
            try
            {
                if (context is null) Job();
                else ExecutionContext.Run(context, _ => Job(), null);
            }
            catch (Exception e) { pending.Failed(e); }

            void Job()
            {
                enter();
                pending.Succeeded(work());
            }
        });
        return pending;
    }

    /// <summary>False: a thread per job, as before the workers (the bench's profile compares the two).</summary>
    internal static bool UseWorkers { get; set; } = true;

    /// <summary>The way without a worker: a thread started for the job, which goes home and ends.</summary>
    private static T RunOnOwnThread<T>(Func<T> work, Action enter)
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
            catch (Exception e) { error = ExceptionDispatchInfo.Capture(e); }
            finally
            {
                if (home >= 0)
                {
                    LibC.setns(home, LibC.CLONE_NEWNET);
                    LibC.close(home);
                }
            }
        }, StackSize) { IsBackground = true, Name = "netns worker" };
        thread.Start();
        thread.Join();
        error?.Throw();
        return result;
    }

    /// <summary>
    /// The job on the calling thread: it enters, works and goes back to the namespace it was in. A thread that cannot go
    /// back would do the process's next work in the wrong namespace: the process ends then (FailFast), as a worker that
    /// cannot go home ends.
    /// </summary>
    private static T RunInline<T>(Func<T> work, Action enter)
    {
        var home = Errno.ThrowIfError(LibC.open("/proc/thread-self/ns/net", LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open(/proc/thread-self/ns/net)");
        try
        {
            enter();
            return work();
        }
        finally
        {
            if (LibC.setns(home, LibC.CLONE_NEWNET) != 0)
                Environment.FailFast($"setns back to the thread's own network namespace failed (errno {Errno.Last}) after work in another one");
            LibC.close(home);
        }
    }

    /// <summary>How many idle workers are kept (more run only while callers run namespace work at the same time).</summary>
    private const int IdleWorkers = 2;

    /// <summary>
    /// A long-lived OS thread of ours alone (never a pipeline or runtime thread) that runs namespace work one job at a
    /// time: it enters, works, and goes back to the namespace it started in (its home, held open as a descriptor) before
    /// it takes the next job, so an idle worker pins no namespace. Creating a thread per job cost a clone, a stack and a
    /// join each time. A worker that cannot go home (setns fails) ends at once, so that its namespace goes with it.
    /// </summary>
    internal sealed class Worker
    {
        private static readonly Stack<Worker> Idle = new();

        [ThreadStatic]
        private static bool t_isWorker;

        /// <summary>Whether the calling thread is a worker (running a job).</summary>
        public static bool IsCurrent => t_isWorker;
        private readonly SemaphoreSlim _go = new(0);
        private readonly SemaphoreSlim _done = new(0);
        private Action? _job;
        private bool _broken;
        private int _home = -1;
        private ExceptionDispatchInfo? _startError;

        private Worker()
        {
            var thread = new Thread(Loop, StackSize) { IsBackground = true, Name = "netns worker" };
            thread.Start();
        }

        public static Worker Take()
        {
            lock (Idle)
                if (Idle.TryPop(out var w)) return w;
            return new Worker();
        }

        public static void Return(Worker w)
        {
            if (w._broken) return;
            lock (Idle)
            {
                if (Idle.Count < IdleWorkers)
                {
                    Idle.Push(w);
                    return;
                }
            }
            w.Quit();
        }

        /// <summary>Starts <paramref name="job"/> on this worker (the job catches its own exceptions); <see cref="WaitDone"/> waits for it.</summary>
        public void Start(Action job)
        {
            _job = job;
            _go.Release();
        }

        /// <summary>Waits for the job <see cref="Start"/> gave; throws when the worker could not start.</summary>
        public void WaitDone()
        {
            _done.Wait();
            _startError?.Throw();
        }

        private void Quit()
        {
            _job = null;
            _go.Release();
        }

        private void Loop()
        {
            t_isWorker = true;
            try { _home = Errno.ThrowIfError(LibC.open("/proc/thread-self/ns/net", LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open(/proc/thread-self/ns/net)"); }
            catch (Exception e)
            {
                _startError = ExceptionDispatchInfo.Capture(e);
                _broken = true;
            }
            try
            {
                while (true)
                {
                    _go.Wait();
                    var job = _job;
                    _job = null;
                    if (job is null) return; // Quit
                    if (_startError is null)
                    {
                        try { job(); }
                        finally
                        {
                            // Home before anything else: an idle worker must hold no namespace.
                            if (LibC.setns(_home, LibC.CLONE_NEWNET) != 0) _broken = true;
                        }
                    }
                    _done.Release();
                    if (_broken) return; // ends in whatever namespace it is stuck in, which lets that namespace go
                }
            }
            finally
            {
                if (_home >= 0) LibC.close(_home);
            }
        }
    }
}
