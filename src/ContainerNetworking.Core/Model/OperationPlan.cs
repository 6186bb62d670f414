using System.Diagnostics;
using System.Text;

namespace ContainerNetworking.Model;

/// <summary>One step of a plan: a stable name (e.g. "CreateVeth") and what it does, in iproute2/nft terms.</summary>
public sealed class PlanStep
{
    internal PlanStep(string name, string description, Action apply, Action? undo)
    {
        Name = name;
        Description = description;
        Apply = apply;
        Undo = undo;
    }

    /// <summary>A stable step name, also the value <see cref="FaultInjection.Variable"/> takes.</summary>
    public string Name { get; }

    /// <summary>What the step does, e.g. "ip link add veth1a2b3c4 type veth peer name eth0 netns red".</summary>
    public string Description { get; }

    internal Action Apply { get; }
    internal Action? Undo { get; }

    public override string ToString() => $"{Name}: {Description}";
}

/// <summary>
/// Every step of a multi-step operation, built (and validated) before anything changes. <see cref="Execute"/>
/// applies the steps in order with an undo stack: when a step fails, the steps before it are undone in reverse,
/// so the operation either completes or leaves nothing behind. Without executing it, the plan is what -WhatIf shows.
/// </summary>
public sealed class OperationPlan
{
    private readonly List<PlanStep> _steps = [];

    internal OperationPlan(string operation) => Operation = operation;

    /// <summary>What the plan does as a whole, e.g. "Connect web to network bridge".</summary>
    public string Operation { get; }

    public IReadOnlyList<PlanStep> Steps => _steps;

    internal void Add(string name, string description, Action apply, Action? undo = null) =>
        _steps.Add(new PlanStep(name, description, apply, undo));

    /// <summary>
    /// Applies every step; on the first failure undoes the applied ones in reverse and rethrows the failure.
    /// A failed undo does not stop the others; their errors are attached to the exception's Data["UndoErrors"].
    /// </summary>
    internal void Execute()
    {
        var done = new Stack<PlanStep>();
        try
        {
            foreach (var s in _steps)
            {
                FaultInjection.Before(s.Name);
                s.Apply();
                done.Push(s);
            }
        }
        catch (SimulatedCrashException)
        {
            throw; // a crash runs no undo: what was done stays for Repair to find
        }
        catch (Exception e)
        {
            var undoErrors = new List<string>();
            while (done.TryPop(out var s))
            {
                if (s.Undo is null) continue;
                try { s.Undo(); }
                catch (Exception u) { undoErrors.Add($"{s.Name}: {u.Message}"); }
            }
            if (undoErrors.Count > 0) e.Data["UndoErrors"] = string.Join("; ", undoErrors);
            throw;
        }
    }

    public override string ToString()
    {
        var sb = new StringBuilder(Operation).Append(':');
        for (var i = 0; i < _steps.Count; i++) sb.Append('\n').Append(i + 1).Append(". ").Append(_steps[i]);
        return sb.ToString();
    }
}

/// <summary>
/// Fault injection for the all-or-nothing tests. With <c>CONTAINERNETWORKING_FAULT_STEP=STEP</c> in the
/// environment the process kills itself (SIGKILL) right before the step of that name: a real crash, nothing
/// undone, the state lock released by the kernel. In-process tests set <see cref="CrashBefore"/> instead: a
/// <see cref="SimulatedCrashException"/> is thrown there and, like a crash, runs no undo.
/// </summary>
public static class FaultInjection
{
    public const string Variable = "CONTAINERNETWORKING_FAULT_STEP";
    private static readonly string? FromEnvironment = Environment.GetEnvironmentVariable(Variable);
    private static readonly AsyncLocal<string?> Simulated = new();

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

    internal static void Before(string step)
    {
        if (Interleaved.Value is { } i && string.Equals(i.Step, step, StringComparison.Ordinal))
        {
            Interleaved.Value = null;
            i.Action();
        }
        if (FromEnvironment is not null && string.Equals(FromEnvironment, step, StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"{Variable}: killing process {Environment.ProcessId} before step {step}");
            Console.Error.Flush();
            Process.GetCurrentProcess().Kill();
            Thread.Sleep(Timeout.Infinite);
        }
        if (Simulated.Value is { } s && string.Equals(s, step, StringComparison.Ordinal))
            throw new SimulatedCrashException(step);
    }
}

/// <summary>Thrown by <see cref="FaultInjection"/> to simulate a process dying before a step.</summary>
public sealed class SimulatedCrashException(string step) : Exception($"Simulated crash before step {step}.")
{
    public string Step { get; } = step;
}
