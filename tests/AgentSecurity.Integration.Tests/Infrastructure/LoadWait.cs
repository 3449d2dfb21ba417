namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>Waits for a load's marker (a count reached), failing early with a worker's exception or with the load's state.</summary>
internal static class LoadWait
{
    public static async Task ForAsync(Task marker, IReadOnlyCollection<Task> workers, TimeSpan timeout, Func<string> state)
    {
        var expired = Task.Delay(timeout);
        var done = await Task.WhenAny([marker, expired, .. workers]);
        if (done == marker)
        {
            return;
        }

        if (done != expired && done.IsFaulted)
        {
            await done; // a worker failed: its exception is the test's failure
        }

        throw new TimeoutException($"the load did not reach its mark in {timeout.TotalSeconds:F0} s: {state()}");
    }
}
