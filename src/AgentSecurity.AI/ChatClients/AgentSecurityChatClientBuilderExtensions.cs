using AgentSecurity.Abstractions;
using AgentSecurity.AI.ChatClients;
using AgentSecurity.AI.Guard;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

// The library's own namespace, as its other Use* extensions are: found where the builder is.
namespace Microsoft.Extensions.AI;

public static class AgentSecurityChatClientBuilderExtensions
{
    /// <summary>
    /// Puts the chat client under <paramref name="agent"/>'s grant, with function invocation: adds a
    /// <see cref="FunctionInvokingChatClient"/> (use it instead of <c>UseFunctionInvocation()</c>) between the guard's two
    /// parts. Only functions the grant gives are offered; every invocation is checked with its arguments and a refusal is
    /// its result (<c>reason: message</c>); tools that need approval go through the library's approval requests and the
    /// kernel's permission requests; each model call is checked as <c>llm</c> and charged its <see cref="UsageDetails"/>.
    /// </summary>
    /// <param name="builder">The chat client's builder.</param>
    /// <param name="agent">The agent's grain (<c>GetGrain&lt;IAgentGrain&gt;(AgentKey.Of(tenant, agent))</c>).</param>
    /// <param name="configure">Naming, argument maps, session, metering; see <see cref="AgentSecurity.AI.AgentGuardOptions"/>.</param>
    public static ChatClientBuilder UseAgentSecurity(this ChatClientBuilder builder, IAgentGrain agent, Action<AgentSecurity.AI.AgentGuardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(agent);
        var options = new AgentSecurity.AI.AgentGuardOptions();
        configure?.Invoke(options);
        options.Validate();
        return builder.Use((inner, services) => Guard(inner, agent, options, services));
    }

    /// <summary>The guard's pipeline over <paramref name="inner"/>: tool guard, function invocation, model guard.</summary>
    internal static IChatClient Guard(IChatClient inner, IAgentGrain agent, AgentSecurity.AI.AgentGuardOptions options, IServiceProvider? services)
    {
        var loggers = services?.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        var guard = new AgentGuard(agent, options, loggers.CreateLogger("AgentSecurity.AI"));
        var invoking = new FunctionInvokingChatClient(new ModelGuardChatClient(inner, guard), loggers, services)
        {
            MaximumIterationsPerRequest = options.MaximumIterationsPerRequest,
        };
        options.ConfigureFunctionInvocation?.Invoke(invoking);
        return new ToolGuardChatClient(invoking, guard);
    }
}
