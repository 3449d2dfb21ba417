using System.Net;
using System.Net.Sockets;

namespace AgentSecurity.Testing;

/// <summary>Loopback ports nobody listens on right now, for processes a test starts.</summary>
public static class FreePorts
{
    private static readonly HashSet<int> Handed = [];

    public static int Next()
    {
        lock (Handed)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                // Never hand out the same port twice in one test run, even after its listener is gone.
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }
    }

    public static bool IsListening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static async Task WaitUntilListeningAsync(int port, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!IsListening(port))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"nothing listens on {port} after {timeout}: {describe()}");
            }

            await Task.Delay(100); // a poll of another process's port with a deadline
        }
    }
}
