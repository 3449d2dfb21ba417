using AgentSecurity.Sandbox.Host;
using Jint;
using Jint.Constraints;
using Jint.Native;
using Jint.Runtime;
using Jint.Runtime.Interop;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// A fresh Jint engine with everything an execution's engine has before its script: the options, the allocation guards
/// and the host prelude (the frozen <c>agentsec</c> object). Building it is most of a trivial script's run, so a worker
/// builds it before it says <c>ready</c>, while it has nothing else to do, rather than after its job arrives. It runs one
/// execution (<see cref="Run"/>), whose limits are all the job's own: the statement count is set on Jint's constraint
/// once the job is known (Jint resets the count when the script's run starts); the CPU budget, wall-clock limit and
/// kill switch are constraints that read the execution once it is bound (<see cref="CpuBudgetConstraint"/>,
/// <see cref="WallClockConstraint"/>); the memory limit, which Jint takes only when the engine is built, is fixed
/// then, and an engine built for another limit is not used (<see cref="Fits"/>): the caller builds one for the job's.
/// </summary>
internal sealed class PreparedEngine : IDisposable
{
    private readonly Engine _engine;
    private readonly JobSlot _slot = new();
    private readonly MaxStatementsConstraint _statements;
    private readonly long _memoryBytes;

    /// <summary>Builds the engine for executions whose memory limit is <paramref name="memoryBytes"/>.</summary>
    public PreparedEngine(long memoryBytes)
    {
        _memoryBytes = memoryBytes;
        var slot = _slot;
        _engine = new Engine(options =>
        {
            options.Strict = false;
            options.Host.StringCompilationAllowed = false;
            options.Interop.Enabled = false;
            options.Interop.AllowGetType = false;
            options.Interop.AllowSystemReflection = false;

            // Unlimited until the job sets its own (Jint counts statements in an int, and registers no constraint for
            // int.MaxValue): the prelude's statements run before the job is known, and Jint resets the count when the
            // script's run starts.
            options.MaxStatements(int.MaxValue - 1);
            options.LimitMemory(memoryBytes);
            options.LimitRecursion(JavaScriptRuntime.MaxRecursionDepth);
            options.Constraints.MaxArraySize = JavaScriptRuntime.MaxArrayLength;
            options.Constraints.RegexTimeout = JavaScriptRuntime.RegexTimeout;

            // Built-ins that recurse in C# (String of nested arrays, JSON, flat, bound functions) check the thread's
            // stack and throw a RangeError rather than overflow it, which would end the process.
            options.Constraints.StackOverflowGuard = true;
            options.Constraint(new CpuBudgetConstraint(slot));
            options.Constraint(new WallClockConstraint(slot));
        });
        _statements = _engine.Constraints.Find<MaxStatementsConstraint>()
            ?? throw new InvalidOperationException("Jint registered no statement constraint");

        var engine = _engine;

        // Before the prelude, which takes the built-ins it uses (JSON.stringify) as they are then.
        AllocationGuards.Install(engine, slot);
        engine.Invoke(engine.Evaluate(JavaScriptRuntime.Prelude),
            new ClrFunction(engine, "call", (_, arguments) => Call(engine, slot.Execution, arguments)),
            new ClrFunction(engine, "output", (_, arguments) =>
            {
                slot.Execution.Write(arguments.At(0) is JsString text ? text.ToString() : string.Empty);
                return JsValue.Undefined;
            }),
            new ClrFunction(engine, "input", (_, _) => slot.Execution.Input),
            new ClrFunction(engine, "reserve", (_, arguments) =>
            {
                // Past its ceiling the engine refuses a buffer itself, with a RangeError the script may catch.
                var bytes = TypeConverter.ToNumber(arguments.At(0));
                if (bytes <= AllocationBudget.MaxBufferBytes)
                {
                    slot.Budget.Reserve(bytes, TypeConverter.ToString(arguments.At(1)));
                }

                return JsValue.Undefined;
            }));
    }

    /// <summary>The statement limit the engine enforces now: after <see cref="Run"/>, its job's (for tests).</summary>
    internal int StatementLimit => _statements.MaxStatements;

    /// <summary>Whether this engine enforces exactly the memory limit of <paramref name="limits"/>.</summary>
    public bool Fits(SandboxLimits limits) => limits.MemoryBytes == _memoryBytes;

    /// <summary>
    /// Binds the execution and its allocation budget and runs the script under its limits; whatever the script makes the
    /// engine throw ends the execution with a code. Once only.
    /// </summary>
    public SandboxResult Run(Prepared<Acornima.Ast.Script> script, InProcessExecution execution, AllocationBudget budget)
    {
        if (!Fits(execution.Limits))
        {
            throw new InvalidOperationException("the engine was built for another memory limit");
        }

        _slot.Fill(execution, budget);
        _statements.MaxStatements = (int)Math.Min(int.MaxValue - 1, (long)execution.Limits.CpuTime.TotalMilliseconds * JavaScriptRuntime.StatementsPerCpuMillisecond);
        try
        {
            _engine.Execute(script);
            return execution.Finish(null, null, budget.Allocated);
        }
#pragma warning disable CA1031 // Whatever the script makes the engine throw ends its execution with a code; nothing escapes to the kernel.
        catch (Exception e)
#pragma warning restore CA1031
        {
            var (error, message) = JavaScriptRuntime.Classify(e);
            return execution.Finish(error, message, budget.Allocated);
        }
    }

    public void Dispose() => _engine.Dispose();

    private static JsArray Call(Engine engine, InProcessExecution execution, JsValue[] arguments)
    {
        // The prelude passes strings or null; anything else did not come through it.
        static string? Text(JsValue value) => value is JsString text ? text.ToString() : null;
        if (arguments.At(0) is not JsString operation)
        {
            return new JsArray(engine, [2, "invalid_request: the operation is a string", AgentSecurity.Grants.ReasonCodes.InvalidRequest]);
        }

        var reply = execution.Call(new HostCall(operation.ToString(), Text(arguments.At(1)), Text(arguments.At(2))));
        JsValue status = reply.Ok ? 0 : reply.Denied ? 1 : 2;
        JsValue value = reply.Ok ? (reply.Value is null ? JsValue.Null : reply.Value) : $"{reply.Error}: {reply.Message}";
        return new JsArray(engine, [status, value, reply.Error is null ? JsValue.Null : reply.Error]);
    }
}
