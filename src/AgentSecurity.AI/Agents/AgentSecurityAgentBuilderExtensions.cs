using AgentSecurity.Abstractions;
using AgentSecurity.AI.Agents;
using AgentSecurity.AI.Guard;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

// The framework's own namespace, as its other Use* extensions are: found where the builder is.
namespace Microsoft.Agents.AI;

public static class AgentSecurityAgentBuilderExtensions
{
    /// <summary>
    /// Puts the agent under <paramref name="agent"/>'s grant: a run of an agent that is quarantined, suspended or without
    /// a grant is refused whole (one assistant message <c>reason: message</c>, no model or tool call), and each run's chat
    /// client goes through the same guard as <c>ChatClientBuilder.UseAgentSecurity</c>. The agent must be a
    /// <see cref="ChatClientAgent"/> (or built over one). For one check per model call (rather than per request of the
    /// agent's own function invocation), create it with <c>UseProvidedChatClientAsIs = true</c>: the guard adds the
    /// function invocation.
    /// </summary>
    public static AIAgentBuilder UseAgentSecurity(this AIAgentBuilder builder, IAgentGrain agent, Action<AgentSecurity.AI.AgentGuardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(agent);
        var options = new AgentSecurity.AI.AgentGuardOptions();
        configure?.Invoke(options);
        options.Validate();
        return builder.Use((inner, services) =>
        {
            var loggers = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
            var guard = new AgentGuard(agent, options, loggers.CreateLogger("AgentSecurity.AI"));
            return new GuardedAgent(inner, guard, client => AgentSecurityChatClientBuilderExtensions.Guard(client, agent, options, services));
        });
    }
}
