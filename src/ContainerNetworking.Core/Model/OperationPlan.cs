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

    /// <summary>The bench's profile (--profile): told each applied step's name and milliseconds; null otherwise.</summary>
    internal static Action<string, double>? StepTimes { get; set; }

    /// <summary>Tells <see cref="StepTimes"/> the time since <paramref name="since"/> as <paramref name="name"/> and restarts it.</summary>
    internal static void Timed(string name, ref long since)
    {
        if (StepTimes is not { } t) return;
        var now = Stopwatch.GetTimestamp();
        t(name, Stopwatch.GetElapsedTime(since, now).TotalMilliseconds);
        since = now;
    }

    internal void Add(string name, string description, Action apply, Action? undo = null) =>
        _steps.Add(new PlanStep(name, description, apply, undo));

    /// <summary>
    /// Applies every step; on the first failure undoes the applied ones in reverse and rethrows the failure.
    /// A failed undo does not stop the others; their errors are attached to the exception's Data["UndoErrors"].
    /// </summary>
    internal void Execute()
    {
        var done = new Stack<PlanStep>();
        var timed = StepTimes;
        try
        {
            foreach (var s in _steps)
            {
                FaultInjection.Before(s.Name);
                var started = timed is null ? 0 : Stopwatch.GetTimestamp();
                s.Apply();
                timed?.Invoke(s.Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
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
