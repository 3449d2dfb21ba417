using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grants.Quotas;

/// <summary>The limits of <c>resourceLimits</c> that a check can meter, what each meters and at what cost.</summary>
public enum MeteredLimit
{
    /// <summary>Every check costs one; over it is <c>rate_limited</c>.</summary>
    ChecksPerSecond,

    /// <summary><c>network:outbound</c> and <c>network:inbound</c> cost one each.</summary>
    NetworkRequestsPerMinute,

    /// <summary><c>llm</c> costs the request's amount (tokens).</summary>
    LlmTokensPerHour,

    /// <summary><c>fileSystem:write</c> costs the request's amount (bytes).</summary>
    FileBytesWrittenPerHour,
}

public static class MeteredLimits
{
    /// <summary>What <see cref="CostOf"/> answers for a limit metered by amount when the request has none.</summary>
    public const long AmountRequired = -1;

    public static readonly IReadOnlyList<MeteredLimit> All = Enum.GetValues<MeteredLimit>();

    public static string Name(this MeteredLimit limit) => limit switch
    {
        MeteredLimit.ChecksPerSecond => "checksPerSecond",
        MeteredLimit.NetworkRequestsPerMinute => "networkRequestsPerMinute",
        MeteredLimit.LlmTokensPerHour => "llmTokensPerHour",
        _ => "fileBytesWrittenPerHour",
    };

    public static TimeSpan Period(this MeteredLimit limit) => limit switch
    {
        MeteredLimit.ChecksPerSecond => TimeSpan.FromSeconds(1),
        MeteredLimit.NetworkRequestsPerMinute => TimeSpan.FromMinutes(1),
        _ => TimeSpan.FromHours(1),
    };

    public static long? ValueIn(this MeteredLimit limit, ResourceLimits limits) => limits.Get(limit.Name());

    public static bool TryParse(string? name, out MeteredLimit limit)
    {
        foreach (var candidate in All)
        {
            if (candidate.Name() == name)
            {
                limit = candidate;
                return true;
            }
        }

        limit = default;
        return false;
    }

    /// <summary>The reason code of a request that does not fit.</summary>
    public static string DenialReason(this MeteredLimit limit) =>
        limit == MeteredLimit.ChecksPerSecond ? ReasonCodes.RateLimited : ReasonCodes.QuotaExceeded;

    /// <summary>
    /// What the check costs against this limit: null when the limit does not meter it, else the cost (one, or the
    /// request's amount for limits metered by amount; those need an amount).
    /// </summary>
    public static long? CostOf(this MeteredLimit limit, CheckKind kind, long? amount) => limit switch
    {
        MeteredLimit.ChecksPerSecond => 1,
        MeteredLimit.NetworkRequestsPerMinute when kind is CheckKind.NetworkOutbound or CheckKind.NetworkInbound => 1,
        MeteredLimit.LlmTokensPerHour when kind == CheckKind.Llm => amount ?? AmountRequired,
        MeteredLimit.FileBytesWrittenPerHour when kind == CheckKind.FileSystemWrite => amount ?? AmountRequired,
        _ => null,
    };
}
