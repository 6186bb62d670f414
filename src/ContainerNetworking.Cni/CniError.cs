namespace ContainerNetworking.Cni;

/// <summary>
/// A failure reported to the runtime as the spec's error result <c>{cniVersion, code, msg, details}</c> on stdout,
/// with a non-zero exit. Codes 1-99 are the spec's; 100 and up are ours.
/// </summary>
public sealed class CniError(int code, string msg, string details = "") : Exception(msg + (details.Length > 0 ? ": " + details : ""))
{
    public const int IncompatibleVersion = 1;
    public const int UnsupportedField = 2;
    public const int UnknownContainer = 3;
    public const int InvalidEnvironment = 4;
    public const int IoFailure = 5;
    public const int DecodeFailure = 6;
    public const int InvalidConfig = 7;
    public const int TryAgainLater = 11;
    public const int NotAvailable = 50;
    public const int LimitedConnectivity = 51;
    /// <summary>A kernel or state operation of the core failed (the core's ErrorId is in msg).</summary>
    public const int OperationFailed = 100;
    /// <summary>CHECK found something the attachment made missing or changed.</summary>
    public const int CheckFailed = 101;

    public int Code { get; } = code;
    public string Msg { get; } = msg;
    public string Details { get; } = details;

    /// <summary>A core failure: InvalidArgument is an invalid config (7), the rest our code 100, ErrorId as msg.</summary>
    public static CniError From(ContainerNetworkingException e) => new(
        e.Kind == ErrorKind.InvalidArgument ? InvalidConfig : OperationFailed,
        e.ErrorId, e.Message);
}
