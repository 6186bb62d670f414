using System.Runtime.ExceptionServices;

namespace ContainerNetworking.Model;

/// <summary>
/// Work on a thread of its own while the caller goes on (a dedicated thread, not the thread pool: the CNI plugin is a
/// process of milliseconds that starts no pool). <see cref="Join"/> waits for it and rethrows what it threw.
/// </summary>
internal sealed class BackgroundWork
{
    private readonly Thread _thread;
    private ExceptionDispatchInfo? _error;
    private bool _joined;

    private BackgroundWork(string name, Action work)
    {
        _thread = new Thread(() =>
        {
            try { work(); }
            catch (Exception e) { _error = ExceptionDispatchInfo.Capture(e); }
        })
        { IsBackground = true, Name = name };
    }

    public static BackgroundWork Start(string name, Action work)
    {
        var w = new BackgroundWork(name, work);
        w._thread.Start();
        return w;
    }

    /// <summary>Waits for the work; rethrows its exception (once).</summary>
    public void Join()
    {
        _thread.Join();
        if (_joined) return;
        _joined = true;
        _error?.Throw();
    }
}
