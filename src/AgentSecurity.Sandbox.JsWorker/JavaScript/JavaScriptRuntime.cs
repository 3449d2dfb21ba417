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
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(250);

    private static readonly Prepared<Acornima.Ast.Script> Prelude = Engine.PrepareScript(ReadPrelude(), "agentsec-prelude.js", strict: true);

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
    /// runs its job so, on the one thread that also reads the job and writes the result: no hand-over between threads).
    /// </summary>
    internal static SandboxResult RunOnThisThread(ReadOnlyMemory<byte> code, string input, SandboxLimits limits, IHostApi host) =>
        Run(code, input, limits, host, CancellationToken.None);

    // Ample for MaxRecursionDepth, and small enough that the stack guard stops built-ins recursing over a deep structure
    // within a second or two: inside a built-in no statement is counted and no deadline is looked at.
    internal const int ThreadStackBytes = 16 * 1024 * 1024;

    public void Dispose() => _threads.Dispose();

    private static SandboxResult Run(ReadOnlyMemory<byte> code, string input, SandboxLimits limits, IHostApi host, CancellationToken cancellation)
    {
        var execution = new InProcessExecution(input, limits, host, cancellation);
        var budget = new AllocationBudget(limits.MemoryBytes);
        long Allocated() => budget.Allocated;

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

        using var engine = new Engine(options =>
        {
            options.Strict = false;
            options.Host.StringCompilationAllowed = false;
            options.Interop.Enabled = false;
            options.Interop.AllowGetType = false;
            options.Interop.AllowSystemReflection = false;
            options.MaxStatements((int)Math.Min(int.MaxValue, (long)limits.CpuTime.TotalMilliseconds * StatementsPerCpuMillisecond));
            options.TimeoutInterval(limits.WallTime);
            options.LimitMemory(limits.MemoryBytes);
            options.LimitRecursion(MaxRecursionDepth);
            options.CancellationToken(cancellation);
            options.Constraints.MaxArraySize = MaxArrayLength;
            options.Constraints.RegexTimeout = RegexTimeout;

            // Built-ins that recurse in C# (String of nested arrays, JSON, flat, bound functions) check the thread's
            // stack and throw a RangeError rather than overflow it, which would end the silo's process.
            options.Constraints.StackOverflowGuard = true;
            options.Constraint(new CpuBudgetConstraint(execution));
        });

        try
        {
            // Before the prelude, which takes the built-ins it uses (JSON.stringify) as they are then.
            AllocationGuards.Install(engine, budget);
            engine.Invoke(engine.Evaluate(Prelude),
                new ClrFunction(engine, "call", (_, arguments) => Call(engine, execution, arguments)),
                new ClrFunction(engine, "output", (_, arguments) =>
                {
                    execution.Write(arguments.At(0) is JsString text ? text.ToString() : string.Empty);
                    return JsValue.Undefined;
                }),
                new ClrFunction(engine, "input", (_, _) => execution.Input),
                new ClrFunction(engine, "reserve", (_, arguments) =>
                {
                    // Past its ceiling the engine refuses a buffer itself, with a RangeError the script may catch.
                    var bytes = TypeConverter.ToNumber(arguments.At(0));
                    if (bytes <= AllocationBudget.MaxBufferBytes)
                    {
                        budget.Reserve(bytes, TypeConverter.ToString(arguments.At(1)));
                    }

                    return JsValue.Undefined;
                }));
            engine.Execute(script);
            return execution.Finish(null, null, Allocated());
        }
#pragma warning disable CA1031 // Whatever the script makes the engine throw ends its execution with a code; nothing escapes to the kernel.
        catch (Exception e)
#pragma warning restore CA1031
        {
            var (error, message) = Classify(e);
            return execution.Finish(error, message, Allocated());
        }
    }

    private static JsArray Call(Engine engine, InProcessExecution execution, JsValue[] arguments)
    {
        // The prelude passes strings or null; anything else did not come through it.
        static string? Text(JsValue value) => value is JsString text ? text.ToString() : null;
        if (arguments.At(0) is not JsString operation)
        {
            return new JsArray(engine, [2, "invalid_request: the operation is a string", ReasonCodes.InvalidRequest]);
        }

        var reply = execution.Call(new HostCall(operation.ToString(), Text(arguments.At(1)), Text(arguments.At(2))));
        JsValue status = reply.Ok ? 0 : reply.Denied ? 1 : 2;
        JsValue value = reply.Ok ? (reply.Value is null ? JsValue.Null : reply.Value) : $"{reply.Error}: {reply.Message}";
        return new JsArray(engine, [status, value, reply.Error is null ? JsValue.Null : reply.Error]);
    }

    /// <summary>How an execution that threw ended, as an error code. Reads nothing of the script's objects (a getter would run its code).</summary>
    private static (string Code, string Message) Classify(Exception e) => e switch
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
