using System.IO.Compression;
using System.Reflection;
using System.Text.Json;
using System.Xml.Linq;
using AgentSecurity.Client;
using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;
using AgentSecurity.Tls;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// The NuGet packages in <c>artifacts/packages</c> (what <c>./test.sh</c> packs), used as a user outside the repository uses
/// them: an application of its own that references AgentSecurity.Client by version, and <c>agentsec</c> installed with
/// <c>dotnet tool install</c>, each checking an agent of the running silo. The packages must come from the feed and hold
/// the build under test: a missing or stale feed fails, never skips.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class PackagedClientTests(ClusterProcessFixture cluster)
{
    private const string RepositoryUrl = "https://github.com/agentsecurity/agentsecurity";

    private static readonly string Feed = Path.Combine(RepositoryPaths.Root, "artifacts", "packages");

    private const string PackHint = "run ./test.sh, or: dotnet pack Orleans.sln -c Release --no-build -o artifacts/packages";

    /// <summary>The set's version, as the assemblies this test was built with carry it (without the commit after '+').</summary>
    private static readonly string Version = typeof(AgentSecurityClient).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    [Fact]
    public void Feed_EveryLibraryUnderSrc_IsPackedAtTheOneVersionWithItsMetadataAndDependencies()
    {
        RequireFeed();
        var projects = Directory.GetDirectories(Path.Combine(RepositoryPaths.Root, "src"))
            .Select(directory => Path.GetFileName(directory))
            .Where(name => File.Exists(Path.Combine(RepositoryPaths.Root, "src", name, $"{name}.csproj")))
            .ToList();
        var packages = Directory.GetFiles(Feed, "*.nupkg").ToDictionary(file => Path.GetFileName(file), StringComparer.Ordinal);

        Assert.Contains("AgentSecurity.Client", projects);
        Assert.DoesNotContain(packages.Keys, file => file.StartsWith("AgentSecurity.Silo.", StringComparison.Ordinal)); // an application
        foreach (var project in projects.Where(p => p != "AgentSecurity.Silo"))
        {
            Assert.True(packages.ContainsKey($"{project}.{Version}.nupkg"), $"src/{project} is not packed as {project} {Version} in {Feed} ({PackHint})");
            Assert.True(File.Exists(Path.Combine(Feed, $"{project}.{Version}.snupkg")), $"no symbols package for {project} {Version}");
        }

        foreach (var (file, path) in packages)
        {
            using var zip = ZipFile.OpenRead(path);
            var nuspec = Nuspec(zip);
            var id = Element(nuspec, "id");
            Assert.Equal($"{id}.{Version}.nupkg", file);
            Assert.Equal("AgentSecurity contributors", Element(nuspec, "authors"));
            Assert.Equal("MIT", Element(nuspec, "license"));
            Assert.Equal(RepositoryUrl, Element(nuspec, "projectUrl"));
            Assert.Equal(RepositoryUrl, nuspec.Descendants().Single(e => e.Name.LocalName == "repository").Attribute("url")?.Value);
            var description = Element(nuspec, "description");
            Assert.False(description.Length == 0 || description == "Package Description", $"{id} has no description of its own");
            Assert.NotNull(zip.GetEntry(Element(nuspec, "readme")));
            foreach (var dependency in Dependencies(nuspec).Where(d => d.Id.StartsWith("AgentSecurity.", StringComparison.Ordinal)))
            {
                Assert.True(dependency.Version == Version, $"{id} depends on {dependency.Id} {dependency.Version}, not on the set's version {Version}");
                Assert.True(packages.ContainsKey($"{dependency.Id}.{Version}.nupkg"), $"{id} depends on {dependency.Id}, which is not packed");
            }
        }

        using (var client = ZipFile.OpenRead(packages[$"AgentSecurity.Client.{Version}.nupkg"]))
        {
            var dependencies = Dependencies(Nuspec(client)).Select(d => d.Id).ToList();
            Assert.Contains("AgentSecurity.Abstractions", dependencies);
            Assert.Contains("AgentSecurity.Tls", dependencies);
        }

        using var cli = ZipFile.OpenRead(packages[$"AgentSecurity.Cli.{Version}.nupkg"]);
        Assert.Equal("DotnetTool", Nuspec(cli).Descendants().Single(e => e.Name.LocalName == "packageType").Attribute("name")?.Value);
    }

    [Fact]
    public async Task ClientPackage_InAFreshApplication_ChecksAnAgentAllowedAndDenied()
    {
        RequireFeed();
        var (tenant, _) = await HttpCallers.TenantAsync(cluster, "pkg");
        var app = cluster.PathOf($"packaged-client-{Guid.NewGuid():N}");
        Directory.CreateDirectory(app);
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "PackagedClient")))
        {
            File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
        }

        var packages = WriteNugetConfig(app);

        await DotnetAsync(app, packages, "build", "PackagedClient.csproj", "-c", "Release", $"-p:AgentSecurityVersion={Version}");

        var restored = AgentSecurityLibraries(Path.Combine(app, "obj", "project.assets.json"));
        Assert.Contains($"AgentSecurity.Client/{Version}", restored);
        Assert.Contains($"AgentSecurity.Grants/{Version}", restored); // transitively, through Abstractions
        foreach (var library in restored)
        {
            var (id, version) = (library.Split('/')[0], library.Split('/')[1]);
            var folder = Path.Combine(packages, id.ToLowerInvariant(), version);
            AssertFromFeed(folder, id);
            AssertSameBuild(Path.Combine(folder, "lib", "net10.0", $"{id}.dll"), Path.Combine(AppContext.BaseDirectory, $"{id}.dll"));
        }

        var program = Path.Combine(app, "bin", "Release", "net10.0", "PackagedClient.dll");
        var allowed = await cluster.RunAsync("dotnet", [program, $"{tenant}/bot", "fileSystem:read", "/data/report.txt"]);
        var denied = await cluster.RunAsync("dotnet", [program, $"{tenant}/bot", "fileSystem:read", "/etc/shadow"]);

        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.True(allowed.Json.GetProperty("allowed").GetBoolean(), allowed.ToString());
        Assert.Equal(ReasonCodes.Allowed, allowed.Field("reason"));
        Assert.True(denied.ExitCode == 1, denied.ToString());
        Assert.False(denied.Json.GetProperty("allowed").GetBoolean(), denied.ToString());
        Assert.Equal(ReasonCodes.OutOfScope, denied.Field("reason"));
    }

    [Fact]
    public async Task CliToolPackage_InstalledWithDotnetTool_ChecksAnAgentWithTheCheckoutsDevelopmentCertificates()
    {
        RequireFeed();
        var (tenant, _) = await HttpCallers.TenantAsync(cluster, "tool");
        var tools = cluster.PathOf($"tools-{Guid.NewGuid():N}");

        // A tool path keeps its packages in its own store, not in the machine's cache.
        await DotnetAsync(cluster.WorkDirectory, packages: null, "tool", "install", "AgentSecurity.Cli", "--version", Version, "--tool-path", tools, "--add-source", Feed);

        var installed = Path.Combine(tools, ".store", "agentsecurity.cli", Version, "agentsecurity.cli", Version);
        AssertFromFeed(installed, "AgentSecurity.Cli");
        AssertSameBuild(Path.Combine(installed, "tools", "net10.0", "any", "agentsec.dll"), BuiltArtifacts.Cli);
        var agentsec = Path.Combine(tools, "agentsec");
        var help = await cluster.RunAsync(agentsec, ["--help"]);
        var version = await cluster.RunAsync(agentsec, ["--version"]);
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("check <AGENT> <CAPABILITY>", help.Stdout, StringComparison.Ordinal);
        Assert.Equal(Version, version.Stdout.Split('+')[0]);

        // As a user runs the installed tool against ./run.sh's cluster: the client certificate from the checkout named
        // by AGENTSEC_REPOSITORY (.agentsec/tls), none from the variables that name files.
        var checkout = cluster.PathOf($"checkout-{Guid.NewGuid():N}");
        var certificates = Directory.CreateDirectory(Path.Combine(checkout, ".agentsec", "tls")).FullName;
        foreach (var file in new[] { DevelopmentTlsFolder.ClientCertificate, DevelopmentTlsFolder.ClientKey, DevelopmentTlsFolder.AuthorityCertificate })
        {
            File.Copy(Path.Combine(cluster.TlsDirectory, file), Path.Combine(certificates, file));
        }

        var environment = new Dictionary<string, string>
        {
            ["AGENTSEC_REPOSITORY"] = checkout,
            ["AGENTSEC_TLS_CERT"] = string.Empty,
            ["AGENTSEC_TLS_KEY"] = string.Empty,
            ["AGENTSEC_TLS_CA"] = string.Empty,
        };
        var allowed = await cluster.RunAsync(agentsec, ["check", $"{tenant}/bot", "fileSystem:read", "--resource", "/data/report.txt", "--json"], environment);
        var denied = await cluster.RunAsync(agentsec, ["check", $"{tenant}/bot", "fileSystem:read", "--resource", "/etc/shadow", "--json"], environment);

        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.True(allowed.Json.GetProperty("allowed").GetBoolean(), allowed.ToString());
        Assert.Equal(ReasonCodes.Allowed, allowed.Field("reason"));
        Assert.True(denied.ExitCode == 1, denied.ToString());
        Assert.Equal(ReasonCodes.OutOfScope, denied.Field("reason"));
    }

    [Fact]
    public async Task HostingPackage_CoHostedBesideAPlatformGrain_KeepsItsStateAndAServiceChecksOverADnsNamedGateway()
    {
        RequireFeed();
        var work = cluster.PathOf($"cohosted-{Guid.NewGuid():N}");
        var app = Path.Combine(work, "CoHosted");
        Directory.CreateDirectory(app);
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "samples", "CoHosted")).Where(f => !f.Contains("/bin/", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
        }

        var packages = WriteNugetConfig(app);
        await DotnetAsync(app, packages, "build", "CoHosted.csproj", "-c", "Release", $"-p:AgentSecurityVersion={Version}");
        Assert.Contains($"AgentSecurity.Hosting/{Version}", AgentSecurityLibraries(Path.Combine(app, "obj", "project.assets.json")));
        Assert.DoesNotContain(AgentSecurityLibraries(Path.Combine(app, "obj", "project.assets.json")), l => l.StartsWith("AgentSecurity.Sandbox.Runtimes/", StringComparison.Ordinal));

        // The platform's silo, started three times; its notes must survive each restart untouched by the kernel beside them.
        var gatewayPort = FreePorts.Next();
        var silo = new Dictionary<string, string>
        {
            ["STORAGE"] = cluster.StorageConnectionString,
            ["SILO_PORT"] = $"{FreePorts.Next()}",
            ["GATEWAY_PORT"] = $"{gatewayPort}",
            ["OPERATOR_DID"] = cluster.Operator.Did.Value,
            ["AUDIT_KEY"] = cluster.AuditKeyFile,
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
        var program = Path.Combine(app, "bin", "Release", "net10.0", "CoHosted.dll");
        var first = await cluster.RunAsync("dotnet", [program, "first"], silo);
        var second = await cluster.RunAsync("dotnet", [program, "second"], silo);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal("[\"first\"]", first.Stdout.Trim());
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal("[\"first\",\"second\"]", second.Stdout.Trim());

        using var serving = ChildProcess.Start("dotnet", [program, "third", "--serve"], silo, work);
        await serving.WaitForOutputAsync($"serving on gateway {gatewayPort}", TimeSpan.FromMinutes(2));
        Assert.Contains("[\"first\",\"second\",\"third\"]", serving.Output, StringComparison.Ordinal);

        // A separate service of the platform: agentsec and the packaged client, reaching the silo by a DNS name.
        var service = new Dictionary<string, string>
        {
            ["AGENTSEC_GATEWAY"] = $"localhost:{gatewayPort}",
            ["AGENTSEC_CLUSTER_ID"] = "platform",
            ["AGENTSEC_SERVICE_ID"] = "platform",
            ["AGENTSEC_TLS_CERT"] = string.Empty,
            ["AGENTSEC_TLS_KEY"] = string.Empty,
            ["AGENTSEC_TLS_CA"] = string.Empty,
            ["AGENTSEC_REPOSITORY"] = string.Empty,
        };
        var tenant = $"cohost-{Guid.NewGuid():N}"[..20];
        var rootKey = Path.Combine(work, "root.key");
        var root = (await cluster.RunAsync("dotnet", [BuiltArtifacts.Cli, "key", "new", "--out", rootKey, "--json"], service)).Field("did");
        var created = await cluster.RunAsync("dotnet", [BuiltArtifacts.Cli, "tenant", "create", tenant, "--root", root, "--operator-key", cluster.OperatorKeyFile, "--json"], service);
        Assert.True(created.ExitCode == 0, created + "\n" + serving.Output);
        var grant = Path.Combine(work, "grant.json");
        await cluster.RunAsync("dotnet", [BuiltArtifacts.Cli, "grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", "bot", "--fs", "read", "--scope", "fileSystem=/data/**", "--out", grant], service);
        var applied = await cluster.RunAsync("dotnet", [BuiltArtifacts.Cli, "grant", "apply", grant, "--json"], service);
        Assert.True(applied.ExitCode == 0, applied.ToString());

        var client = Path.Combine(work, "PackagedClient");
        Directory.CreateDirectory(client);
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "PackagedClient")))
        {
            File.Copy(file, Path.Combine(client, Path.GetFileName(file)));
        }

        await DotnetAsync(client, WriteNugetConfig(client), "build", "PackagedClient.csproj", "-c", "Release", $"-p:AgentSecurityVersion={Version}");
        var checker = Path.Combine(client, "bin", "Release", "net10.0", "PackagedClient.dll");
        var allowed = await cluster.RunAsync("dotnet", [checker, $"{tenant}/bot", "fileSystem:read", "/data/report.txt"], service);
        var denied = await cluster.RunAsync("dotnet", [checker, $"{tenant}/bot", "fileSystem:read", "/etc/shadow"], service);
        Assert.True(allowed.ExitCode == 0, allowed + "\n" + serving.Output);
        Assert.Equal(ReasonCodes.Allowed, allowed.Field("reason"));
        Assert.True(denied.ExitCode == 1, denied.ToString());
        Assert.Equal(ReasonCodes.OutOfScope, denied.Field("reason"));
    }

    [Fact]
    public async Task AiPackage_AgentsAsGrainsSample_PrintsWhatItsAgentWasAllowedAndRefused()
    {
        RequireFeed();
        var work = cluster.PathOf($"agents-as-grains-{Guid.NewGuid():N}");
        var app = Path.Combine(work, "AgentsAsGrains");
        Directory.CreateDirectory(app);
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "samples", "AgentsAsGrains")).Where(f => !f.Contains("/bin/", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
        }

        var packages = WriteNugetConfig(app);
        await DotnetAsync(app, packages, "build", "AgentsAsGrains.csproj", "-c", "Release", $"-p:AgentSecurityVersion={Version}");
        Assert.Contains($"AgentSecurity.AI/{Version}", AgentSecurityLibraries(Path.Combine(app, "obj", "project.assets.json")));

        var silo = new Dictionary<string, string>
        {
            ["STORAGE"] = cluster.StorageConnectionString,
            ["SILO_PORT"] = $"{FreePorts.Next()}",
            ["GATEWAY_PORT"] = $"{FreePorts.Next()}",
            ["AUDIT_KEY"] = cluster.AuditKeyFile,
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
        var run = await cluster.RunAsync("dotnet", [Path.Combine(app, "bin", "Release", "net10.0", "AgentsAsGrains.dll")], silo);

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(
            [
                "allowed get_weather {\"city\":\"Oslo\"}: sunny in Oslo",
                "allowed read_file {\"path\":\"/workspace/notes.txt\"}: (the contents of /workspace/notes.txt)",
                "refused read_file {\"path\":\"/etc/passwd\"}: out_of_scope",
                "refused delete_repo {\"repo\":\"acme/prod\"}: out_of_scope",
                "answer: Done.",
            ],
            lines.Select(l => l.StartsWith("refused", StringComparison.Ordinal) ? l[..(l.IndexOf("out_of_scope", StringComparison.Ordinal) + "out_of_scope".Length)] : l));
    }

    /// <summary>Fails (never skips) when nothing was packed: these tests are the packages' only check.</summary>
    private static void RequireFeed()
    {
        if (!Directory.Exists(Feed) || Directory.GetFiles(Feed, "*.nupkg").Length == 0)
        {
            Assert.Fail($"no packages in {Feed}: {PackHint}");
        }

        if (!File.Exists(Path.Combine(Feed, $"AgentSecurity.Client.{Version}.nupkg")))
        {
            Assert.Fail($"{Feed} holds no AgentSecurity.Client {Version}, the version under test (it holds {string.Join(", ", Directory.GetFiles(Feed, "*.nupkg").Select(Path.GetFileName))}): {PackHint}");
        }
    }

    /// <summary>
    /// A nuget.config in <paramref name="app"/>: AgentSecurity.* only from the feed; the rest from nuget.org, or from the
    /// machine's cache (a fallback folder, so nothing is downloaded again). The packages restored land in a folder of the
    /// test's own, which it returns: the shared cache would keep serving an older pack of the same version.
    /// </summary>
    private static string WriteNugetConfig(string app)
    {
        var packages = Path.Combine(app, "packages");
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="agentsecurity" value="{Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="agentsecurity"><package pattern="AgentSecurity.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
              <fallbackPackageFolders>
                <add key="machine" value="{SharedPackagesFolder()}" />
              </fallbackPackageFolders>
            </configuration>
            """);

        return packages;
    }

    /// <summary>Runs dotnet in <paramref name="directory"/>, with <paramref name="packages"/> as its global packages folder when given.</summary>
    private static async Task DotnetAsync(string directory, string? packages, params string[] arguments)
    {
        // No build servers or nodes left running after the test.
        string[] quiet = arguments[0] == "build" ? ["-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false"] : [];
        var environment = packages is null ? null : new Dictionary<string, string> { ["NUGET_PACKAGES"] = packages };
        using var process = ChildProcess.Start("dotnet", [.. arguments, .. quiet], environment, directory);
        var exit = await process.WaitForExitAsync(TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, $"dotnet {string.Join(' ', arguments)} exited with {exit}:\n{process.Output}");
    }

    /// <summary>The machine's NuGet cache, where the repository's own restore put Orleans and the rest.</summary>
    private static string SharedPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>The AgentSecurity.* libraries of a restore, as <c>id/version</c>.</summary>
    private static List<string> AgentSecurityLibraries(string assetsFile)
    {
        using var assets = JsonDocument.Parse(File.ReadAllText(assetsFile));
        return assets.RootElement.GetProperty("libraries").EnumerateObject()
            .Select(library => library.Name)
            .Where(name => name.StartsWith("AgentSecurity.", StringComparison.Ordinal))
            .ToList();
    }

    /// <summary>
    /// The package NuGet extracted (it keeps a copy of the .nupkg beside what it extracted) is the feed's file, and where
    /// NuGet notes the source too (a restore does, a tool's store does not), that source is the feed.
    /// </summary>
    private static void AssertFromFeed(string extracted, string id)
    {
        var copy = Path.Combine(extracted, $"{id.ToLowerInvariant()}.{Version}.nupkg");
        Assert.True(File.Exists(copy), $"{id} {Version} was not extracted to {extracted}: it came from another packages folder");
        Assert.True(File.ReadAllBytes(copy).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(Feed, $"{id}.{Version}.nupkg"))),
            $"{id} {Version} in {extracted} is not the package in {Feed}");
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(extracted, ".nupkg.metadata")));
        if (metadata.RootElement.TryGetProperty("source", out var source))
        {
            Assert.Equal(Path.GetFullPath(Feed).TrimEnd('/'), source.GetString()!.TrimEnd('/'));
        }
    }

    /// <summary>
    /// The assembly in the package is the one this test run was built with (builds are deterministic), so the feed is
    /// not left over from an earlier build.
    /// </summary>
    private static void AssertSameBuild(string packaged, string built)
    {
        Assert.True(File.Exists(packaged), $"{packaged} is not in the package");
        Assert.True(File.ReadAllBytes(packaged).AsSpan().SequenceEqual(File.ReadAllBytes(built)),
            $"{Path.GetFileName(packaged)} in {Feed} is not the build under test ({built}): pack again after building; {PackHint}");
    }

    private static XElement Nuspec(ZipArchive package)
    {
        var entry = package.Entries.Single(e => !e.FullName.Contains('/', StringComparison.Ordinal) && e.Name.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = entry.Open();
        return XDocument.Load(stream).Root!;
    }

    private static string Element(XElement nuspec, string name) =>
        nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value ?? string.Empty;

    private static IEnumerable<(string Id, string Version)> Dependencies(XElement nuspec) =>
        nuspec.Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => (e.Attribute("id")!.Value, e.Attribute("version")!.Value));
}
