using AgentSecurity.Grants.Tools;
using AgentSecurity.Mcp.Upstreams;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Mcp.Gateway;

/// <summary>Refuses gateway settings it must not run with: unnamed or duplicate upstreams, no command or URL, a URL that is not safe to send calls to, bounds that are not bounds.</summary>
public sealed class McpGatewayOptionsValidator : IValidateOptions<McpGatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, McpGatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var upstream in options.Upstreams)
        {
            if (!ToolNames.IsName(upstream.Name))
            {
                failures.Add($"upstream name \"{upstream.Name}\" is not a tool name: [A-Za-z0-9][A-Za-z0-9._-]{{0,63}}");
            }
            else if (!names.Add(upstream.Name))
            {
                failures.Add($"upstream name \"{upstream.Name}\" is given twice");
            }

            if (upstream.Url is null && string.IsNullOrWhiteSpace(upstream.Command))
            {
                failures.Add($"upstream {upstream.Name} has no command and no URL");
            }

            failures.AddRange(UrlProblems(upstream).Select(p => $"upstream {upstream.Name}: {p}"));
        }

        if (options.MaxResultBytes < 1024)
        {
            failures.Add("MaxResultBytes is at least 1024");
        }

        if (options.MaxLineBytes <= options.MaxResultBytes)
        {
            failures.Add("MaxLineBytes is larger than MaxResultBytes (a result travels in one line with its envelope)");
        }

        if (options.CallTimeout <= TimeSpan.Zero || options.InitializationTimeout <= TimeSpan.Zero)
        {
            failures.Add("CallTimeout and InitializationTimeout are positive");
        }

        if (options.RestartBackoff < TimeSpan.Zero || options.MaxRestartBackoff < options.RestartBackoff)
        {
            failures.Add("RestartBackoff is at least 0 and at most MaxRestartBackoff");
        }

        if (options.MaxToolsPerUpstream < 1)
        {
            failures.Add("MaxToolsPerUpstream is at least 1");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>What is wrong with an upstream's URL and headers: none for a command upstream without headers.</summary>
    public static IEnumerable<string> UrlProblems(UpstreamOptions upstream)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        if (upstream.Url is not { } url)
        {
            if (upstream.Headers.Count > 0)
            {
                yield return "Headers are for a URL upstream";
            }

            yield break;
        }

        if (!string.IsNullOrWhiteSpace(upstream.Command))
        {
            yield return "give a command or a URL, not both";
        }

        if (!url.IsAbsoluteUri)
        {
            yield return $"the URL \"{url}\" is not absolute";
            yield break;
        }

        if (url.Scheme != Uri.UriSchemeHttps && !(url.Scheme == Uri.UriSchemeHttp && url.IsLoopback))
        {
            yield return $"the URL \"{url}\" is https, or http to a loopback address (the tool calls and the headers travel in it)";
        }

        if (url.UserInfo.Length > 0)
        {
            yield return "the URL holds a user or password: give credentials as Headers";
        }

        if (url.Fragment.Length > 0)
        {
            yield return "the URL has a fragment";
        }

        foreach (var (name, value) in upstream.Headers)
        {
            if (ReservedHeaders.Contains(name) || name.StartsWith("Mcp-", StringComparison.OrdinalIgnoreCase))
            {
                yield return $"the header {name} is set by the gateway";
            }
            else if (value.Any(c => c is '\r' or '\n' or '\0'))
            {
                yield return $"the header {name} has a line break or NUL in its value";
            }
            else if (!IsRequestHeader(name, value))
            {
                yield return $"the header \"{name}\" is not a request header: not an HTTP token, or a content header such as Content-Encoding";
            }
        }
    }

    /// <summary>Headers the MCP transport sets itself (and every <c>Mcp-*</c> one); a configured one would break or spoof the session.</summary>
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Accept", "Connection", "Content-Length", "Content-Type", "Host", "Last-Event-ID", "Transfer-Encoding",
    };

    /// <summary>What the transport could send: a valid name (an HTTP token) of a request header, not a content header.</summary>
    private static bool IsRequestHeader(string name, string value)
    {
        using var request = new HttpRequestMessage();
        return name.Length > 0 && request.Headers.TryAddWithoutValidation(name, value);
    }
}
