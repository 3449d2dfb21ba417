using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;
using Xunit.Abstractions;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// <c>./run.sh --detach</c> as contracts/cli.md fixes it: run again, it starts only what is not running. A cluster of
/// its own (state folder and ports of its own), driven by the real script. In the cluster-process collection so that it
/// does not run beside the other silo tests on a loaded machine; it uses none of the collection's processes.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class RunScriptTests(ITestOutputHelper output)
{
    [Fact]
    public async Task DetachAgain_AzuriteDied_StartsAzuriteOnlyAndTheRunningSiloRecovers()
    {
        var state = Directory.CreateTempSubdirectory("agentsec-runsh-").FullName;
        var httpPort = FreePorts.Next();
        var tablePort = FreePorts.Next();
        var environment = new Dictionary<string, string>
        {
            ["AGENTSEC_STATE_DIR"] = state,
            ["AGENTSEC_SILO_PORT"] = $"{FreePorts.Next()}",
            ["AGENTSEC_GATEWAY_PORT"] = $"{FreePorts.Next()}",
            ["AGENTSEC_HTTP_PORT"] = $"{httpPort}",
            ["AGENTSEC_AZURITE_BLOB_PORT"] = $"{FreePorts.Next()}",
            ["AGENTSEC_AZURITE_QUEUE_PORT"] = $"{FreePorts.Next()}",
            ["AGENTSEC_AZURITE_TABLE_PORT"] = $"{tablePort}",

            // The suite's own build: a build here would rewrite the files other test assemblies, running beside this
            // one, have loaded or compare with their packages.
            ["AGENTSEC_SKIP_BUILD"] = "1",
        };
        try
        {
            var first = await RunScriptAsync(environment, state, "--detach");
            Assert.True(first.ExitCode == 0, first.Output);
            var silo = Recorded(state, "silo-0");
            var azurite = Recorded(state, "azurite");

            // Azurite dies; the silo runs on.
            await StopProcessAsync(azurite);
            await WaitAsync(() => !FreePorts.IsListening(tablePort), "Azurite to stop listening");

            var again = await RunScriptAsync(environment, state, "--detach");
            output.WriteLine(again.Output);
            Assert.True(again.ExitCode == 0, again.Output);
            Assert.Contains("Silo 0 already runs", again.Output, StringComparison.Ordinal);
            Assert.Contains("Starting Azurite", again.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Starting silo", again.Output, StringComparison.Ordinal);
            Assert.Equal(silo, Recorded(state, "silo-0")); // the same silo process, left alone
            Assert.True(IsAlive(silo), "the running silo was stopped");
            var newAzurite = Recorded(state, "azurite");
            Assert.NotEqual(azurite, newAzurite);
            Assert.True(IsAlive(newAzurite) && FreePorts.IsListening(tablePort), "Azurite was not started again");

            // And the silo that ran through the outage is healthy again, on storage restarted under it.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            await WaitAsync(async () => await HealthAsync(http, httpPort) == "Healthy", "the silo to report Healthy");

            // Everything running: nothing to start, nothing stopped.
            var third = await RunScriptAsync(environment, state, "--detach");
            Assert.True(third.ExitCode == 0, third.Output);
            Assert.DoesNotContain("Starting", third.Output, StringComparison.Ordinal);
            Assert.Equal((silo, newAzurite), (Recorded(state, "silo-0"), Recorded(state, "azurite")));
        }
        finally
        {
            var stopped = await RunScriptAsync(environment, state, "--stop");
            output.WriteLine(stopped.Output);
            Directory.Delete(state, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunScriptAsync(Dictionary<string, string> environment, string state, string argument)
    {
        // Into a file, not a pipe: the build servers the script's dotnet build leaves behind would hold a pipe open.
        var log = Path.Combine(state, $"run-{Guid.NewGuid():N}.log");
        using var script = ChildProcess.Start("bash", ["-c", $"./run.sh {argument} >'{log}' 2>&1"], environment);
        var exit = await script.WaitForExitAsync(TimeSpan.FromMinutes(15));
        return (exit, await File.ReadAllTextAsync(log));
    }

    private static int Recorded(string state, string name) =>
        File.ReadAllLines(Path.Combine(state, "run", "pids")).Select(l => l.Split(' ')).Where(p => p[0] == name).Select(p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)).Last();

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    // SIGTERM, not SIGKILL: Azurite keeps its data in memory and saves it every few seconds, so a killed Azurite loses
    // writes it acknowledged (the silo's own membership entry among them), which storage that comes back does not.
    private static async Task StopProcessAsync(int pid)
    {
        using var process = System.Diagnostics.Process.GetProcessById(pid);
        using var term = ChildProcess.Start("kill", ["-TERM", $"{pid}"]);
        await term.WaitForExitAsync(TimeSpan.FromSeconds(10));
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(limit.Token);
    }

    private static async Task<string> HealthAsync(HttpClient http, int port)
    {
        try
        {
            return await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return e.GetType().Name;
        }
    }

    // Polls an external process's state with a deadline.
    private static Task WaitAsync(Func<bool> condition, string what) => WaitAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            // A poll of processes run.sh started (ports, /healthz), with a deadline: they signal nothing to the test.
            await Task.Delay(250);
        }
    }
}
