using Orleans.Serialization;

namespace AgentSecurity.Grains.Outbox;

/// <summary>
/// State whose copy before a change may share what never changes in place with the state it copies, where the generated
/// copier would rebuild it member by member (a compact text decoded and encoded again on every write).
/// </summary>
internal interface ISharingCopyState<TState>
{
    /// <summary>A deep copy for a change: equal to <paramref name="copier"/>'s, sharing only immutable parts.</summary>
    TState CopyForChange(DeepCopier<TState> copier);
}
