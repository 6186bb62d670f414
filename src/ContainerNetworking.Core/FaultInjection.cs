using System.Diagnostics;

namespace ContainerNetworking;

/// <summary>
/// Fault injection for the crash tests; the product never enables it otherwise. A fault point is a place where a
/// process may die and leave work half-done: every step of an operation plan (named for it, e.g. "CreateVeth"), and
/// inside a step the moments between two system calls that a crash can split: "MountNamespace" (a new namespace's file
/// under /run/netns is made, the namespace not yet mounted onto it), "UnlinkNamespace" (a namespace's bind mount is
/// gone, its file not yet), "RenameStateFile" (a state file's temporary copy is written and
/// fsync'ed, not yet renamed into place), "OverwriteStateFile" (an endpoint record about to be overwritten in place), "DeleteTrash" (a removed network's directory is renamed aside, not yet deleted).
/// <para>
/// With <c>CONTAINERNETWORKING_FAULT_STEP</c> in the environment the process kills itself (SIGKILL) right before a
/// point: <c>NAME</c> the first time that point is reached, <c>NAME@N</c> the Nth time, <c>#N</c> the Nth point of
/// any name. A real crash: nothing undone, the state lock released by the kernel. With
/// <c>CONTAINERNETWORKING_FAULT_TRACE=1</c> every point reached is written to standard error as <c>fault-point NAME</c>
/// (how a test learns the points of a command before it kills it at each). In-process tests set
/// <see cref="CrashBefore"/> instead: a <see cref="SimulatedCrashException"/> is thrown before that plan step and,
/// like a crash, runs no undo.
/// </para>
/// </summary>
public static class FaultInjection
{
    public const string Variable = "CONTAINERNETWORKING_FAULT_STEP";
    public const string TraceVariable = "CONTAINERNETWORKING_FAULT_TRACE";
    private static readonly string? FromEnvironment = Environment.GetEnvironmentVariable(Variable);
    private static readonly bool Trace = Environment.GetEnvironmentVariable(TraceVariable) == "1";
    private static readonly AsyncLocal<string?> Simulated = new();
    private static readonly Dictionary<string, int> Reached = new(StringComparer.Ordinal);
    private static int _reachedAll;

    /// <summary>
    /// Whether the environment asks for a kill or a trace: work that would overlap another thread's then runs in order
    /// (NamespaceThread.StartInNew), so that the points are reached in the same order every run and "#N" names the
    /// same moment in the trace and in the kill.
    /// </summary>
    internal static bool Armed => FromEnvironment is not null || Trace;

    /// <summary>The step before which the current async flow "crashes" (in-process tests).</summary>
    public static string? CrashBefore
    {
        get => Simulated.Value;
        set => Simulated.Value = value;
    }

    private static readonly AsyncLocal<(string Step, Action Action)?> Interleaved = new();

    /// <summary>
    /// In-process tests: runs <paramref name="action"/> once, right before the step <paramref name="step"/> of the
    /// current async flow: another process's work arriving between two steps (null clears it).
    /// </summary>
    public static void Interleave(string? step, Action? action) =>
        Interleaved.Value = step is null || action is null ? null : (step, action);

    /// <summary>A plan step is about to run (see <see cref="Point"/>); also the in-process tests' simulated crash and interleaving.</summary>
    internal static void Before(string step)
    {
        if (Interleaved.Value is { } i && string.Equals(i.Step, step, StringComparison.Ordinal))
        {
            Interleaved.Value = null;
            i.Action();
        }
        Point(step);
        if (Simulated.Value is { } s && string.Equals(s, step, StringComparison.Ordinal))
            throw new SimulatedCrashException(step);
    }

    /// <summary>A fault point: the process dies here when the environment names it (and traces it when asked to).</summary>
    internal static void Point(string name)
    {
        if (FromEnvironment is null && !Trace) return;
        int nth, all;
        lock (Reached)
        {
            Reached[name] = nth = Reached.GetValueOrDefault(name) + 1;
            all = ++_reachedAll;
        }
        if (Trace)
        {
            Console.Error.WriteLine("fault-point " + name);
            Console.Error.Flush();
        }
        if (FromEnvironment is not { } wanted) return;
        var at = wanted.LastIndexOf('@');
        var hit = wanted.StartsWith('#')
            ? wanted[1..] == all.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : at < 0 ? nth == 1 && string.Equals(wanted, name, StringComparison.Ordinal)
            : string.Equals(wanted[..at], name, StringComparison.Ordinal) && wanted[(at + 1)..] == nth.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!hit) return;
        Console.Error.WriteLine($"{Variable}: killing process {Environment.ProcessId} before step {name} (fault point {all})");
        Console.Error.Flush();
        Process.GetCurrentProcess().Kill();
        Thread.Sleep(Timeout.Infinite);
    }
}

/// <summary>Thrown by <see cref="FaultInjection"/> to simulate a process dying before a step.</summary>
public sealed class SimulatedCrashException(string step) : Exception($"Simulated crash before step {step}.")
{
    public string Step { get; } = step;
}
