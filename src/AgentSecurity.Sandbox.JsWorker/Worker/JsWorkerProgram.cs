using System.Text;
using System.Text.Json;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.JavaScript;

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

    /// <summary>Where the host socket is, inside the sandbox.</summary>
    public const string HostSocketVariable = "AGENTSEC_HOST_SOCKET";

    // Runs the engine's paths once (parse, prelude, a host call, JSON, output) so that the job's own run is JIT-compiled.
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
        using var input = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
        var stdout = Console.OpenStandardOutput();

        // The warm-up takes the job's own path (its JSON read, the engine, the result's JSON), so that the job finds
        // every method of it compiled: a cold path costs ~100 ms of JIT, fifty times a trivial script's run.
        var sample = JsonSerializer.Serialize(new WorkerJob { Code = Encoding.UTF8.GetBytes(WarmUp), Input = "{\"a\":[1,2]}", WallMillis = 5_000, CpuMillis = 2_000, MemoryBytes = 64L << 20, OutputBytes = 64 << 10, HostCalls = 10 }, WorkerJson.Default.WorkerJob);
        for (var i = 0; i < 2; i++)
        {
            var warm = Parse(sample)!;
            Result(JavaScriptRuntime.RunOnThisThread(warm.Code, warm.Input, warm.Limits, WarmUpHost.Instance));
        }

        // The warm-up's garbage is collected now rather than in the job's first allocations.
        GC.Collect();
        using var host = new HostSocketClient(Environment.GetEnvironmentVariable(HostSocketVariable) ?? "/run/agentsec/host.sock");
        host.Connect();
        stdout.Write(Encoding.UTF8.GetBytes(Ready + "\n"));
        stdout.Flush();

        var line = input.ReadLine();
        if (line is null)
        {
            return 0; // the pool let it go unused
        }

        var result = Parse(line) is { } job
            ? Result(JavaScriptRuntime.RunOnThisThread(job.Code, job.Input, job.Limits, host))
            : Result(SandboxResult.Failed(ReasonCodes.InvalidRequest, "the worker's job could not be read", string.Empty, new SandboxUsage()));
        stdout.Write(result);
        stdout.Flush();
        return 0;
    }

    /// <summary>The result's line, newline included.</summary>
    private static byte[] Result(SandboxResult result) =>
        [.. JsonSerializer.SerializeToUtf8Bytes(WorkerResult.Of(result), WorkerJson.Default.WorkerResult), (byte)'\n'];

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

    /// <summary>Answers the warm-up's host call without the silo: the warm-up is no agent's.</summary>
    private sealed class WarmUpHost : IHostApi
    {
        public static readonly WarmUpHost Instance = new();

        public ValueTask<HostReply> CallAsync(HostCall call) => ValueTask.FromResult(HostReply.Success("warm"));
    }
}
