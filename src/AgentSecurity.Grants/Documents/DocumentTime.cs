using System.Globalization;

namespace AgentSecurity.Grants.Documents;

/// <summary>Times in documents: RFC 3339 UTC with whole seconds, exactly <c>YYYY-MM-DDTHH:MM:SSZ</c>.</summary>
public static class DocumentTime
{
    private const string Format = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'";

    public static string ToText(DateTimeOffset time) =>
        time.ToUniversalTime().ToString(Format, CultureInfo.InvariantCulture);

    public static bool TryParse(string text, out DateTimeOffset time)
    {
        time = default;
        // ParseExact alone tolerates neither more nor less, but check the shape first so that no culture or
        // style flag can ever widen what is accepted.
        if (text.Length != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != 'Z')
        {
            return false;
        }

        foreach (var i in (ReadOnlySpan<int>)[0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
        {
            if (!char.IsAsciiDigit(text[i]))
            {
                return false;
            }
        }

        return DateTimeOffset.TryParseExact(text, Format, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }

    /// <summary>Truncates to whole seconds, as documents carry them.</summary>
    public static DateTimeOffset WholeSeconds(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
