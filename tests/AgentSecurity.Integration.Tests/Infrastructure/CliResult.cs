using System.Text.Json;

namespace AgentSecurity.Integration.Tests.Infrastructure;

internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Standard output as the one JSON document <c>--json</c> promises.</summary>
    public JsonElement Json
    {
        get
        {
            using var document = JsonDocument.Parse(Stdout);
            return document.RootElement.Clone();
        }
    }

    public string Field(string name) => Json.GetProperty(name).ToString();

    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}
