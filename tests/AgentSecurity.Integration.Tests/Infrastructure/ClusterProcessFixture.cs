using System.Diagnostics;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Testing;
using AgentSecurity.Tls;

namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>
/// Azurite and one real silo process for the whole collection, an operator key file, and a way to run the built
/// <c>agentsec</c> against the silo. Tests use their own tenants, so they can share it. Everything speaks mutual TLS, as a
/// cluster beyond loopback must: a development CA in the work folder, the silo with its certificate, every client (the
/// command line and in-process clients) with the client certificate. Setup that is not a test's subject (tenants,
/// grants, access) goes through one in-process client (<see cref="CreateTenantAsync"/>): a command-line process spends
/// a second and a half of CPU connecting, and the suite once made hundreds of them.
/// </summary>
public sealed class ClusterProcessFixture : IAsyncLifetime
{
    private AzuriteProcess? _azurite;
    private SiloProcess? _silo;
    private ChildProcess? _remoteMcp;
    private OrleansClientHost? _operatorClient;
    private readonly SemaphoreSlim _operatorClientLock = new(1, 1);

    public string WorkDirectory { get; } = Directory.CreateTempSubdirectory("agentsec-it-").FullName;

    public string OperatorKeyFile => Path.Combine(WorkDirectory, "operator.key");

    public SigningKey Operator { get; } = TestKeys.Operator;

    public string ClusterId { get; } = $"it-{Guid.NewGuid():N}";

    public Grants.Crypto.SigningKey AuditKey { get; } = TestKeys.FromByte(0xAE);

    public string AuditKeyFile => Path.Combine(WorkDirectory, "audit.key");

    internal SiloProcess Silo => _silo!;

    public string Gateway => $"127.0.0.1:{_silo!.GatewayPort}";

    /// <summary>The silo's HTTP port: the AuthZEN API, event streams, dashboard, metrics and health.</summary>
    public Uri Http => new($"http://127.0.0.1:{_silo!.HttpPort}/");

    public string StorageConnectionString => _azurite!.ConnectionString;

    /// <summary>The development CA and its silo and client certificates (<c>agentsec tls init</c>'s files).</summary>
    public string TlsDirectory => Path.Combine(WorkDirectory, "tls");

    /// <summary>The client certificate and the cluster's CA, for in-process clients.</summary>
    public ClusterCertificates ClientTls { get; private set; } = null!;

    /// <summary>The settings every silo process of these tests gets: its TLS files, and <paramref name="more"/>.</summary>
    public Dictionary<string, string> SiloSettings(IReadOnlyDictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["AGENTSEC_TLS_CERT"] = Path.Combine(TlsDirectory, DevelopmentTlsFolder.SiloCertificate),
            ["AGENTSEC_TLS_KEY"] = Path.Combine(TlsDirectory, DevelopmentTlsFolder.SiloKey),
            ["AGENTSEC_TLS_CA"] = Path.Combine(TlsDirectory, DevelopmentTlsFolder.AuthorityCertificate),
        };
        foreach (var (name, value) in more ?? new Dictionary<string, string>())
        {
            settings[name] = value;
        }

        return settings;
    }

    /// <summary>The environment of an <c>agentsec</c> process calling this cluster: gateway, cluster id, operator key, client TLS.</summary>
    public Dictionary<string, string> CliEnvironment() => new()
    {
        ["AGENTSEC_GATEWAY"] = Gateway,
        ["AGENTSEC_CLUSTER_ID"] = ClusterId,
        ["AGENTSEC_KEY"] = OperatorKeyFile, // the command line calls as the operator unless a test says --as
        ["AGENTSEC_TLS_CERT"] = Path.Combine(TlsDirectory, DevelopmentTlsFolder.ClientCertificate),
        ["AGENTSEC_TLS_KEY"] = Path.Combine(TlsDirectory, DevelopmentTlsFolder.ClientKey),
        ["AGENTSEC_TLS_CA"] = Path.Combine(TlsDirectory, DevelopmentTlsFolder.AuthorityCertificate),
    };

    public async Task InitializeAsync()
    {
        File.WriteAllText(OperatorKeyFile, Operator.ToKeyFileJson());
        File.WriteAllText(AuditKeyFile, AuditKey.ToKeyFileJson());
        DevelopmentTlsFolder.Ensure(TlsDirectory, [], TimeProvider.System);
        ClientTls = ClusterCertificates.Load(Path.Combine(TlsDirectory, DevelopmentTlsFolder.ClientCertificate),
            Path.Combine(TlsDirectory, DevelopmentTlsFolder.ClientKey), Path.Combine(TlsDirectory, DevelopmentTlsFolder.AuthorityCertificate));
        _azurite = await AzuriteProcess.StartAsync();
        // Agents' native processes run as users of their own, which must be able to pass through to their workspaces.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(WorkDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }

        // A server that runs elsewhere, reached by URL: the real server-everything in its Streamable HTTP mode.
        var remotePort = FreePorts.Next();
        _remoteMcp = ChildProcess.Start("node",
            [Path.Combine(RepositoryPaths.Root, "mcp-servers", "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js"), "streamableHttp"],
            new Dictionary<string, string> { ["PORT"] = $"{remotePort}" });
        await _remoteMcp.WaitForOutputAsync($"listening on port {remotePort}", TimeSpan.FromSeconds(60));

        _silo = new SiloProcess(_azurite.ConnectionString, Operator.Did.Value, ClusterId, AuditKeyFile, SiloSettings(new Dictionary<string, string>
        {
            ["AgentSecurity__Sandbox__WorkspaceRoot"] = Path.Combine(WorkDirectory, "workspaces"),

            // The silo's MCP endpoint with the reference filesystem server, started per agent in its sandbox on /workspace.
            ["AgentSecurity__Mcp__Servers__fs__Command"] = "/usr/bin/node",
            ["AgentSecurity__Mcp__Servers__fs__Arguments__0"] = "--jitless",
            ["AgentSecurity__Mcp__Servers__fs__Arguments__1"] = "--max-old-space-size=128",
            ["AgentSecurity__Mcp__Servers__fs__Arguments__2"] = "--max-semi-space-size=4",
            ["AgentSecurity__Mcp__Servers__fs__Arguments__3"] = "/opt/mcp/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js",
            ["AgentSecurity__Mcp__Servers__fs__Arguments__4"] = "/workspace",
            ["AgentSecurity__Mcp__Servers__fs__ReadOnlyBinds__0__HostPath"] = Path.Combine(RepositoryPaths.Root, "mcp-servers", "node_modules"),
            ["AgentSecurity__Mcp__Servers__fs__ReadOnlyBinds__0__SandboxPath"] = "/opt/mcp/node_modules",
            ["AgentSecurity__Mcp__Servers__fs__MemoryBytes"] = $"{256L * 1024 * 1024}",
            ["AgentSecurity__Mcp__Servers__remote__Url"] = $"http://127.0.0.1:{remotePort}/mcp",
        }));
        await _silo.StartAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            await DisconnectOperatorClientAsync();
        }
        finally
        {
            _silo?.Dispose();
            _remoteMcp?.Dispose();
            _azurite?.Dispose();
            Directory.Delete(WorkDirectory, recursive: true);
        }
    }

    /// <summary>Kills the silo process and starts a new one on the same ports and storage.</summary>
    internal async Task RestartSiloAsync()
    {
        try
        {
            await DisconnectOperatorClientAsync();
        }
        finally
        {
            _silo!.Kill();
        }

        await _silo!.StartAsync();
    }

    /// <summary>Runs the built <c>agentsec</c> with the gateway of this fixture's silo.</summary>
    internal Task<CliResult> AgentsecAsync(params string[] args) => RunAsync("dotnet", [BuiltArtifacts.Cli, .. args]);

    internal async Task<CliResult> RunAsync(string fileName, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = WorkDirectory,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in CliEnvironment())
        {
            info.Environment[name] = value;
        }

        info.Environment["AGENTSEC_STORAGE"] = StorageConnectionString;
        info.Environment["AGENTSEC_AUDIT_KEY"] = AuditKeyFile;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, (await stdout).Trim(), (await stderr).Trim());
    }

    public string PathOf(string name) => Path.Combine(WorkDirectory, name);

    /// <summary>What the silo process has written so far (for a failing test to show).</summary>
    internal string SiloOutput => _silo?.Output ?? string.Empty;

    /// <summary>An Orleans client of this cluster, in the test process, calling as the operator.</summary>
    internal Task<OrleansClientHost> ConnectClientAsync() => OrleansClientHost.StartAsync(Gateway, ClusterId, Operator, ClientTls);

    /// <summary>Creates <paramref name="tenant"/> with <paramref name="rootDid"/> as its root, signed by the operator as <c>agentsec tenant create</c> signs it (setup).</summary>
    internal async Task CreateTenantAsync(string tenant, string rootDid)
    {
        var created = await (await OperatorClientAsync()).CreateTenantAsync(TestDocuments.Tenant(tenant, Grants.Documents.DocumentTime.WholeSeconds(TimeProvider.System.GetUtcNow()), rootDid).SignWith(Operator));
        Assert.True(created.Created, $"tenant {tenant}: {created.Error}: {created.Message}");
    }

    /// <summary>Applies a grant that <c>agentsec grant sign</c> wrote to <paramref name="file"/>, as <c>agentsec grant apply</c> does (setup).</summary>
    internal async Task ApplyGrantFileAsync(string file)
    {
        var applied = await (await OperatorClientAsync()).ApplyGrantAsync(File.ReadAllText(file).Trim());
        Assert.True(applied.Applied, $"{file}: {applied.Error}: {applied.Message}");
    }

    /// <summary>Applies an access document that <c>agentsec access grant</c> wrote to <paramref name="file"/>, as <c>agentsec access apply</c> does (setup).</summary>
    internal async Task ApplyAccessFileAsync(string file)
    {
        var applied = await (await OperatorClientAsync()).ApplyAccessAsync(File.ReadAllText(file).Trim());
        Assert.True(applied.Accepted, $"{file}: {applied.Error}: {applied.Message}");
    }

    /// <summary>
    /// The fixture's one client of the shared silo, calling as the operator: for setup and for calls a test makes
    /// in-process. Handed out beyond the lock: a collection's tests run one at a time, and only a restart of the silo
    /// (by a test, between its calls) replaces it.
    /// </summary>
    internal async Task<AgentSecurity.Client.AgentSecurityClient> OperatorClientAsync()
    {
        await _operatorClientLock.WaitAsync();
        try
        {
            _operatorClient ??= await ConnectClientAsync();
            return _operatorClient.Client;
        }
        finally
        {
            _operatorClientLock.Release();
        }
    }

    private async Task DisconnectOperatorClientAsync()
    {
        await _operatorClientLock.WaitAsync();
        try
        {
            if (_operatorClient is not null)
            {
                await _operatorClient.DisposeAsync();
                _operatorClient = null;
            }
        }
        finally
        {
            _operatorClientLock.Release();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterProcessCollection : ICollectionFixture<ClusterProcessFixture>
{
    public const string Name = "cluster processes";
}
