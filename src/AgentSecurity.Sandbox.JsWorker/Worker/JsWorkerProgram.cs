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

    public static async Task<int> Main()
    {
        using var runtime = new JavaScriptRuntime();
        var stdout = Console.OpenStandardOutput();
        var warm = await runtime.RunAsync(Encoding.UTF8.GetBytes(WarmUp), "{\"a\":[1,2]}", new SandboxLimits(), WarmUpHost.Instance, CancellationToken.None);
        _ = JsonSerializer.SerializeToUtf8Bytes(WorkerResult.Of(warm), WorkerJson.Default.WorkerResult);

        using var host = new HostSocketClient(Environment.GetEnvironmentVariable(HostSocketVariable) ?? "/run/agentsec/host.sock");
        host.Connect();
        await stdout.WriteAsync(Encoding.UTF8.GetBytes(Ready + "\n"));
        await stdout.FlushAsync();

        using var input = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
        var line = await input.ReadLineAsync();
        if (line is null)
        {
            return 0; // the pool let it go unused
        }

        WorkerResult result;
        if (Parse(line) is { } job)
        {
            var limits = job.Limits;
            result = WorkerResult.Of(await runtime.RunAsync(job.Code, job.Input, limits, host, CancellationToken.None));
        }
        else
        {
            result = new WorkerResult { Error = ReasonCodes.InvalidRequest, Message = "the worker's job could not be read" };
        }

        await stdout.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(result, WorkerJson.Default.WorkerResult));
        await stdout.WriteAsync("\n"u8.ToArray());
        await stdout.FlushAsync();
        return 0;
    }

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
