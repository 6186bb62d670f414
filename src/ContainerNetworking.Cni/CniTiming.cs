using System.Diagnostics;
using ContainerNetworking.Model;

namespace ContainerNetworking.Cni;

/// <summary>
/// Where an exec's time goes: with <c>CONTAINERNETWORKING_CNI_TIMING=1</c> in the environment, one line per phase on
/// stderr ("containernetworking: timing: PHASE N.NN ms"), the core's plan steps included, and first the wall-clock time
/// Main was entered (Unix µs), so that a caller that noted the time of its exec sees the runtime's start. Off, each mark
/// is one test of a static field.
/// </summary>
internal static class CniTiming
{
    public const string Variable = "CONTAINERNETWORKING_CNI_TIMING";

    private static TextWriter? _log;
    private static long _since;

    /// <summary>Turns the log on when the variable says so; called first thing in Main.</summary>
    public static void Start(TextWriter log)
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1") return;
        _log = log;
        _since = Stopwatch.GetTimestamp();
        log.WriteLine($"containernetworking: timing: main entered at {(DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10} us (Unix)");
        OperationPlan.StepTimes = (name, ms) => log.WriteLine($"containernetworking: timing:   step {name} {ms:F2} ms");
    }

    /// <summary>The time since the previous mark, as <paramref name="phase"/>.</summary>
    public static void Mark(string phase)
    {
        if (_log is not { } log) return;
        var now = Stopwatch.GetTimestamp();
        log.WriteLine($"containernetworking: timing: {phase} {Stopwatch.GetElapsedTime(_since, now).TotalMilliseconds:F2} ms");
        _since = Stopwatch.GetTimestamp();
    }
}
