namespace ContainerNetworking;

/// <summary>
/// The cancellation of the operation that runs on this flow of execution (a cmdlet's pipeline item; a caller's
/// request): the core's waits that can last, the state lock above all, end with OperationCanceledException when it is
/// cancelled. Ambient (an AsyncLocal), so that it reaches the waits through every layer without each public method
/// taking a token: the cmdlets' base class enters it around each item's work and cancels it in StopProcessing (Ctrl+C,
/// PowerShell.Stop()); library callers may enter it around a call.
/// </summary>
public static class CancellationScope
{
    private static readonly AsyncLocal<CancellationToken> Ambient = new();

    /// <summary>The token of the current operation, or CancellationToken.None outside any scope.</summary>
    public static CancellationToken Current => Ambient.Value;

    /// <summary>Makes <paramref name="token"/> the current one until the returned scope is disposed.</summary>
    public static IDisposable Enter(CancellationToken token)
    {
        var previous = Ambient.Value;
        Ambient.Value = token;
        return new Scope(previous);
    }

    private sealed class Scope(CancellationToken previous) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            Ambient.Value = previous;
        }
    }
}
