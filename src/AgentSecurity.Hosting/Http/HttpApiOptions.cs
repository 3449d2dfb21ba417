using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting.Http;

/// <summary>The limits of the silo's HTTP API (configuration section <c>AgentSecurity:Http</c>).</summary>
public sealed class HttpApiOptions
{
    public const string SectionName = "AgentSecurity:Http";

    /// <summary>The largest request body read (default 64 KiB); a larger one is refused with 413 <c>too_large</c> unread.</summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>The most evaluations one <c>POST /access/v1/evaluations</c> may carry (default 64); more is 400 <c>too_large</c>.</summary>
    public int MaxEvaluations { get; set; } = 64;

    /// <summary>Event streams (<c>GET /v1/tenants/{tenant}/events</c>) this silo serves at once (default 256); past it, 503.</summary>
    public int MaxEventStreams { get; set; } = 256;

    /// <summary>Event streams one principal may hold on this silo at once (default 8); past it, 503.</summary>
    public int MaxEventStreamsPerPrincipal { get; set; } = 8;

    /// <summary>Events an event stream holds for a client that reads slower than they come (default 1024); past it the stream ends.</summary>
    public int EventStreamBuffer { get; set; } = 1024;

    /// <summary>How long an event stream may stay silent before it sends a keep-alive (default 30 s).</summary>
    public TimeSpan EventStreamKeepAlive { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The address PEPs reach this silo's API at, as the AuthZEN metadata's <c>policy_decision_point</c>
    /// (<c>https://pdp.example.com</c>); unset, the scheme and host of the request that asks.
    /// </summary>
    public Uri? PublicBaseUrl { get; set; }
}

/// <summary>Refuses to start a silo whose HTTP limits would be unbounded or unusable, naming each setting out of bounds.</summary>
public sealed class HttpApiOptionsValidator : IValidateOptions<HttpApiOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpApiOptions options)
    {
        var failures = new List<string>();
        void Require(bool holds, string setting, string rule, object? value)
        {
            if (!holds)
            {
                failures.Add($"{HttpApiOptions.SectionName}:{setting} {rule}; got {value}");
            }
        }

        Require(options.MaxBodyBytes is >= 1024 and <= 1024 * 1024, "MaxBodyBytes", "must be 1 KiB to 1 MiB", options.MaxBodyBytes);
        Require(options.MaxEvaluations is >= 1 and <= 1000, "MaxEvaluations", "must be 1 to 1000", options.MaxEvaluations);
        Require(options.MaxEventStreams > 0, "MaxEventStreams", "must be positive", options.MaxEventStreams);
        Require(options.MaxEventStreamsPerPrincipal > 0 && options.MaxEventStreamsPerPrincipal <= options.MaxEventStreams, "MaxEventStreamsPerPrincipal",
            "must be positive and at most MaxEventStreams", options.MaxEventStreamsPerPrincipal);
        Require(options.EventStreamBuffer > 0, "EventStreamBuffer", "must be positive", options.EventStreamBuffer);
        Require(options.EventStreamKeepAlive >= TimeSpan.FromSeconds(1) && options.EventStreamKeepAlive <= TimeSpan.FromMinutes(5),
            "EventStreamKeepAlive", "must be 1 second to 5 minutes", options.EventStreamKeepAlive);
        Require(options.PublicBaseUrl is null || (options.PublicBaseUrl.IsAbsoluteUri && options.PublicBaseUrl.Scheme is "https" or "http"
                && string.IsNullOrEmpty(options.PublicBaseUrl.Query) && string.IsNullOrEmpty(options.PublicBaseUrl.Fragment)),
            "PublicBaseUrl", "must be an absolute http(s) URL without query or fragment", options.PublicBaseUrl);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
