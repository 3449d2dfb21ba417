namespace AgentSecurity.Grains.Memory;

/// <summary>
/// Where agents' memory values live, one entry per key. Only an agent grain calls it, and only with its own key,
/// after deciding the operation; nothing reaches it from outside the grain. Keys arrive in normal form.
/// </summary>
public interface IAgentMemoryStore
{
    /// <summary>Every key of the agent with the size of its value.</summary>
    Task<IReadOnlyDictionary<string, long>> ListAsync(string agent, CancellationToken cancellation = default);

    Task<byte[]?> GetAsync(string agent, string key, CancellationToken cancellation = default);

    Task PutAsync(string agent, string key, byte[] value, CancellationToken cancellation = default);

    Task DeleteAsync(string agent, string key, CancellationToken cancellation = default);
}
