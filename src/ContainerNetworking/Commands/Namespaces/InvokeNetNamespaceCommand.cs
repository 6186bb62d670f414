using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Management.Automation;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Commands;

/// <summary>
/// Invoke-NetNamespace: runs a program inside a namespace (<c>ip netns exec NAME PROGRAM ARGS…</c>). Its standard
/// output goes to the pipeline line by line, its standard error to the host; $LASTEXITCODE is set, and a non-zero exit
/// code is a non-terminating error "NativeCommandFailed". No ShouldProcess: like Invoke-Command or the call operator,
/// it runs what it is given and cannot say what that program would change. With -NoWait the program is started in the
/// background (like <c>ip netns exec NAME PROGRAM &amp;</c>) and its Process object is returned.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "NetNamespace")]
[OutputType(typeof(string))]
[OutputType(typeof(Process))]
public sealed class InvokeNetNamespaceCommand : NetworkingCmdlet
{
    /// <summary>The namespace to run the program in.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [NetNamespaceTransformation]
    [ArgumentCompleter(typeof(NetNamespaceNameCompleter))]
    public NetNamespace NetNamespace { get; set; } = null!;

    /// <summary>The program, a name looked up in PATH or a path.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string FilePath { get; set; } = "";

    /// <summary>The program's arguments, passed as they are (no shell).</summary>
    [Parameter(Position = 2, ValueFromRemainingArguments = true)]
    public string[] ArgumentList { get; set; } = [];

    /// <summary>Do not report a non-zero exit code as an error ($LASTEXITCODE is still set).</summary>
    [Parameter]
    public SwitchParameter IgnoreExitCode { get; set; }

    /// <summary>
    /// Start the program and return at once with its Process object (e.g. a server inside a container); its output goes
    /// to the terminal. Stop it with Stop-Process.
    /// </summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    protected override bool ChangesState => true;
    protected override bool NeedsSysAdmin => true;

    protected override void ProcessRecord()
    {
        var ns = NetNamespace;
        var psi = new ProcessStartInfo(FilePath)
        {
            UseShellExecute = false,
            RedirectStandardOutput = !NoWait,
            RedirectStandardError = !NoWait,
            RedirectStandardInput = true,
            WorkingDirectory = SessionState.Path.CurrentFileSystemLocation.ProviderPath,
        };
        foreach (var a in ArgumentList) psi.ArgumentList.Add(a);
        var target = $"{FilePath}{In(ns)}";

        Process process;
        try
        {
            process = ns.StartProcess(psi);
        }
        catch (Win32Exception e)
        {
            WriteError("ProgramNotFound", ErrorCategory.ObjectNotFound, $"Cannot run '{FilePath}'{In(ns)}: {e.Message}. Give a program in PATH or its full path.", target);
            return;
        }
        catch (Exception e) when (ErrorMapping.IsMapped(e))
        {
            WriteError(ErrorMapping.ToErrorRecord(e, target)!);
            return;
        }

        if (NoWait)
        {
            process.StandardInput.Close();
            WriteObject(process);
            return;
        }

        using (process)
        {
            process.StandardInput.Close();
            var stderr = new ConcurrentQueue<string>();
            var lastErrors = new Queue<string>();
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderr.Enqueue(e.Data); };
            process.BeginErrorReadLine();
            void FlushErrors()
            {
                while (stderr.TryDequeue(out var line))
                {
                    Host.UI.WriteErrorLine(line);
                    lastErrors.Enqueue(line);
                    if (lastErrors.Count > 5) lastErrors.Dequeue();
                }
            }
            try
            {
                while (process.StandardOutput.ReadLine() is { } line)
                {
                    FlushErrors();
                    WriteObject(line);
                }
                process.WaitForExit();
            }
            catch (PipelineStoppedException)
            {
                // Ctrl+C or Select-Object -First: end the program as a native command would be ended.
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                throw;
            }
            FlushErrors();
            SessionState.PSVariable.Set("global:LASTEXITCODE", process.ExitCode);
            if (process.ExitCode != 0 && !IgnoreExitCode)
            {
                var tail = lastErrors.Count > 0 ? ": " + string.Join(" ", lastErrors) : ".";
                WriteError("NativeCommandFailed", ErrorCategory.NotSpecified,
                    $"'{FilePath}'{In(ns)} exited with code {process.ExitCode}{tail} (Use -IgnoreExitCode when a non-zero exit code is expected.)", target);
            }
        }
    }
}
