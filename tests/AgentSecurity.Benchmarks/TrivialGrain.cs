namespace AgentSecurity.Benchmarks;

/// <summary>A grain that holds nothing: the baseline of what Orleans itself keeps per activation.</summary>
public interface ITrivialGrain : IGrainWithStringKey
{
    Task PingAsync();
}

/// <inheritdoc cref="ITrivialGrain"/>
public sealed class TrivialGrain : Grain, ITrivialGrain
{
    public Task PingAsync() => Task.CompletedTask;
}
