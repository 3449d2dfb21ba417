using System.IO.Pipes;
using System.Text;
using System.Text.Json;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.JavaScript;
using Microsoft.Win32.SafeHandles;

namespace AgentSecurity.Sandbox.Worker;

/// <summary>
/// The JavaScript worker: a process the silo's pool starts in the native sandbox, which warms Jint up, says
/// <see cref="Ready"/>, runs the one job it is then given (<see cref="WorkerJob"/> on standard input) with
/// <see cref="JavaScriptRuntime"/>, writes its <see cref="WorkerResult"/> and exits. One job per process: nothing a script
/// leaves behind (a modified built-in, a leaked object, an engine in a bad state) reaches another execution. Its host
/// calls go over the host socket (<see cref="HostSocketClient"/>), where the silo checks each one as it does a native
/// program's.
/// </summary>
public static class JsWorkerProgram
{
    /// <summary>The line a worker writes once it is warm and waits for its job.</summary>
    public const string Ready = "ready";

    /// <summary>How often (milliseconds) a worker waiting for its job runs a keep-warm job; unset or 0: never.</summary>
    public const string KeepWarmVariable = "AGENTSEC_JS_KEEP_WARM_MILLIS";

    /// <summary>Where the host socket is, inside the sandbox.</summary>
    public const string HostSocketVariable = "AGENTSEC_HOST_SOCKET";

    private static readonly UTF8Encoding Utf8 = new(false);

    private const string Trivial = "agentsec.output('')";

    private const int WarmUpJobs = 4;

    /// <summary>
    /// The trivial script's job, which a waiting worker runs to keep warm. A constant of the kernel's, and must stay one:
    /// what keep-warm runs share with the job in this process (Jint's static and per-thread state, the prelude's parsed
    /// tree) only ever holds this script's data, never a tenant's.
    /// </summary>
    private static readonly string KeepWarmJob = JsonSerializer.Serialize(TrivialJob(), WorkerJson.Default.WorkerJob);

    /// <summary>
    /// The memory limit the engine built before the job enforces: the kernel's default (SandboxLimits, and the silo's
    /// <c>DefaultMemoryBytes</c>); a job with another limit gets an engine built for it after it arrives.
    /// </summary>
    private static readonly long PreparedMemoryBytes = new SandboxLimits().MemoryBytes;

    // Takes the engine's paths (parse, prelude, a host call, JSON, output), so that the job's own run is JIT-compiled.
    private const string WarmUp = "const o = JSON.parse(agentsec.input()); try { agentsec.call('memory.get', 'k'); } catch (e) { } agentsec.output(JSON.stringify(o) + String(o.a.length));";

    public static int Main()
    {
        // Everything on one thread with the stack scripts need: the job is read, run and answered without handing it
        // from thread to thread, each hand-over being a wake-up that costs milliseconds on a loaded machine.
        var exit = 0;
        var serving = new Thread(() => exit = Serve(), JavaScriptRuntime.ThreadStackBytes) { Name = "agentsec-js-worker" };
        serving.Start();
        serving.Join();
        return exit;
    }

    private static int Serve()
    {
        // Standard input as a plain file stream over descriptor 0, not the console's stream: the warm-up reads its jobs
        // through the same stream type from a pipe of its own, so that reading the real job runs nothing for the first
        // time (the console's read path resolved its calls after the job's bytes had arrived, on the job's time).
        using var input = ReaderOf(0);
        var stdout = Console.OpenStandardOutput();

        // The warm-up is jobs run through the very function that runs the real one (read a line, parse it, run it,
        // write the result): with tiered compilation off a cold method is fully compiled on its first call, ~100 ms for
        // the whole path, fifty times a trivial script's run; and what the runtime resolves on a first call (stubs,
        // fix-ups, type loads) is done then too. A script that takes the host API, JSON and output paths, and the
        // trivial one, twice each.
        var jobs = new StringBuilder();
        for (var i = 0; i < WarmUpJobs / 2; i++)
        {
            foreach (var script in (string[])[WarmUp, Trivial])
            {
                jobs.Append(JsonSerializer.Serialize(TrivialJob() with { Code = Encoding.UTF8.GetBytes(script) }, WorkerJson.Default.WorkerJob)).Append('\n');
            }
        }

        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var warm = ReaderOf(pipe.ClientSafePipeHandle.DangerousGetHandle());

        // A few kilobytes: all of it fits in the pipe's buffer, so it is written at once and then read job by job.
        pipe.Write(Utf8.GetBytes(jobs.ToString()));
        for (var i = 0; i < WarmUpJobs; i++)
        {
            using var prepared = new PreparedEngine(PreparedMemoryBytes);
            _ = RunOne(warm, Stream.Null, WarmUpHost.Instance, prepared, 0);
        }

        // The job's engine, built now rather than after the job arrives (most of a trivial script's run): one the job
        // never shares with anything, since the warm-up's ran on engines of their own.
        using var engine = new PreparedEngine(PreparedMemoryBytes);

        // The warm-up's garbage is collected now rather than in the job's first allocations.
        GC.Collect();
        using var host = new HostSocketClient(Environment.GetEnvironmentVariable(HostSocketVariable) ?? "/run/agentsec/host.sock");
        host.Connect();
        stdout.Write(Encoding.UTF8.GetBytes(Ready + "\n"));
        stdout.Flush();

        var keepWarmMillis = int.TryParse(Environment.GetEnvironmentVariable(KeepWarmVariable), out var millis) && millis > 0 ? millis : 0;
        _ = KeepWarmThenRun(() => keepWarmMillis == 0 || InputWait.Readable(0, keepWarmMillis), KeepWarmJob, input, stdout, host, engine);
        return 0;
    }

    /// <summary>
    /// Runs a keep-warm job each time <paramref name="jobWaiting"/> answers false (it waits, with a timeout, for the job
    /// to be readable), then the job from <paramref name="input"/> on <paramref name="engine"/>; false when the input
    /// ended without one (the pool let the worker go unused).
    /// </summary>
    /// <remarks>
    /// A worker idle for half a second or more ran a trivial job on 1.5 to 2 ms of CPU, one idle for 100 ms or less on
    /// about 0.5 ms: its code and the runtime's data still in the processor's caches. So while it waits it runs
    /// <paramref name="keepWarmJob"/> through the same path as the job's (a line read from a pipe through the same stream
    /// type, parsed, run, its result serialized), each on an engine of its own, never the job's, its output to nowhere
    /// and its host calls to no one; the job's result says how many ran.
    /// </remarks>
    internal static bool KeepWarmThenRun(Func<bool> jobWaiting, string keepWarmJob, TextReader input, Stream output, IHostApi host, PreparedEngine engine)
    {
        var keepWarmJobs = 0;
        var line = Utf8.GetBytes(keepWarmJob + "\n");
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var warm = ReaderOf(pipe.ClientSafePipeHandle.DangerousGetHandle());
        while (!jobWaiting())
        {
            pipe.Write(line);
            using var prepared = new PreparedEngine(PreparedMemoryBytes);
            _ = RunOne(warm, Stream.Null, WarmUpHost.Instance, prepared, keepWarmJobs);
            keepWarmJobs++;
        }

        return RunOne(input, output, host, engine, keepWarmJobs);
    }

    /// <summary>
    /// A reader of <paramref name="descriptor"/> as the job is read from standard input, unbuffered below the reader: the
    /// warm-up and keep-warm jobs go through this same type, so that the job's read path is the one already run.
    /// </summary>
    private static StreamReader ReaderOf(nint descriptor) =>
        new(new FileStream(new SafeFileHandle(descriptor, ownsHandle: false), FileAccess.Read, bufferSize: 0), Utf8);

    /// <summary>Reads one job's line, runs it and writes its result's line; false when the input has ended.</summary>
    private static bool RunOne(TextReader input, Stream output, IHostApi host, PreparedEngine prepared, int keepWarmJobs)
    {
        var line = input.ReadLine();
        if (line is null)
        {
            return false;
        }

        var result = Parse(line) is { } job
            ? Result(JavaScriptRuntime.RunOnThisThread(job.Code, job.Input, job.Limits, host, prepared), keepWarmJobs)
            : Result(SandboxResult.Failed(ReasonCodes.InvalidRequest, "the worker's job could not be read", string.Empty, new SandboxUsage()), keepWarmJobs);
        output.Write(result);
        output.Flush();
        return true;
    }

    /// <summary>The result's line, newline included.</summary>
    private static byte[] Result(SandboxResult result, int keepWarmJobs) =>
        [.. JsonSerializer.SerializeToUtf8Bytes(WorkerResult.Of(result) with { KeepWarmJobs = keepWarmJobs }, WorkerJson.Default.WorkerResult), (byte)'\n'];

    private static WorkerJob? Parse(string line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, WorkerJson.Default.WorkerJob);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static WorkerJob TrivialJob() => new() { Code = Encoding.UTF8.GetBytes(Trivial), Input = "{\"a\":[1,2]}", WallMillis = 5_000, CpuMillis = 2_000, MemoryBytes = PreparedMemoryBytes, OutputBytes = 64 << 10, HostCalls = 10 };

    /// <summary>Answers the warm-up's host call without the silo: the warm-up is no agent's.</summary>
    private sealed class WarmUpHost : IHostApi
    {
        public static readonly WarmUpHost Instance = new();

        public ValueTask<HostReply> CallAsync(HostCall call) => ValueTask.FromResult(HostReply.Success("warm"));
    }
}
