using System.Net;
using System.Net.Sockets;
using AgentSecurity.Sandbox;
using AgentSecurity.Sandbox.Workspaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Execution;

/// <summary>What executions need on a silo: its runtimes, its options, its execution slots, and the ways out that host calls take.</summary>
public sealed class ExecutionServices : IDisposable
{
    private int _running;

    public ExecutionServices(IEnumerable<ISandboxRuntime> runtimes, IOptions<SandboxOptions> options, IServiceProvider services)
    {
        Options = options.Value;
        Workspaces = new WorkspaceOptions { Root = Options.WorkspaceRoot, FirstUserId = Options.FirstUserId, UserIdCount = Options.UserIdCount };
        Runtimes = runtimes.ToDictionary(r => r.Name, StringComparer.Ordinal);
        Llm = services.GetService<ILlmProvider>();
        VectorDb = services.GetService<IVectorDbProvider>();
        Http = new HttpClient(new SocketsHttpHandler
        {
            // A redirect would go wherever the server says, past the check on the host the agent asked for.
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectCallback = ConnectCheckedAsync,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        })
        {
            Timeout = Options.HttpTimeout,
        };
    }

    public SandboxOptions Options { get; }

    public WorkspaceOptions Workspaces { get; }

    /// <summary>Executions running on this silo now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Takes one of the silo's execution slots (<see cref="SandboxOptions.MaxExecutionsPerSilo"/>), or says there is none.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _running) <= Options.MaxExecutionsPerSilo)
        {
            return true;
        }

        Interlocked.Decrement(ref _running);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _running);

    public IReadOnlyDictionary<string, ISandboxRuntime> Runtimes { get; }

    /// <summary>Outbound HTTP for <c>http.fetch</c>: no redirects, no cookies, no names that resolve to this machine's or private networks.</summary>
    public HttpClient Http { get; }

    public ILlmProvider? Llm { get; }

    public IVectorDbProvider? VectorDb { get; }

    public void Dispose() => Http.Dispose();

    /// <summary>
    /// A grant names hosts; DNS decides where a name leads. A name that resolves to loopback, link-local or private
    /// addresses would reach the silo's own services or the platform's network under a harmless-looking name, so only
    /// a grant that names such an address literally (e.g. <c>127.0.0.1:8080</c>) reaches it.
    /// </summary>
    private static async ValueTask<Stream> ConnectCheckedAsync(SocketsHttpConnectionContext context, CancellationToken cancellation)
    {
        var host = context.DnsEndPoint.Host;
        var literal = IPAddress.TryParse(host.Trim('[', ']'), out var parsed);
        var addresses = literal ? [parsed!] : await Dns.GetHostAddressesAsync(host, cancellation);
        if (!literal && addresses.Any(IsInternal))
        {
            throw new InternalAddressException($"{host} resolves to a loopback or private address; only a grant that names the address itself reaches it");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellation);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Whether a URL names a loopback, link-local or private address literally.</summary>
    public static bool IsInternal(Uri uri) => IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IsInternal(address);

    private static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return true;
        }

        var b = address.GetAddressBytes();
        return address.AddressFamily == AddressFamily.InterNetwork &&
            (b[0] is 10 or 0 || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] is >= 64 and <= 127));
    }
}

/// <summary>A name that resolved to an address the grant did not name (loopback, private): refused before connecting.</summary>
internal sealed class InternalAddressException(string message) : IOException(message);
