namespace AgentSecurity.Grains.Execution;

/// <summary>
/// Where <c>llm.complete</c> goes once the grant allows it: registered by the platform (the silo registers
/// <see cref="OpenAiCompatibleLlmProvider"/> when <c>AgentSecurity:Sandbox:LlmBaseUrl</c> is set). Agent code never
/// sees the provider's address or credentials.
/// </summary>
public interface ILlmProvider
{
    Task<string> CompleteAsync(string prompt, int maxTokens, CancellationToken cancellation);
}

/// <summary>
/// Where <c>vectordb.query</c> goes once the grant allows it, when the platform registers one; without one the call
/// answers <c>unavailable</c>.
/// </summary>
public interface IVectorDbProvider
{
    /// <summary>Results as JSON text.</summary>
    Task<string> QueryAsync(string collection, string query, CancellationToken cancellation);
}
