using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Cli;

/// <summary>Times on the command line, written as documents write them (<c>YYYY-MM-DDTHH:MM:SSZ</c>).</summary>
internal static class CliTime
{
    public static DateTimeOffset Now => DocumentTime.WholeSeconds(TimeProvider.System.GetUtcNow());

    /// <summary>True for absent (null) or well-formed text.</summary>
    public static bool TryParseOptional(string? text, out DateTimeOffset? time)
    {
        time = null;
        if (text is null)
        {
            return true;
        }

        if (!DocumentTime.TryParse(text, out var parsed))
        {
            return false;
        }

        time = parsed;
        return true;
    }
}
