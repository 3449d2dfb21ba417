using Azure.Core;

namespace AgentSecurity.Hosting.Storage;

/// <summary>
/// The retries of every storage client the kernel makes, bounded so that a call to storage that does not answer fails
/// well within a grain call's 30 s response timeout, and the caller hears <c>unavailable</c> from the grain rather
/// than a timeout while the grain still waits (the Azure SDK's defaults, 3 retries of up to 100 s each, can hold a
/// grain for minutes). A refused connection (storage down) fails in about 1.2 s; a storage that accepts connections
/// but does not answer, in at most 3 × <see cref="NetworkTimeout"/> plus the delays.
/// </summary>
public static class StorageRetry
{
    /// <summary>How long one try waits for storage's answer.</summary>
    public static readonly TimeSpan NetworkTimeout = TimeSpan.FromSeconds(8);

    /// <summary>Tries after the first.</summary>
    public const int MaxRetries = 2;

    /// <summary>The first retry's delay, doubled for the next.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(400);

    /// <summary>Sets <paramref name="options"/>' retries to the kernel's bounds and returns them.</summary>
    public static T Bounded<T>(T options)
        where T : ClientOptions
    {
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = MaxRetries;
        options.Retry.Delay = Delay;
        options.Retry.MaxDelay = Delay * 4;
        options.Retry.NetworkTimeout = NetworkTimeout;
        return options;
    }
}
