namespace AgentSecurity.Grains.Outbox;

/// <summary>Grain state that carries the security events of its changes until they are published.</summary>
public interface IOutboxState
{
    /// <summary>
    /// Security events of changes, written with the change and published after it: an event whose publication failed,
    /// or whose silo died before it, is published when the grain is next active.
    /// </summary>
    IReadOnlyList<string> PendingEvents { get; }

    /// <summary>Adds the events of a change (to the copy the change is made on).</summary>
    /// <remarks>Methods rather than a mutable list: a state may keep no list at all while it has no event (an agent's).</remarks>
    void AddPendingEvents(IEnumerable<string> events);

    /// <summary>Removes the events that were published.</summary>
    void RemovePendingEvents(IReadOnlySet<string> published);
}
