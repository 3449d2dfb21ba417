using System.Globalization;
using System.Text;

namespace AgentSecurity.Grants.Json;

/// <summary>ECMAScript's Number::toString (ECMA-262 §6.1.6.1.20), which RFC 8785 prescribes for numbers.</summary>
public static class EcmaScriptNumber
{
    public static string Format(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), "JSON has no NaN or infinity");
        }

        if (value == 0)
        {
            return "0"; // also -0
        }

        if (value < 0)
        {
            return "-" + Format(-value);
        }

        // .NET's "R" gives the shortest digits that round-trip, as ECMAScript requires; only the layout differs.
        var (digits, n) = ShortestDigits(value);
        var k = digits.Length;
        var builder = new StringBuilder();
        if (k <= n && n <= 21)
        {
            builder.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            builder.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            builder.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            builder.Append(digits[0]);
            if (k > 1)
            {
                builder.Append('.').Append(digits, 1, k - 1);
            }

            var exponent = n - 1;
            builder.Append('e').Append(exponent < 0 ? '-' : '+').Append(Math.Abs(exponent).ToString(CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }

    /// <summary>The digits s and exponent n with value = 0.s × 10^n, s without leading or trailing zeros.</summary>
    private static (string Digits, int N) ShortestDigits(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var exponent = 0;
        var e = text.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(text.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..e];
        }

        var point = text.IndexOf('.', StringComparison.Ordinal);
        var integerDigits = point >= 0 ? point : text.Length;
        var digits = text.Replace(".", string.Empty, StringComparison.Ordinal);
        var leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        return (digits, integerDigits - leadingZeros + exponent);
    }
}
