namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// The user ids of live JavaScript workers, reserved machine-wide: several silos on one machine (<c>./run.sh --silos
/// 3</c>, a test cluster) share the configured range, and two workers with one user would share its process limit and
/// may signal each other's processes. A user is taken by holding an exclusive lock on a file named for it
/// (<c>flock</c>, which .NET takes for <see cref="FileShare.None"/>), which the kernel releases when the silo dies.
/// </summary>
internal sealed class JsWorkerUsers(string directory, uint first, uint count) : IDisposable
{
    private const UnixFileMode DirectoryMode = (UnixFileMode)0b111_000_000; // 0700

    private readonly Dictionary<uint, FileStream> _held = [];
    private readonly Lock _lock = new();
    private uint _next;

    /// <summary>A user no live worker of any silo on this machine has, or null when every one is taken.</summary>
    public uint? Take()
    {
        lock (_lock)
        {
            try
            {
                Directory.CreateDirectory(directory, DirectoryMode);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null; // no worker can start; executions wait for one and answer unavailable
            }

            for (var i = 0u; i < count; i++)
            {
                var user = first + ((_next + i) % count);
                if (_held.ContainsKey(user))
                {
                    continue;
                }

                try
                {
                    _held[user] = new FileStream(Path.Combine(directory, $"{user}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                    _next = (_next + i + 1) % count;
                    return user;
                }
                catch (IOException)
                {
                    // another silo's worker has it
                }
                catch (UnauthorizedAccessException)
                {
                    return null;
                }
            }

            return null;
        }
    }

    public void Release(uint user)
    {
        lock (_lock)
        {
            if (_held.Remove(user, out var held))
            {
                held.Dispose();
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var held in _held.Values)
            {
                held.Dispose();
            }

            _held.Clear();
        }
    }
}
