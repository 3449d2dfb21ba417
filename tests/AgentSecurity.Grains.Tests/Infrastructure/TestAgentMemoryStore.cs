using System.Collections.Concurrent;
using AgentSecurity.Grains.Memory;

namespace AgentSecurity.Grains.Tests.Infrastructure;

/// <summary>
/// Agent memory in process memory, shared by the test cluster's silos, for grain logic tests (the Azure Blob store is
/// exercised by the integration tests). Lets tests look at what each agent really stored, and make it fail.
/// </summary>
public sealed class TestAgentMemoryStore : IAgentMemoryStore
{
    public static readonly TestAgentMemoryStore Shared = new();

    private readonly ConcurrentDictionary<(string Agent, string Key), byte[]> _values = new();
    private readonly ConcurrentDictionary<string, bool> _failing = new(StringComparer.Ordinal);

    public void FailFor(string agent) => _failing[agent] = true;

    /// <summary>Every (agent, key) stored, to show what landed where.</summary>
    public IReadOnlyCollection<(string Agent, string Key)> Entries => _values.Keys.ToList();

    public Task<IReadOnlyDictionary<string, long>> ListAsync(string agent, CancellationToken cancellation = default)
    {
        ThrowIfFailing(agent);
        return Task.FromResult<IReadOnlyDictionary<string, long>>(
            _values.Where(p => p.Key.Agent == agent).ToDictionary(p => p.Key.Key, p => (long)p.Value.Length, StringComparer.Ordinal));
    }

    public Task<byte[]?> GetAsync(string agent, string key, CancellationToken cancellation = default)
    {
        ThrowIfFailing(agent);
        return Task.FromResult(_values.TryGetValue((agent, key), out var value) ? value.ToArray() : null);
    }

    public Task PutAsync(string agent, string key, byte[] value, CancellationToken cancellation = default)
    {
        ThrowIfFailing(agent);
        _values[(agent, key)] = value.ToArray();
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string agent, string key, CancellationToken cancellation = default)
    {
        ThrowIfFailing(agent);
        _values.TryRemove((agent, key), out _);
        return Task.CompletedTask;
    }

    private void ThrowIfFailing(string agent)
    {
        if (_failing.ContainsKey(agent))
        {
            throw new IOException($"injected memory store failure for {agent}");
        }
    }
}
