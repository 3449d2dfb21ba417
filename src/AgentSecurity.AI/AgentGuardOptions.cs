using AgentSecurity.Mcp.Arguments;
using AgentSecurity.Grants.Tools;
using Microsoft.Extensions.AI;

namespace AgentSecurity.AI;

/// <summary>
/// How an agent's chat client or agent is put under its grant. Every setting has a default that works for a platform
/// whose functions are granted as <c>local/&lt;function name&gt;</c>; <see cref="Validate"/> runs when the guard is added.
/// </summary>
public sealed class AgentGuardOptions
{
    /// <summary>The prefix of <see cref="ToolName"/>'s default: functions are tools of the server <c>local</c>.</summary>
    public const string DefaultServer = "local";

    /// <summary>
    /// The tool (<c>server/tool</c>, as grants name it) a function is. Default <c>local/&lt;function name&gt;</c>. A name
    /// that is not a tool name is never offered, and a call of it is refused by the grain (<c>invalid_resource</c>).
    /// </summary>
    public Func<string, string> ToolName { get; set; } = static function => ToolNames.Of(DefaultServer, function);

    /// <summary>
    /// The arguments of functions that name resources (the MCP gateway's argument maps; an entry's tool is the
    /// function's own name), so a call is checked against the grant's scopes as well as <c>tool:call</c>. Default none.
    /// </summary>
    public ArgumentMap Arguments { get; set; } = ArgumentMap.Empty;

    /// <summary>
    /// The session every call to the agent's grain carries (<c>ClientSession.Current</c> of the platform's key). Default
    /// null: the session already in the flow (a grain serving a client's call, or one that set <c>CallerContext.UseSession</c>).
    /// </summary>
    public Func<string>? Session { get; set; }

    /// <summary>
    /// The model a call is metered as (the resource of its <c>llm</c> check) when the request names none
    /// (<see cref="ChatOptions.ModelId"/>) and the client's metadata has no default. Default <c>unknown</c>.
    /// </summary>
    public string Model { get; set; } = "unknown";

    /// <summary>
    /// The tokens a model call is checked for before it runs (1 to 1,000,000; default 1: refused once the budget is
    /// spent). What it really used is charged after, less these.
    /// </summary>
    public long TokensCheckedBeforeCall { get; set; } = 1;

    /// <summary>
    /// The model calls one request may make while the model asks for tools (1 to 1,000; default 10): a model that keeps
    /// asking for refused tools stops there, well below the kernel's deny-burst rule (50 in 10 s).
    /// </summary>
    public int MaximumIterationsPerRequest { get; set; } = 10;

    /// <summary>Anything else of the function-invoking client the guard adds (concurrency, detailed errors). Default none.</summary>
    public Action<FunctionInvokingChatClient>? ConfigureFunctionInvocation { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(ToolName, nameof(ToolName));
        ArgumentNullException.ThrowIfNull(Arguments, nameof(Arguments));
        ArgumentException.ThrowIfNullOrWhiteSpace(Model, nameof(Model));
        if (TokensCheckedBeforeCall is < 1 or > 1_000_000)
        {
            throw new ArgumentException($"TokensCheckedBeforeCall is 1 to 1000000, not {TokensCheckedBeforeCall}", nameof(TokensCheckedBeforeCall));
        }

        if (MaximumIterationsPerRequest is < 1 or > 1_000)
        {
            throw new ArgumentException($"MaximumIterationsPerRequest is 1 to 1000, not {MaximumIterationsPerRequest}", nameof(MaximumIterationsPerRequest));
        }
    }
}
