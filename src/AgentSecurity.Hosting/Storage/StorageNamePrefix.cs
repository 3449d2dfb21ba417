using System.Security.Cryptography;
using System.Text;

namespace AgentSecurity.Hosting.Storage;

/// <summary>The prefix of the kernel's storage names: the configured one checked, or one made from the service id.</summary>
public static class StorageNamePrefix
{
    /// <summary>Characters of a made prefix kept from the service id, before the hash.</summary>
    private const int KeptCharacters = 15;

    /// <summary>The prefix to use, or why there is none (the silo refuses to start with that message).</summary>
    public static (string? Prefix, string? Error) Resolve(string? configured, string serviceId)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            return IsValid(configured)
                ? (configured, null)
                : (null, $"{AgentSecurityStorageOptions.SectionName}:NamePrefix \"{configured}\" must be a lowercase letter followed by lowercase letters or digits, at most {AgentSecurityStorageOptions.MaxNamePrefixLength} characters");
        }

        return string.IsNullOrEmpty(serviceId)
            ? (null, $"no service id to make a storage name prefix of: set {AgentSecurityStorageOptions.SectionName}:NamePrefix")
            : (FromServiceId(serviceId), null);
    }

    /// <summary>
    /// The service id itself when it is a valid prefix (<c>agentsec</c>); otherwise its letters and digits in lowercase
    /// (at most 15, after an <c>s</c> when they do not start with a letter) and 8 hex digits of the SHA-256 of the exact
    /// service id. Two service ids never share a prefix by differing only in case or punctuation (<c>Agent-Sec</c> and
    /// <c>agentsec</c>), or past a cut.
    /// </summary>
    public static string FromServiceId(string serviceId)
    {
        if (IsValid(serviceId))
        {
            return serviceId;
        }

        var kept = new StringBuilder(KeptCharacters + 9);
        foreach (var c in serviceId.ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                kept.Append(c);
            }
        }

        if (kept.Length == 0 || kept[0] is < 'a' or > 'z')
        {
            kept.Insert(0, 's');
        }

        kept.Length = Math.Min(kept.Length, KeptCharacters);
        return kept + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(serviceId)))[..8];
    }

    public static bool IsValid(string prefix) =>
        prefix.Length is > 0 and <= AgentSecurityStorageOptions.MaxNamePrefixLength
        && prefix[0] is >= 'a' and <= 'z'
        && prefix.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9');
}
