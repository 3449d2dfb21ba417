using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentSecurity.Grants;

namespace AgentSecurity.Cli;

/// <summary>
/// Where a command's answer goes. With <c>--json</c>, standard output is exactly one JSON document (or JSON lines
/// for streaming commands); without it, short text for people, and errors on standard error.
/// </summary>
internal sealed class CliOutput(TextWriter stdout, TextWriter stderr, bool json)
{
    /// <summary>The error code of command-line misuse (missing file, bad option value).</summary>
    public const string UsageError = "usage";

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public bool Json => json;

    public TextWriter Out => stdout;

    /// <summary>Writes the answer: the payload as JSON, or the text for people.</summary>
    public int Answer(int exitCode, object payload, string text)
    {
        stdout.WriteLine(json ? JsonSerializer.Serialize(payload, Options) : text);
        return exitCode;
    }

    /// <summary>Writes a JSON text that already is the answer (a signed document).</summary>
    public int AnswerRaw(int exitCode, string jsonText, string text)
    {
        stdout.WriteLine(json ? jsonText : text);
        return exitCode;
    }

    public int Error(string code, string message, int? exitCode = null)
    {
        var exit = exitCode ?? (code == ReasonCodes.Unavailable ? ExitCodes.Unreachable : code == UsageError ? ExitCodes.Usage : ExitCodes.No);
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(new { error = code, message }, Options));
        }
        else
        {
            stderr.WriteLine($"error: {code}: {message}");
        }

        return exit;
    }

    public int Usage(string message) => Error(UsageError, message, ExitCodes.Usage);

    public void Progress(string line)
    {
        if (!json)
        {
            stderr.WriteLine(line);
        }
    }

    /// <summary>A warning a person must see, with or without <c>--json</c> (standard error, so the JSON answer stays one document).</summary>
    public void Warning(string line) => stderr.WriteLine(line);

    public static string Serialize(object payload) => JsonSerializer.Serialize(payload, Options);
}
