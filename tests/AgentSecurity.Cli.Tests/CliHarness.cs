using System.Text.Json;

namespace AgentSecurity.Cli.Tests;

/// <summary>Runs the command line in-process, as a shell would, with its own temporary folder.</summary>
public sealed class CliHarness : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("agentsec-cli-").FullName;

    public string PathOf(string name) => Path.Combine(Directory, name);

    public async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliApp.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString().Trim(), stderr.ToString().Trim());
    }

    public async Task<(int Exit, JsonElement Json)> JsonAsync(params string[] args)
    {
        var (exit, output, error) = await RunAsync([.. args, "--json"]);
        Assert.True(output.Length > 0, $"no JSON on stdout (exit {exit}): {error}");
        using var document = JsonDocument.Parse(output);
        return (exit, document.RootElement.Clone());
    }

    public async Task<string> NewKeyAsync(string name)
    {
        var (exit, _) = await JsonAsync("key", "new", "--out", PathOf(name));
        Assert.Equal(0, exit);
        return PathOf(name);
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
