using AgentSecurity.Grants.Tools;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Mcp.Gateway;

/// <summary>Refuses gateway settings it must not run with: unnamed or duplicate upstreams, no command, bounds that are not bounds.</summary>
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

            if (string.IsNullOrWhiteSpace(upstream.Command))
            {
                failures.Add($"upstream {upstream.Name} has no command");
            }
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
}
