namespace AgentSecurity.Grains;

/// <summary>
/// The kernel reads time from the <see cref="TimeProvider"/> registered under <see cref="ServiceKey"/>. Orleans
/// resolves any key it does not know to the process clock, so production needs nothing; tests register a
/// <c>FakeTimeProvider</c> under this key and move grant time without moving the silo's own timers.
/// </summary>
public static class KernelClock
{
    public const string ServiceKey = "agentsec";
}
