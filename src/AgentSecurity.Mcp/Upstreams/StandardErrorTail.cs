using System.Text;

namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// Drains an upstream's standard error (a full pipe would block it) and keeps its last characters, which say why it
/// exited. Read in blocks rather than lines, so an endless line costs no memory either.
/// </summary>
internal sealed class StandardErrorTail(int maxChars = 2048)
{
    private readonly StringBuilder _tail = new();
    private readonly Lock _sync = new();

    public string Text
    {
        get
        {
            lock (_sync)
            {
                return _tail.ToString().Trim();
            }
        }
    }

    public async Task PumpAsync(TextReader reader, Action<string> onBlock)
    {
        var buffer = new char[4096];
        try
        {
            int read;
            while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                lock (_sync)
                {
                    _tail.Append(buffer, 0, read);
                    if (_tail.Length > maxChars)
                    {
                        _tail.Remove(0, _tail.Length - maxChars);
                    }
                }

                onBlock(new string(buffer, 0, read).TrimEnd());
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The process is gone; what was read is the tail.
        }
    }
}
