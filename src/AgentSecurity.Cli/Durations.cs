using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentSecurity.Cli;

/// <summary>Durations on the command line: <c>90s</c>, <c>15m</c>, <c>24h</c>, <c>7d</c>, or combined, <c>1h30m</c>.</summary>
internal static partial class Durations
{
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var match = text is null ? Match.Empty : Pattern().Match(text);
        if (!match.Success || text!.Length == 0)
        {
            return false;
        }

        foreach (Capture capture in match.Groups["part"].Captures)
        {
            var value = long.Parse(capture.Value[..^1], CultureInfo.InvariantCulture);
            duration += capture.Value[^1] switch
            {
                'd' => TimeSpan.FromDays(value),
                'h' => TimeSpan.FromHours(value),
                'm' => TimeSpan.FromMinutes(value),
                _ => TimeSpan.FromSeconds(value),
            };
        }

        return duration > TimeSpan.Zero;
    }

    [GeneratedRegex(@"\A(?<part>[0-9]{1,6}[dhms])+\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
