using System.Text;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using Wasmtime;

namespace AgentSecurity.Sandbox.Wasm;

/// <summary>
/// WebAssembly on Wasmtime. One engine and one linker for the silo, compiled modules cached, a fresh store and
/// instance per execution. A module gets nothing but the host API's imports (<see cref="WasmHostAbi"/>): no WASI, no
/// clock, no randomness, no file or socket. CPU is metered by fuel, the wall clock and the kill switch by epoch
/// interruption (a thread of its own advances the engine's epoch while executions run; at each tick the store's callback ends an
/// execution that was stopped, is out of time, or has used its CPU budget by the thread's clock), memory and tables by the store's limits, the stack by the engine's.
/// </summary>
public sealed class WasmRuntime : ISandboxRuntime, IDisposable
{
    /// <summary>
    /// Fuel per millisecond of CPU budget. Fuel counts WebAssembly operators; a simple loop runs a few hundred million
    /// of them per second on this project's 2-core machines (see docs/sandboxes.md for how this was measured), so the
    /// budget errs a little towards stopping early on fast machines and late on slow ones: the wall clock still bounds it.
    /// </summary>
    public const long FuelPerCpuMillisecond = 1_000_000;

    /// <summary>Wasm stack: deep enough for real programs, far inside the execution thread's own stack.</summary>
    private const int MaxWasmStackBytes = 1024 * 1024;

    private const int ThreadStackBytes = 8 * 1024 * 1024;
    private const int MaxTableElements = 100_000;
    private static readonly TimeSpan EpochTick = TimeSpan.FromMilliseconds(5);

    private readonly Engine _engine;
    private readonly Linker _linker;
    private readonly WasmModuleCache _modules;
    private readonly EpochTicker _ticker;
    private readonly SandboxThreads _threads = new("agentsec-wasm", ThreadStackBytes);

    public WasmRuntime(int cachedModules = 256, int compilers = 2)
    {
        using var config = new Config()
            .WithFuelConsumption(true)
            .WithEpochInterruption(true)
            .WithMaximumStackSize(MaxWasmStackBytes)
            .WithWasmThreads(false)
            .WithMultiMemory(false);
        _engine = new Engine(config);
        _linker = new Linker(_engine);
        DefineHostApi(_linker);
        _modules = new WasmModuleCache(_engine, cachedModules, compilers);
        _ticker = new EpochTicker(_engine, EpochTick);
    }

    public string Name => SandboxRuntimes.Wasm;

    public Task<SandboxResult> RunAsync(SandboxJob job, IHostApi host, CancellationToken cancellation) =>
        _threads.Run(() => Run(job, host, cancellation));

    public void Dispose()
    {
        _ticker.Dispose();
        _threads.Dispose();
        _modules.Dispose();
        _linker.Dispose();
        _engine.Dispose();
    }

    private SandboxResult Run(SandboxJob job, IHostApi host, CancellationToken cancellation)
    {
        var execution = new InProcessExecution(job, host, cancellation);
        var (module, problem) = _modules.Get(job.Code, job.Limits.WallTime);
        if (module is null && problem is null)
        {
            return execution.Finish(ReasonCodes.Unavailable, "the silo's WebAssembly compilers were busy for the execution's whole wall time; try again", 0);
        }

        if (execution.Elapsed >= job.Limits.WallTime)
        {
            return execution.Finish(ReasonCodes.Timeout, "compiling the module took the execution's whole wall time", 0);
        }

        if (module is null || (problem = WasmHostAbi.Refusal(module)) is not null)
        {
            return execution.Finish(ReasonCodes.BadModule, problem, 0);
        }

        using var store = new Store(_engine, execution);
        Memory? memory = null;
        _ticker.Enter();
        try
        {
            store.SetLimits(memorySize: job.Limits.MemoryBytes, tableElements: MaxTableElements, instances: 1, tables: 4, memories: 1);
            store.Fuel = (ulong)Math.Max(1, (long)job.Limits.CpuTime.TotalMilliseconds * FuelPerCpuMillisecond);
            store.SetEpochDeadline(1);
            store.SetEpochDeadlineCallback(_ =>
            {
                execution.ThrowIfStopped();
                execution.ThrowIfCpuSpent();
                return 1;
            });

            var instance = Instantiate(store, module, job.Limits.MemoryBytes);
            memory = instance.GetMemory(WasmHostAbi.MemoryExport);
            instance.GetAction(WasmHostAbi.Entry)!.Invoke();
            return execution.Finish(null, null, MemoryBytes(memory));
        }
        catch (SandboxException e)
        {
            return execution.Finish(e.Code, e.Message, MemoryBytes(memory));
        }
        catch (WasmtimeException e)
        {
            var (code, message) = Classify(e, memory, job.Limits.MemoryBytes);
            return execution.Finish(code, message, MemoryBytes(memory));
        }
        finally
        {
            _ticker.Leave();
        }
    }

    private Instance Instantiate(Store store, Module module, long memoryLimit)
    {
        try
        {
            return _linker.Instantiate(store, module);
        }
        catch (WasmtimeException e) when (e is not TrapException && !StoppedFromInside(e))
        {
            // Instantiation fails when the module's declared memory or tables exceed the store's limits.
            throw new SandboxException(
                e.Message.Contains("memory", StringComparison.OrdinalIgnoreCase) ? ReasonCodes.MemoryLimit : ReasonCodes.BadModule,
                $"the module cannot be instantiated within {memoryLimit} bytes of memory: {e.Message.Split('\n', 2)[0]}");
        }
    }

    /// <summary>Whether a failure came from a limit or stop raised inside (a start function runs at instantiation).</summary>
    private static bool StoppedFromInside(Exception e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SandboxException or TrapException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>How a trap or an error from inside maps to an execution error code.</summary>
    private static (string Code, string Message) Classify(WasmtimeException e, Memory? memory, long memoryLimit)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SandboxException stopped)
            {
                return (stopped.Code, stopped.Message);
            }
        }

        var first = e is TrapException trap ? $"trap {trap.Type}" : e.Message.Split('\n', 2)[0];
        return e switch
        {
            TrapException { Type: TrapCode.OutOfFuel } => (ReasonCodes.FuelExhausted, "the execution used up its CPU budget (fuel)"),
            TrapException { Type: TrapCode.StackOverflow } => (ReasonCodes.MemoryLimit, "stack overflow: the recursion went deeper than the stack allows"),
            TrapException { Type: TrapCode.Interrupt } => (ReasonCodes.Timeout, "the execution was interrupted at its deadline"),

            // A module that traps right after memory.grow was refused ran out of memory, whatever instruction trapped.
            TrapException when memory is not null && MemoryBytes(memory) + 65536 > memoryLimit => (ReasonCodes.MemoryLimit, $"the module hit its memory limit of {memoryLimit} bytes ({first})"),
            _ => (ReasonCodes.ExecutionFailed, $"the module trapped: {first}"),
        };
    }

    private static long MemoryBytes(Memory? memory) => memory is null ? 0 : memory.GetLength();

    private static void DefineHostApi(Linker linker)
    {
        linker.DefineFunction(WasmHostAbi.ImportModule, "input", (Caller caller, int pointer, int capacity) =>
        {
            var execution = Execution(caller);
            var bytes = Encoding.UTF8.GetBytes(execution.Input);
            var span = Span(caller, pointer, Math.Min(capacity, bytes.Length));
            bytes.AsSpan(0, span.Length).CopyTo(span);
            return bytes.Length;
        });

        linker.DefineFunction(WasmHostAbi.ImportModule, "output", (Caller caller, int pointer, int length) =>
        {
            // Decoded no further than the output may still grow: a module cannot make the host copy its whole memory.
            var execution = Execution(caller);
            var room = execution.Output.Remaining + 4; // a character is at most four bytes
            execution.Write(ReadString(caller, pointer, Math.Min(length, room))!);
            if (length > room)
            {
                throw new SandboxException(ReasonCodes.OutputLimit, $"the output exceeded {execution.Limits.OutputBytes} bytes");
            }
        });

        linker.DefineFunction(WasmHostAbi.ImportModule, "call", (Caller caller, int op, int opLength, int arg, int argLength, int arg2, int arg2Length) =>
        {
            var execution = Execution(caller);
            if (opLength > HostCall.MaxOperationBytes || argLength > HostCall.MaxArgumentBytes || arg2Length > HostCall.MaxArgumentBytes)
            {
                var tooLarge = HostReply.Fail(ReasonCodes.InvalidRequest, $"a host call's operation is at most {HostCall.MaxOperationBytes} bytes and each argument at most {HostCall.MaxArgumentBytes}");
                caller.SetData(new WasmReply(execution, tooLarge));
                return WasmHostAbi.StatusFailed;
            }

            var reply = execution.Call(new HostCall(ReadString(caller, op, opLength) ?? string.Empty, ReadString(caller, arg, argLength), ReadString(caller, arg2, arg2Length)));
            caller.SetData(new WasmReply(execution, reply));
            return reply.Ok ? WasmHostAbi.StatusOk : reply.Denied ? WasmHostAbi.StatusDenied : WasmHostAbi.StatusFailed;
        });

        linker.DefineFunction(WasmHostAbi.ImportModule, "reply", (Caller caller, int pointer, int capacity) =>
        {
            if (caller.GetData() is not WasmReply last)
            {
                return 0;
            }

            var span = Span(caller, pointer, Math.Min(capacity, last.Bytes.Length));
            last.Bytes.AsSpan(0, span.Length).CopyTo(span);
            return last.Bytes.Length;
        });
    }

    private static InProcessExecution Execution(Caller caller) => caller.GetData() switch
    {
        InProcessExecution e => e,
        WasmReply r => r.Execution,
        _ => throw new InvalidOperationException("a host function was called outside an execution"),
    };

    private static string? ReadString(Caller caller, int pointer, int length) =>
        length == -1 ? null : Encoding.UTF8.GetString(Span(caller, pointer, length));

    /// <summary>A range of the module's exported memory; anything outside it ends the execution as a violation.</summary>
    private static Span<byte> Span(Caller caller, int pointer, int length)
    {
        var memory = caller.GetMemory(WasmHostAbi.MemoryExport)
            ?? throw new SandboxException(ReasonCodes.BadModule, $"the module calls the host API but exports no \"{WasmHostAbi.MemoryExport}\"");
        if (pointer < 0 || length < 0 || (long)pointer + length > memory.GetLength())
        {
            throw new SandboxException(ReasonCodes.SandboxViolation, $"the module passed the host memory outside its own ({pointer}, {length})");
        }

        return memory.GetSpan(pointer, length);
    }

    /// <summary>The store's data once a call was made: the execution and the last reply's bytes.</summary>
    private sealed class WasmReply(InProcessExecution execution, HostReply reply)
    {
        public InProcessExecution Execution { get; } = execution;

        public byte[] Bytes { get; } = Encoding.UTF8.GetBytes(reply.Ok ? reply.Value ?? string.Empty : $"{reply.Error}: {reply.Message}");
    }
}
