namespace AgentSecurity.Grains.Outbox;

/// <summary>Grain state that carries the security events of its changes until they are published.</summary>
public interface IOutboxState
{
    /// <summary>
    /// Security events of changes, written with the change and published after it: an event whose publication failed,
    /// or whose silo died before it, is published when the grain is next active.
    /// </summary>
    List<string> PendingEvents { get; }
}
