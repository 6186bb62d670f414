using System.Diagnostics;
using System.Management.Automation;

namespace ContainerNetworking.Commands;

/// <summary>
/// Write-Progress for an operation over many objects (e.g. <c>New-NetNamespace -Name (1..500 | % { "c$_" })</c>):
/// silent for a handful of items, at most ~10 records a second otherwise, and completed on Dispose.
/// <code>
/// using var progress = new ProgressReporter(this, "Creating namespaces", Name.Length);
/// foreach (var n in Name) { progress.Next(n); … }
/// </code>
/// </summary>
public sealed class ProgressReporter : IDisposable
{
    /// <summary>Below this many items no progress is shown.</summary>
    public const int Threshold = 10;

    private readonly Cmdlet _cmdlet;
    private readonly ProgressRecord _record;
    private readonly int _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastWrite = long.MinValue;
    private int _done;
    private bool _written;

    public ProgressReporter(Cmdlet cmdlet, string activity, int total, int activityId = 1)
    {
        _cmdlet = cmdlet;
        _total = total;
        _record = new ProgressRecord(activityId, activity, "Starting");
    }

    /// <summary>Reports that work on <paramref name="item"/> starts.</summary>
    public void Next(string item)
    {
        _done++;
        if (_total < Threshold) return;
        var now = _clock.ElapsedMilliseconds;
        if (now - _lastWrite < 100 && _done != _total) return;
        _lastWrite = now;
        _record.StatusDescription = $"{item} ({_done} of {_total})";
        _record.PercentComplete = Math.Min(100, (_done - 1) * 100 / Math.Max(1, _total));
        _cmdlet.WriteProgress(_record);
        _written = true;
    }

    public void Dispose()
    {
        if (!_written) return;
        _record.RecordType = ProgressRecordType.Completed;
        _record.PercentComplete = 100;
        _cmdlet.WriteProgress(_record);
    }
}
