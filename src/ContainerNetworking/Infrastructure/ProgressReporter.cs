using System.Diagnostics;
using System.Management.Automation;

namespace ContainerNetworking.Commands;

/// <summary>
/// Write-Progress for an operation over many objects, given at once (<c>New-NetNamespace -Name (1..500 | % { "c$_" })</c>,
/// total known) or arriving one by one through the pipeline (total unknown): silent for the first <see cref="Threshold"/>
/// items, then a record at once and at most ~10 a second after that (and always for the last item of a known total);
/// completed by <see cref="Complete"/> or Dispose (call it in EndProcessing for pipeline input).
/// <code>
/// using var progress = new ProgressReporter(this, "Creating namespaces", Name.Length);
/// foreach (var n in Name) { progress.Next(n); … }
/// </code>
/// </summary>
public sealed class ProgressReporter : IDisposable
{
    /// <summary>Below this many items no progress is shown.</summary>
    public const int Threshold = 10;

    /// <summary>The least time between two records, in milliseconds.</summary>
    private const long Interval = 100;

    private readonly Cmdlet _cmdlet;
    private readonly int _activityId;
    private readonly string _activity;
    private readonly int? _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long? _lastWrite;
    private int _done;
    private bool _written;

    /// <param name="cmdlet">The cmdlet that writes the records.</param>
    /// <param name="activity">What is being done, e.g. "Creating network namespaces".</param>
    /// <param name="total">The number of items when known up front; null for pipeline input.</param>
    /// <param name="activityId">The ProgressRecord's activity id.</param>
    public ProgressReporter(Cmdlet cmdlet, string activity, int? total = null, int activityId = 1)
    {
        _cmdlet = cmdlet;
        _total = total;
        _activityId = activityId;
        _activity = activity;
    }

    /// <summary>Reports that work on <paramref name="item"/> starts; <paramref name="total"/> overrides the constructor's for this batch.</summary>
    public void Next(string item, int? total = null)
    {
        _done++;
        total ??= _total;
        if ((total ?? _done) < Threshold && _done < Threshold) return;
        var now = _clock.ElapsedMilliseconds;
        // The first record goes out at once: no earlier write to measure the interval from.
        if (_lastWrite is { } last && now - last < Interval && _done != total) return;
        _lastWrite = now;
        // A new record each time: the host (and a runspace's Streams.Progress) may keep the ones it was given.
        _cmdlet.WriteProgress(total is { } t
            ? new ProgressRecord(_activityId, _activity, $"{item} ({_done} of {t})") { PercentComplete = Math.Min(100, (_done - 1) * 100 / Math.Max(1, t)) }
            : new ProgressRecord(_activityId, _activity, $"{item} ({_done} so far)"));
        _written = true;
    }

    /// <summary>Completes the progress bar if one was shown.</summary>
    public void Complete()
    {
        if (!_written) return;
        _cmdlet.WriteProgress(new ProgressRecord(_activityId, _activity, "Done") { RecordType = ProgressRecordType.Completed, PercentComplete = 100 });
        _written = false;
    }

    public void Dispose() => Complete();
}
