using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Sandbox;
using AgentSecurity.Sandbox.Workspaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Execution;

/// <summary>
/// What executions need on a silo: its runtimes, its options, its execution slots, its agents' workspaces (which it
/// removes when idle), and the ways out that host calls take.
/// </summary>
public sealed class ExecutionServices : IDisposable
{
    private readonly Dictionary<string, int> _perTenant = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly ILogger<ExecutionServices> _logger;
    private int _running;

    public ExecutionServices(
        IEnumerable<ISandboxRuntime> runtimes,
        IOptions<SandboxOptions> options,
        [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
        ILogger<ExecutionServices> logger,
        IServiceProvider services)
    {
        Options = options.Value;
        _time = time;
        _logger = logger;
        Workspaces = new WorkspaceOptions
        {
            Root = Options.WorkspaceRoot,
            FirstUserId = Options.FirstUserId,
            UserIdCount = Options.UserIdCount,
            MaxBytes = Options.MaxWorkspaceBytes,
            MaxEntries = Options.MaxWorkspaceEntries,
        };
        Runtimes = runtimes.ToDictionary(r => r.Name, StringComparer.Ordinal);
        Llm = services.GetService<ILlmProvider>();
        VectorDb = services.GetService<IVectorDbProvider>();
        Http = new HttpClient(new SocketsHttpHandler
        {
            // A redirect would go wherever the server says, past the check on the host the agent asked for.
            AllowAutoRedirect = false,
            UseCookies = false,

            // A proxy from the silo's environment would be where the connection goes, and it reaches what this does not.
            UseProxy = false,
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

    /// <summary>Executions of <paramref name="tenant"/> running on this silo now.</summary>
    public int RunningFor(string tenant)
    {
        lock (_perTenant)
        {
            return _perTenant.GetValueOrDefault(tenant);
        }
    }

    /// <summary>
    /// Takes one of the silo's execution slots and one of the tenant's (<see cref="SandboxOptions.MaxExecutionsPerSilo"/>,
    /// <see cref="SandboxOptions.MaxExecutionsPerTenant"/>): null, or why there is none (<c>unavailable</c>: try again).
    /// </summary>
    public Failure? TryEnter(string tenant)
    {
        lock (_perTenant)
        {
            var tenantRunning = _perTenant.GetValueOrDefault(tenant);
            if (_running >= Options.MaxExecutionsPerSilo)
            {
                return new Failure(ReasonCodes.Unavailable, $"this silo is running its most executions at once ({Options.MaxExecutionsPerSilo}); try again");
            }

            if (tenantRunning >= Options.MaxExecutionsPerTenant)
            {
                return new Failure(ReasonCodes.Unavailable, $"the tenant is running its most executions at once on this silo ({Options.MaxExecutionsPerTenant}); try again");
            }

            _perTenant[tenant] = tenantRunning + 1;
            _running++;
            return null;
        }
    }

    public void Exit(string tenant)
    {
        lock (_perTenant)
        {
            _running--;
            if (--CollectionsMarshal.GetValueRefOrNullRef(_perTenant, tenant) == 0)
            {
                _perTenant.Remove(tenant);
            }
        }
    }

    /// <summary>Holds an agent's workspace for an execution (<see cref="WorkspaceHold"/>): null while it is being removed.</summary>
    public WorkspaceHold? HoldWorkspace(string tenant, string agent) => WorkspaceHold.ForExecution(Workspaces, tenant, agent, _time);

    /// <summary>
    /// Removes the workspaces of this machine that no execution has used for <see cref="SandboxOptions.WorkspaceRetention"/>,
    /// with the user ids they were given: agents come and go, and their scratch space must not stay behind. Only
    /// workspaces the silos registered are candidates, and one in use on any silo of the machine is left alone.
    /// Returns how many were removed.
    /// </summary>
    public int RemoveIdleWorkspaces()
    {
        var removed = 0;
        foreach (var (tenant, agent, entry) in WorkspaceHold.Registered(Workspaces).ToList())
        {
            var key = $"{tenant}/{agent}";
            try
            {
                if (!Identifiers.IsTenantId(tenant) || !Identifiers.IsAgentId(agent) || !IsIdle(entry, out _))
                {
                    continue;
                }

                using var hold = WorkspaceHold.ForRemoval(entry);
                if (hold is null || !IsIdle(entry, out var idle)) // in use, or used just before the lock was taken
                {
                    continue;
                }

                AgentWorkspace.Remove(Workspaces, tenant, agent);
                hold.Forget();
                removed++;
                Log.WorkspaceRemoved(_logger, key, idle);
            }
#pragma warning disable CA1031 // One workspace that cannot be removed does not stop the sweep; the next one tries it again.
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
#pragma warning restore CA1031
            {
                Log.WorkspaceNotRemoved(_logger, e, key);
            }
        }

        return removed;
    }

    private bool IsIdle(string entry, out TimeSpan idle)
    {
        idle = _time.GetUtcNow() - WorkspaceHold.LastUsed(entry);
        return idle >= Options.WorkspaceRetention;
    }

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
        if (!literal && addresses.Any(InternalAddresses.Contains))
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
}

/// <summary>A name that resolved to an address the grant did not name (loopback, private): refused before connecting.</summary>
internal sealed class InternalAddressException(string message) : IOException(message);
