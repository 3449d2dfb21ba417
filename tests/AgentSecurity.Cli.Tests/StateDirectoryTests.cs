using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using AgentSecurity.Grants;
using AgentSecurity.Tls;

namespace AgentSecurity.Cli.Tests;

/// <summary>The variables these tests set are read by every command that connects: no other test may run meanwhile.</summary>
[CollectionDefinition(nameof(ProcessEnvironmentCollection), DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection;

/// <summary>
/// With <c>AGENTSEC_STATE_DIR</c> the command line calls as that cluster's operator over that cluster's certificates, as
/// <c>./run.sh</c> lays them out there, so that two clusters from one checkout do not take each other's files.
/// </summary>
[Collection(nameof(ProcessEnvironmentCollection))]
public sealed class StateDirectoryTests : IDisposable
{
    private static readonly string[] Variables =
    [
        "AGENTSEC_STATE_DIR", "AGENTSEC_KEY", "AGENTSEC_OPERATOR_KEY", "AGENTSEC_REPOSITORY",
        "AGENTSEC_TLS_CERT", "AGENTSEC_TLS_KEY", "AGENTSEC_TLS_CA", "AGENTSEC_TLS_PASSWORD",
    ];

    private readonly CliHarness _cli = new();
    private readonly Dictionary<string, string?> _saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);

    public StateDirectoryTests()
    {
        // Whatever the machine running the tests has set (a shell from ./run.sh, say) must not choose for them.
        foreach (var variable in Variables)
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    public void Dispose()
    {
        foreach (var (variable, value) in _saved)
        {
            Environment.SetEnvironmentVariable(variable, value);
        }

        _cli.Dispose();
    }

    [Fact]
    public async Task Caller_StateDirectorySet_CallsAsItsOperatorKeyRatherThanTheRepositorys()
    {
        var (state, repository) = (Folder("state"), Folder("repository"));
        var stateKey = await NewKeyAsync(Path.Combine(state, "operator.key"));
        var repositoryKey = await NewKeyAsync(Path.Combine(repository, ".agentsec", "operator.key"));
        Environment.SetEnvironmentVariable("AGENTSEC_REPOSITORY", repository);

        Assert.Equal(repositoryKey, ResolveCaller().Value.Did.Value);

        Environment.SetEnvironmentVariable("AGENTSEC_STATE_DIR", state);
        Assert.Equal(stateKey, ResolveCaller().Value.Did.Value);
    }

    [Fact]
    public async Task Caller_StateDirectoryWithoutKey_IsUnauthenticatedRatherThanAnotherClustersOperator()
    {
        var repository = Folder("repository");
        await NewKeyAsync(Path.Combine(repository, ".agentsec", "operator.key"));
        Environment.SetEnvironmentVariable("AGENTSEC_REPOSITORY", repository);
        Environment.SetEnvironmentVariable("AGENTSEC_STATE_DIR", Folder("empty"));

        var caller = ResolveCaller();

        Assert.False(caller.Succeeded);
        Assert.Equal(ReasonCodes.Unauthenticated, caller.Failure.Code);
    }

    [Fact]
    public async Task Caller_OperatorKeyVariableAndAs_StillComeBeforeTheStateDirectory()
    {
        var state = Folder("state");
        await NewKeyAsync(Path.Combine(state, "operator.key"));
        var named = await NewKeyAsync(_cli.PathOf("named.key"));
        var other = await NewKeyAsync(_cli.PathOf("other.key"));
        Environment.SetEnvironmentVariable("AGENTSEC_STATE_DIR", state);
        Environment.SetEnvironmentVariable("AGENTSEC_OPERATOR_KEY", _cli.PathOf("named.key"));

        Assert.Equal(named, ResolveCaller().Value.Did.Value);
        Assert.Equal(other, ResolveCaller("--as", _cli.PathOf("other.key")).Value.Did.Value);
    }

    [Fact]
    public void ClientTls_StateDirectorySet_UsesItsDevelopmentCertificatesRatherThanTheRepositorys()
    {
        var (state, repository) = (Folder("state"), Folder("repository"));
        DevelopmentTlsFolder.Ensure(Path.Combine(state, "tls"), [], TimeProvider.System);
        DevelopmentTlsFolder.Ensure(Path.Combine(repository, ".agentsec", "tls"), [], TimeProvider.System);
        Environment.SetEnvironmentVariable("AGENTSEC_REPOSITORY", repository);

        Assert.Equal(AuthorityThumbprint(Path.Combine(repository, ".agentsec", "tls")), ResolveTlsAuthority());

        Environment.SetEnvironmentVariable("AGENTSEC_STATE_DIR", state);
        Assert.Equal(AuthorityThumbprint(Path.Combine(state, "tls")), ResolveTlsAuthority());

        // A state dir without certificates means none, not the repository's: the gateway then says TLS is missing.
        Environment.SetEnvironmentVariable("AGENTSEC_STATE_DIR", Folder("empty"));
        Assert.Null(ClientTls.Resolve(TimeProvider.System).Value);
    }

    [Fact]
    public async Task TlsInit_WithoutDir_WritesIntoTheStateDirectory()
    {
        var state = Folder("state");
        Environment.SetEnvironmentVariable("AGENTSEC_STATE_DIR", state);

        var (exit, json) = await _cli.JsonAsync("tls", "init");

        Assert.Equal(0, exit);
        Assert.Equal(Path.Combine(state, "tls"), json.GetProperty("dir").GetString());
        Assert.True(File.Exists(Path.Combine(state, "tls", DevelopmentTlsFolder.ClientCertificate)));
    }

    private static Result<Grants.Crypto.SigningKey> ResolveCaller(params string[] args) =>
        Caller.Resolve(new RootCommand { Caller.AsOption }.Parse(args));

    private static string ResolveTlsAuthority()
    {
        var certificates = ClientTls.Resolve(TimeProvider.System).Value;
        Assert.NotNull(certificates);
        return Assert.Single(certificates.Authorities).Thumbprint;
    }

    private static string AuthorityThumbprint(string folder)
    {
        using var authority = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(folder, DevelopmentTlsFolder.AuthorityCertificate)));
        return authority.Thumbprint;
    }

    private string Folder(string name) => Directory.CreateDirectory(_cli.PathOf(name)).FullName;

    private async Task<string> NewKeyAsync(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var (exit, json) = await _cli.JsonAsync("key", "new", "--out", path);
        Assert.Equal(0, exit);
        return json.GetProperty("did").GetString()!;
    }
}
