using System.Text.Json;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.AI.Guard;
using AgentSecurity.AI.Telemetry;
using AgentSecurity.Grants;
using Microsoft.Extensions.AI;

namespace AgentSecurity.AI.Tools;

/// <summary>
/// A function under the agent's grant: every invocation is decided by the agent's grain first (<c>tool:call</c> and the
/// resources its arguments map to) with the arguments the model really gave, and a refusal is the function's result
/// (<c>reason: message</c>), which tells the model why, rather than an exception. <see cref="Offered"/> says whether the
/// model is shown it; a function not offered is still here, so that a model naming it anyway is refused and audited.
/// </summary>
internal sealed class GuardedFunction(AIFunction inner, AgentGuard guard, bool offered) : DelegatingAIFunction(inner)
{
    /// <summary>Whether the grant gives the tool now, so the model is shown it.</summary>
    public bool Offered { get; } = offered;

    /// <summary>The tool the grant names: <c>server/tool</c> by the configured naming.</summary>
    public string Tool => guard.ToolOf(InnerFunction.Name);

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        var tool = Tool;
        var decision = (await DecideAsync(arguments, cancellationToken).ConfigureAwait(false)).Decision;
        if (!decision.Allowed)
        {
            Log.ToolRefused(guard.Logger, guard.Agent, tool, decision.Reason);
            return Refusals.Text(decision);
        }

        return await base.InvokeCoreAsync(arguments, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Decides (and audits) a call of this function with <paramref name="arguments"/>, without invoking it.</summary>
    public async Task<ToolCallDecision> DecideAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        var tool = Tool;
        if (Json(arguments) is not { } json)
        {
            return new() { Decision = Decision.Deny(ReasonCodes.InvalidRequest, $"the arguments of {tool} cannot be read as JSON, so what they name cannot be checked") };
        }

        // Arguments a map cannot read are refused here, as the MCP gateway refuses them: nothing could be asked about them.
        if (!guard.Options.Arguments.Map(InnerFunction.Name, json).TryGetValue(out var mapped, out var failure))
        {
            return new() { Decision = Decision.Deny(failure.Code, failure.Message) };
        }

        return await guard.CheckToolCallAsync(new ToolCall { Tool = tool, Resources = [.. mapped.Select(m => m.Check)] }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The arguments as JSON, as a map reads them; null when one cannot be written as JSON.</summary>
    private static Dictionary<string, JsonElement>? Json(AIFunctionArguments arguments)
    {
        try
        {
            return arguments.ToDictionary(a => a.Key, a => a.Value is JsonElement element
                ? element
                : JsonSerializer.SerializeToElement(a.Value, AIJsonUtilities.DefaultOptions), StringComparer.Ordinal);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            return null;
        }
    }
}
