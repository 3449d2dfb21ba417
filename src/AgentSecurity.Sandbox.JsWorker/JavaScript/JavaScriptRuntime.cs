using System.Text;
using System.Text.RegularExpressions;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using Jint;
using Jint.Native;
using Jint.Runtime;
using Jint.Runtime.Interop;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// JavaScript on Jint, an interpreter written in C#, one fresh engine per execution. The code sees the language's
/// own built-ins and the frozen <c>agentsec</c> object (and <c>console</c>), nothing of the CLR: no CLR interop, no
/// <c>eval</c> or <c>Function(string)</c>, no modules. Jint's constraints bound statements (the CPU budget), wall time,
/// allocation, recursion, array size and regular-expression time; the kill switch cancels it. Jint looks at allocation
/// only between statements, so the built-ins that build a large string or buffer in one call are guarded to ask the
/// execution's <see cref="AllocationBudget"/> first (<see cref="AllocationGuards"/>, the host prelude). This is the
/// language-level boundary; on a silo it runs inside a sandboxed worker process (<see cref="Worker.JsWorkerProgram"/>,
/// started by the silo's worker pool), so that a Jint bug, hang or heap blow-up costs that worker, never the silo.
/// In the silo's own process it runs only as a baseline for the benchmark and for the allocation tests.
/// </summary>
public sealed class JavaScriptRuntime : ISandboxRuntime, IDisposable
{
    /// <summary>Statements per millisecond of CPU budget: Jint runs about 15,000 simple statements per millisecond on this project's 2-core machines.</summary>
    public const int StatementsPerCpuMillisecond = 15_000;

    public const int MaxRecursionDepth = 512;
    public const uint MaxArrayLength = 1_000_000;
    internal static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(250);

    internal static readonly Prepared<Acornima.Ast.Script> Prelude = Engine.PrepareScript(ReadPrelude(), "agentsec-prelude.js", strict: true);

    private readonly SandboxThreads _threads = new("agentsec-js", ThreadStackBytes);

    public string Name => SandboxRuntimes.JavaScript;

    public Task<SandboxResult> RunAsync(SandboxJob job, IHostApi host, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(job);
        return RunAsync(job.Code, job.Input, job.Limits, host, cancellation);
    }

    /// <summary>One script on a thread of this runtime's own.</summary>
    internal Task<SandboxResult> RunAsync(ReadOnlyMemory<byte> code, string input, SandboxLimits limits, IHostApi host, CancellationToken cancellation) =>
        _threads.Run(() => Run(code, input, limits, host, cancellation));

    /// <summary>
    /// One script on the calling thread, which must have a stack of <see cref="ThreadStackBytes"/> (the worker process
    /// runs its job so, on the one thread that also reads the job and writes the result: no hand-over between threads),
    /// on <paramref name="prepared"/> when that engine fits the job's limits.
    /// </summary>
    internal static SandboxResult RunOnThisThread(ReadOnlyMemory<byte> code, string input, SandboxLimits limits, IHostApi host, PreparedEngine? prepared) =>
        Run(code, input, limits, host, CancellationToken.None, prepared);

    // Ample for MaxRecursionDepth, and small enough that the stack guard stops built-ins recursing over a deep structure
    // within a second or two: inside a built-in no statement is counted and no deadline is looked at.
    internal const int ThreadStackBytes = 16 * 1024 * 1024;

    public void Dispose() => _threads.Dispose();

    private static SandboxResult Run(ReadOnlyMemory<byte> code, string input, SandboxLimits limits, IHostApi host, CancellationToken cancellation, PreparedEngine? prepared = null)
    {
        // The execution's clocks and its allocation budget start here, before the parse, as they always did: the parse
        // and, when no engine fits, the engine's creation are the execution's.
        var execution = new InProcessExecution(input, limits, host, cancellation);
        var budget = new AllocationBudget(limits.MemoryBytes);
        Prepared<Acornima.Ast.Script> script;
        try
        {
            script = Engine.PrepareScript(new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(code.Span), "agent.js");
        }
        catch (DecoderFallbackException)
        {
            return execution.Finish(ReasonCodes.BadModule, "the script is not valid UTF-8", 0);
        }
        catch (Exception e) when (e is Acornima.ParseErrorException or ScriptPreparationException or JavaScriptException)
        {
            return execution.Finish(ReasonCodes.BadModule, $"the script does not parse: {e.Message}", 0);
        }

        // An engine built before the job is used only if it enforces the job's memory limit; otherwise one is built
        // for it now, as it is in the silo's process.
        using var engine = prepared is not null && prepared.Fits(limits) ? null : new PreparedEngine(limits.MemoryBytes);
        return (engine ?? prepared!).Run(script, execution, budget);
    }

    /// <summary>How an execution that threw ended, as an error code. Reads nothing of the script's objects (a getter would run its code).</summary>
    internal static (string Code, string Message) Classify(Exception e) => e switch
    {
        SandboxException s => (s.Code, s.Message),
        ExecutionCanceledException => (SandboxResult.Cancelled, "the execution was stopped"),
        StatementsCountOverflowException => (ReasonCodes.FuelExhausted, "the script used up its CPU budget (statements)"),
        RegexMatchTimeoutException => (ReasonCodes.Timeout, $"a regular expression ran longer than {RegexTimeout.TotalMilliseconds:0} ms"),
        TimeoutException => (ReasonCodes.Timeout, "the script ran out of wall-clock time"),
        MemoryLimitExceededException => (ReasonCodes.MemoryLimit, $"the script allocated more than its memory limit: {e.Message}"),
        OutOfMemoryException => (ReasonCodes.MemoryLimit, "the script ran the engine out of memory"),
        RecursionDepthOverflowException => (ReasonCodes.MemoryLimit, $"stack overflow: the recursion went deeper than {MaxRecursionDepth} calls"),
        InsufficientExecutionStackException => (ReasonCodes.MemoryLimit, "stack overflow: the code is nested too deeply"),
        JavaScriptException js when js.Message.Contains("Maximum call stack size exceeded", StringComparison.Ordinal) => (ReasonCodes.MemoryLimit, "stack overflow: a structure is nested too deeply"),
        JavaScriptException js => (ReasonCodes.ExecutionFailed, $"uncaught {Clip(js.Message)}"),
        _ => (ReasonCodes.ExecutionFailed, $"the script failed in the engine ({e.GetType().Name})"),
    };

    private static string Clip(string text) => text.Length <= 512 ? text : text[..512] + "…";

    private static string ReadPrelude()
    {
        using var stream = typeof(JavaScriptRuntime).Assembly.GetManifestResourceStream("AgentSecurity.Sandbox.JavaScript.HostPrelude.js")
            ?? throw new InvalidOperationException("the JavaScript host prelude is missing from the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
