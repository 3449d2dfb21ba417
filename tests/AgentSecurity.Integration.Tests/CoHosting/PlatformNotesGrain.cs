using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Boundary;
using Orleans.Concurrency;
using Orleans.Runtime;
using Orleans.Streams;

namespace AgentSecurity.Integration.Tests.CoHosting;

/// <summary>A grain of the platform's own: notes in its state, and a subscription to a stream of its own.</summary>
public interface IPlatformNotesGrain : IGrainWithStringKey
{
    Task AddAsync(string note);

    Task<IReadOnlyList<string>> GetAsync();

    Task SubscribeAsync();

    Task<int> SubscriptionCountAsync();

    /// <summary>What arrived on the stream in this activation, once at least <paramref name="count"/> items have.</summary>
    /// <remarks>Interleaves: the deliveries it waits for are calls to this grain too.</remarks>
    [AlwaysInterleave]
    Task<IReadOnlyList<string>> WaitForReceivedAsync(int count);

    /// <summary>
    /// Asks the kernel, as a platform's grain does before it lets its agent act: with <paramref name="session"/> when given
    /// (the platform's principal); the reason code of the decision, or of the refused call.
    /// </summary>
    Task<string> CheckAsync(string tenant, string agent, string capability, string resource, string? session);

    /// <summary>What the request context of this call holds under <paramref name="key"/>, as text.</summary>
    Task<string?> RequestContextValueAsync(string key);

    /// <summary>What the request context held under the kernel's key at each stream delivery of this activation.</summary>
    Task<IReadOnlyList<string?>> KernelKeysAtDeliveryAsync();
}

/// <summary>
/// State as platforms write it for Orleans' default storage serializer (Newtonsoft.Json): a list behind a private
/// setter, which that serializer fills and System.Text.Json leaves empty.
/// </summary>
[GenerateSerializer]
public sealed class PlatformNotes
{
    [Id(0)] public List<string> Notes { get; private set; } = [];
}

public sealed class PlatformNotesGrain([PersistentState("notes")] IPersistentState<PlatformNotes> state) : Grain, IPlatformNotesGrain
{
    public const string StreamProvider = "platform-events";

    private readonly List<string> _received = [];
    private readonly List<string?> _kernelKeysAtDelivery = [];
    private readonly List<(int Count, TaskCompletionSource<IReadOnlyList<string>> Done)> _waiting = [];

    private IAsyncStream<string> Stream => this.GetStreamProvider(StreamProvider).GetStream<string>(StreamId.Create("notes", this.GetPrimaryKeyString()));

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var handle in await Stream.GetAllSubscriptionHandles())
        {
            await handle.ResumeAsync(OnNextAsync);
        }
    }

    public async Task AddAsync(string note)
    {
        state.State.Notes.Add(note);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> GetAsync() => Task.FromResult<IReadOnlyList<string>>([.. state.State.Notes]);

    public async Task SubscribeAsync() => await Stream.SubscribeAsync(OnNextAsync);

    public async Task<int> SubscriptionCountAsync() => (await Stream.GetAllSubscriptionHandles()).Count;

    public Task<IReadOnlyList<string>> WaitForReceivedAsync(int count)
    {
        if (_received.Count >= count)
        {
            return Task.FromResult<IReadOnlyList<string>>([.. _received]);
        }

        var done = new TaskCompletionSource<IReadOnlyList<string>>();
        _waiting.Add((count, done));
        return done.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task<string> CheckAsync(string tenant, string agent, string capability, string resource, string? session)
    {
        using var scope = session is null ? null : CallerContext.UseSession(session);
        try
        {
            return (await GrainFactory.GetGrain<IAgentGrain>(AgentKey.Of(tenant, agent)).CheckAsync(new CheckRequest(capability, resource))).Reason;
        }
        catch (CallRefusedException refused)
        {
            return refused.Code;
        }
    }

    public Task<string?> RequestContextValueAsync(string key) => Task.FromResult(RequestContext.Get(key)?.ToString());

    public Task<IReadOnlyList<string?>> KernelKeysAtDeliveryAsync() => Task.FromResult<IReadOnlyList<string?>>([.. _kernelKeysAtDelivery]);

    private Task OnNextAsync(string item, StreamSequenceToken? token)
    {
        // A delivery is Orleans' own call, which the silo stamps as the kernel's: the platform's grain must not keep that.
        _kernelKeysAtDelivery.Add(RequestContext.Get(CallerContext.KernelKey)?.ToString());
        _received.Add(item);
        foreach (var waiting in _waiting.Where(w => _received.Count >= w.Count).ToList())
        {
            _waiting.Remove(waiting);
            waiting.Done.TrySetResult([.. _received]);
        }

        return Task.CompletedTask;
    }
}
