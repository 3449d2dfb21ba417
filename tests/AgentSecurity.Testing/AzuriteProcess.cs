using System.Diagnostics;

namespace AgentSecurity.Testing;

/// <summary>
/// Azurite from the repository's <c>azurite/</c> folder (installed by <c>./test.sh</c>), on free loopback ports with
/// its data in a temporary folder, started for a test fixture and killed with it.
/// </summary>
public sealed class AzuriteProcess : IDisposable
{
    private const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private ChildProcess _process;
    private readonly string _dataDirectory;

    private AzuriteProcess(ChildProcess process, string dataDirectory, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        _dataDirectory = dataDirectory;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
    }

    public int BlobPort { get; }

    public int QueuePort { get; }

    public int TablePort { get; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevelopmentKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public static async Task<AzuriteProcess> StartAsync()
    {
        var executable = Path.Combine(RepositoryPaths.Root, "azurite", "node_modules", ".bin", "azurite");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"Azurite is not installed at {executable}: run ./test.sh (or npm ci in azurite/)");
        }

        var data = Directory.CreateTempSubdirectory("agentsec-azurite-").FullName;
        var (blob, queue, table) = (FreePorts.Next(), FreePorts.Next(), FreePorts.Next());
        var azurite = new AzuriteProcess(Launch(executable, data, blob, queue, table), data, blob, queue, table);
        try
        {
            await azurite.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            azurite.Dispose();
            throw;
        }

        return azurite;
    }

    /// <summary>
    /// Stops Azurite (SIGTERM) and waits until it has exited; its ports and data stay for <see cref="StartAgainAsync"/>.
    /// Not SIGKILL: Azurite keeps its data in memory and saves it every few seconds, so a killed Azurite loses writes it
    /// acknowledged, which real storage does not.
    /// </summary>
    public async Task StopAsync()
    {
        using (var term = Process.Start("kill", ["-TERM", $"{_process.Id}"]))
        {
            await term.WaitForExitAsync();
        }

        await _process.WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Freezes Azurite (SIGSTOP): a stall, not an outage. Connections stay open and requests already sent wait in its
    /// sockets' buffers, as with a disk or network that stops answering; nothing fails until a client's own timeout.
    /// </summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>Lets a paused Azurite go on (SIGCONT); it then serves what waited in its sockets.</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    private async Task SignalAsync(string signal)
    {
        using var sender = Process.Start("kill", [signal, $"{_process.Id}"]);
        await sender.WaitForExitAsync();
        if (sender.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {_process.Id} exited {sender.ExitCode}");
        }
    }

    /// <summary>Starts Azurite again on the same ports with the same data, as an operator does after an outage.</summary>
    public async Task StartAgainAsync()
    {
        _process.Dispose();
        _process = Launch(Path.Combine(RepositoryPaths.Root, "azurite", "node_modules", ".bin", "azurite"), _dataDirectory, BlobPort, QueuePort, TablePort);
        // Longer than a first start: Azurite reads back all its data first, on a machine that may be loaded.
        await WaitUntilListeningAsync(TimeSpan.FromSeconds(180));
    }

    private static ChildProcess Launch(string executable, string data, int blob, int queue, int table) =>
        ChildProcess.Start(executable,
        [
            "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--location", data,
            "--blobHost", "127.0.0.1", "--blobPort", $"{blob}",
            "--queueHost", "127.0.0.1", "--queuePort", $"{queue}",
            "--tableHost", "127.0.0.1", "--tablePort", $"{table}",
        ]);

    private async Task WaitUntilListeningAsync(TimeSpan timeout)
    {
        foreach (var port in new[] { BlobPort, QueuePort, TablePort })
        {
            await FreePorts.WaitUntilListeningAsync(port, timeout, () => _process.Output);
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
