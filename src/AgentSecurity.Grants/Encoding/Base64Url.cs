namespace AgentSecurity.Grants.Encoding;

/// <summary>
/// Base64url without padding (RFC 4648 §5), decoded strictly: no padding, no whitespace, no characters of the
/// standard alphabet, and no bits set in the unused tail, so every byte string has exactly one spelling.
/// </summary>
public static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 4 == 1)
        {
            return false;
        }

        foreach (var c in text)
        {
            var ok = c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_';
            if (!ok)
            {
                return false;
            }
        }

        var standard = text.Replace('-', '+').Replace('_', '/');
        standard += new string('=', (4 - (standard.Length % 4)) % 4);
        var decoded = Convert.FromBase64String(standard);

        // Convert accepts set tail bits; re-encoding shows whether the input was the canonical spelling.
        if (!string.Equals(Encode(decoded), text, StringComparison.Ordinal))
        {
            return false;
        }

        bytes = decoded;
        return true;
    }
}
