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

    /// <summary>Where the host socket is, inside the sandbox.</summary>
    public const string HostSocketVariable = "AGENTSEC_HOST_SOCKET";

    private static readonly UTF8Encoding Utf8 = new(false);

    private const string Trivial = "agentsec.output('')";

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
        using var input = new StreamReader(new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0), Utf8);
        var stdout = Console.OpenStandardOutput();

        // The warm-up is jobs run through the very function that runs the real one (read a line, parse it, run it,
        // write the result): with tiered compilation off a cold method is fully compiled on its first call, ~100 ms for
        // the whole path, fifty times a trivial script's run; and what the runtime resolves on a first call (stubs,
        // fix-ups, type loads) is done then too. A script that takes the host API, JSON and output paths, and the
        // trivial one, twice each.
        var jobs = new StringBuilder();
        for (var i = 0; i < 2; i++)
        {
            foreach (var script in (string[])[WarmUp, Trivial])
            {
                var job = new WorkerJob { Code = Encoding.UTF8.GetBytes(script), Input = "{\"a\":[1,2]}", WallMillis = 5_000, CpuMillis = 2_000, MemoryBytes = 64L << 20, OutputBytes = 64 << 10, HostCalls = 10 };
                jobs.Append(JsonSerializer.Serialize(job, WorkerJson.Default.WorkerJob)).Append('\n');
            }
        }

        using (var pipe = new AnonymousPipeServerStream(PipeDirection.Out))
        using (var reading = pipe.ClientSafePipeHandle)
        using (var warm = new StreamReader(new FileStream(new SafeFileHandle(reading.DangerousGetHandle(), ownsHandle: false), FileAccess.Read, bufferSize: 0), Utf8))
        {
            // A few kilobytes: all of it fits in the pipe's buffer, so it is written at once and then read to its end.
            pipe.Write(Utf8.GetBytes(jobs.ToString()));
            pipe.Dispose();
            while (RunOne(warm, Stream.Null, WarmUpHost.Instance))
            {
            }
        }

        // The warm-up's garbage is collected now rather than in the job's first allocations.
        GC.Collect();
        using var host = new HostSocketClient(Environment.GetEnvironmentVariable(HostSocketVariable) ?? "/run/agentsec/host.sock");
        host.Connect();
        stdout.Write(Encoding.UTF8.GetBytes(Ready + "\n"));
        stdout.Flush();
        _ = RunOne(input, stdout, host); // false: the pool let it go unused
        return 0;
    }

    /// <summary>Reads one job's line, runs it and writes its result's line; false when the input has ended.</summary>
    private static bool RunOne(TextReader input, Stream output, IHostApi host)
    {
        var line = input.ReadLine();
        if (line is null)
        {
            return false;
        }

        var result = Parse(line) is { } job
            ? Result(JavaScriptRuntime.RunOnThisThread(job.Code, job.Input, job.Limits, host))
            : Result(SandboxResult.Failed(ReasonCodes.InvalidRequest, "the worker's job could not be read", string.Empty, new SandboxUsage()));
        output.Write(result);
        output.Flush();
        return true;
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
