using System.Text;

namespace AgentSecurity.Hosting.Storage;

/// <summary>The prefix of the kernel's storage names: the configured one checked, or one made from the service id.</summary>
public static class StorageNamePrefix
{
    /// <summary>The prefix to use, or why there is none (the silo refuses to start with that message).</summary>
    public static (string? Prefix, string? Error) Resolve(string? configured, string serviceId)
    {
        if (configured is not null)
        {
            return IsValid(configured)
                ? (configured, null)
                : (null, $"{AgentSecurityStorageOptions.SectionName}:NamePrefix \"{configured}\" must be a lowercase letter followed by lowercase letters or digits, at most {AgentSecurityStorageOptions.MaxNamePrefixLength} characters");
        }

        var derived = FromServiceId(serviceId);
        return IsValid(derived)
            ? (derived, null)
            : (null, $"the service id \"{serviceId}\" gives no storage name prefix (\"{derived}\"): set {AgentSecurityStorageOptions.SectionName}:NamePrefix");
    }

    /// <summary>
    /// The service id in lowercase with everything but letters and digits left out. Never cut short: two service ids
    /// that differ only past a cut would share state, so a service id too long for a prefix needs one set explicitly.
    /// </summary>
    public static string FromServiceId(string serviceId)
    {
        var prefix = new StringBuilder(serviceId.Length);
        foreach (var c in serviceId.ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                prefix.Append(c);
            }
        }

        return prefix.ToString();
    }

    public static bool IsValid(string prefix) =>
        prefix.Length is > 0 and <= AgentSecurityStorageOptions.MaxNamePrefixLength
        && prefix[0] is >= 'a' and <= 'z'
        && prefix.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9');
}
