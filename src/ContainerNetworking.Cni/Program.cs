using System.Collections;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ContainerNetworking.Cni;

// The CNI plugin "containernetworking": the runtime execs it with CNI_* variables and the request configuration on
// stdin; the result (or the spec's error object) goes to stdout, logs to stderr. See CniPlugin.

// No System.Net.Sockets here and a life of milliseconds: the core need not start the runtime's socket engine before
// entering namespaces (NamespaceThread), which would cost threads on every exec.
AppContext.SetSwitch("ContainerNetworking.Namespaces.NoSocketEngine", true);
// One thing to do and then the end: the main thread enters the container's namespace itself for its socket, instead
// of starting a worker thread for it (see NamespaceThread.InlineSwitch).
AppContext.SetSwitch(ContainerNetworking.Namespaces.NamespaceThread.InlineSwitch, true);
var stderr = StdStreams.Error(); // not System.Console (see StdStreams)
CniTiming.Start(stderr);
var env = new Dictionary<string, string>(StringComparer.Ordinal);
foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
    if (e.Key is string k && k.StartsWith("CNI_", StringComparison.Ordinal)) env[k] = e.Value as string ?? "";

string stdin;
try
{
    using var reader = new StreamReader(StdStreams.Open(0, FileAccess.Read), new UTF8Encoding(false));
    stdin = reader.ReadToEnd();
}
catch (IOException e)
{
    Write(CniResult.Error("1.1.0", new CniError(CniError.IoFailure, "failed to read the network configuration from stdin", e.Message)));
    return 1;
}

CniTiming.Mark("environment and stdin read");
try
{
    var result = new CniPlugin(env, stderr).Run(stdin);
    if (result is not null) Write(result);
    CniTiming.Mark("result written");
    return 0;
}
catch (CniError e)
{
    stderr.WriteLine($"containernetworking: {env.GetValueOrDefault("CNI_COMMAND")} failed: {e.Message}");
    Write(CniResult.Error(VersionAsked(stdin), e));
    return 1;
}
catch (Exception e)
{
    stderr.WriteLine($"containernetworking: {env.GetValueOrDefault("CNI_COMMAND")} failed: {e}");
    Write(CniResult.Error(VersionAsked(stdin), new CniError(e is IOException or UnauthorizedAccessException ? CniError.IoFailure : CniError.OperationFailed, e.GetType().Name, e.Message)));
    return 1;
}

// The version an error answers in: the request's cniVersion (parsed again only when there is an error to write).
static string VersionAsked(string stdin)
{
    try { return CniConfig.VersionOf(JsonNode.Parse(stdin) as JsonObject); }
    catch (JsonException) { return "1.1.0"; }
}

static void Write(JsonObject o)
{
    using var stdout = StdStreams.Open(1, FileAccess.Write);
    using var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true });
    o.WriteTo(w);
    w.Flush();
    stdout.WriteByte((byte)'\n');
}

