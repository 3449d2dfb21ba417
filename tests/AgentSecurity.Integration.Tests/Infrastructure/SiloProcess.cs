using AgentSecurity.Testing;

namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>A real silo process (the built <c>AgentSecurity.Silo.dll</c>) on free ports, started and killed by tests.</summary>
internal sealed class SiloProcess : IDisposable
{
    private readonly Dictionary<string, string> _environment;
    private ChildProcess? _process;

    public SiloProcess(string storage, string operatorDid, string clusterId, string? auditKeyFile = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        SiloPort = FreePorts.Next();
        GatewayPort = FreePorts.Next();
        HttpPort = FreePorts.Next();
        _environment = new Dictionary<string, string>
        {
            ["AGENTSEC_CLUSTER_ID"] = clusterId,
            ["AGENTSEC_SILO_PORT"] = $"{SiloPort}",
            ["AGENTSEC_GATEWAY_PORT"] = $"{GatewayPort}",
            ["AGENTSEC_HTTP_PORT"] = $"{HttpPort}",
            ["AGENTSEC_STORAGE"] = storage,
            ["AGENTSEC_OPERATOR_DID"] = operatorDid,
        };
        if (auditKeyFile is not null)
        {
            _environment["AGENTSEC_AUDIT_KEY"] = auditKeyFile;
        }

        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            _environment[name] = value;
        }
    }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public int HttpPort { get; }

    public string Output => _process?.Output ?? string.Empty;

    /// <summary>True while the process last started runs (a silo declared dead by its cluster stops itself).</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The running silo's process id.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("the silo has not been started");

    /// <summary>Completes when the silo has logged a line containing <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout) =>
        (_process ?? throw new InvalidOperationException("the silo was not started")).WaitForOutputAsync(text, timeout);

    /// <summary>Starts the silo and waits until <c>/healthz</c> answers, over HTTP on loopback, or <paramref name="https"/> when given.</summary>
    public async Task StartAsync(HttpClient? https = null)
    {
        _process?.Dispose();
        _process = ChildProcess.Start("dotnet", [BuiltArtifacts.Silo], _environment);
        using var clear = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var http = https ?? clear;
        var scheme = https is null ? "http" : "https";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the silo exited while starting:\n{_process.Output}");
            }

            try
            {
                if ((await http.GetAsync(new Uri($"{scheme}://127.0.0.1:{HttpPort}/healthz"))).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not up yet
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the silo did not become healthy:\n{_process.Output}");
            }

            await Task.Delay(250); // a poll of the silo process's /healthz with a deadline: it pushes nothing
        }
    }

    /// <summary>Starts the silo and waits for it to exit by itself, as a silo that refuses its settings does.</summary>
    public async Task<int> RunToExitAsync(TimeSpan timeout)
    {
        _process?.Dispose();
        _process = ChildProcess.Start("dotnet", [BuiltArtifacts.Silo], _environment);
        return await _process.WaitForExitAsync(timeout);
    }

    /// <summary>SIGKILL: no shutdown, no flushing, as a crashed machine.</summary>
    public void Kill() => _process?.Kill();

    public void Dispose() => _process?.Dispose();
}
