namespace AgentSecurity.Abstractions.Audit;

/// <summary>
/// A subscriber to a tenant's security events, through the cluster (no storage keys): the tenant's audit grain sends it
/// each event once it is in the log, in log order, with its sequence number.
/// </summary>
public interface ISecurityEventObserver : IGrainObserver
{
    Task OnEventsAsync(IReadOnlyList<LoggedEvent> events);
}

/// <summary>An event as the tenant's log holds it: its place in the log and the event.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.LoggedEvent.v1")]
public sealed record LoggedEvent([property: Id(0)] long Sequence, [property: Id(1)] SecurityEvent Event);
