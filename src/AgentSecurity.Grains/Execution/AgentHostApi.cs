using System.Diagnostics;
using AgentSecurity.Grains.Telemetry;
using System.Text;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Grains.Execution;

/// <summary>
/// The host API of one execution. Every call is first a check decided by the agent's own grain: allowed on the picture
/// the grain published when that picture is still the grain's and allows it (<see cref="HostCallDecisions"/>, no
/// message), else a grain call, decided and audited in the grain's turn exactly like a check from outside; either way a
/// revocation or quarantine is seen at once, and only an allowed call does anything. Called from the sandbox's threads,
/// never from the grain's scheduler: the execution interleaves on the grain, so the grain is free to answer.
/// </summary>
/// <param name="agent">The agent's own grain: every check the local path does not allow is a call on it.</param>
/// <param name="local">The local path of the checks, published by the same grain.</param>
/// <param name="workspace">Where <c>fs.*</c> calls read and write.</param>
/// <param name="services">The silo's providers and limits of host calls.</param>
/// <param name="cancellation">The execution's kill switch.</param>
internal sealed class AgentHostApi(IAgentGrain agent, HostCallDecisions local, AgentWorkspace workspace, ExecutionServices services, CancellationToken cancellation) : IHostApi
{
    /// <summary>The call was allowed, but the service it went to failed (HTTP error, timeout, provider error).</summary>
    public const string UpstreamError = "upstream_error";

    // The execution's span: host calls come on the sandbox's threads, outside the flow that started it.
    private readonly ActivityContext _execution = KernelTracing.CurrentKernelSpan() is { Recorded: true } span ? span.Context : default;

    public async ValueTask<HostReply> CallAsync(HostCall call)
    {
        // The sandbox's threads are no grain activation: the checks a host call makes on the agent's grain are the
        // kernel's by scope (the agent's code acts through the kernel, never with the session of whoever started it).
        using var kernel = Boundary.KernelScope.Enter();
        using var activity = KernelTracing.Enabled ? KernelTracing.StartUnder(KernelTracing.HostCall, _execution) : null;
        activity?.SetTag(KernelTracing.OperationAttribute, call.Operation);
        KernelTracing.Propagate(); // the check this call makes on the agent's grain is a child of this span
        try
        {
            var reply = await DispatchAsync(call);
            activity?.SetTag(KernelTracing.ReasonAttribute, reply.Error ?? ReasonCodes.Allowed);
            return reply;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return HostReply.Fail(Sandbox.SandboxResult.Cancelled, "the execution was stopped");
        }
        catch (HttpRequestException e) when (e.InnerException is InternalAddressException refused)
        {
            return HostReply.Fail(ReasonCodes.SandboxViolation, refused.Message);
        }

        // What failed on the host's side is an answer to the agent code, never a crash of the silo, and says nothing of
        // the host: exception messages name internal addresses, silos and providers.
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
        {
            return HostReply.Fail(UpstreamError, $"the {Service(call.Operation)} did not answer in time or failed");
        }
#pragma warning disable CA1031
        catch (Exception)
#pragma warning restore CA1031
        {
            return HostReply.Fail(ReasonCodes.Unavailable, $"the host could not do {call.Operation} now");
        }
    }

    private static string Service(string operation) => operation switch
    {
        HostCall.HttpFetch => "server",
        HostCall.LlmComplete => "language model provider",
        HostCall.VectorDbQuery => "vector database provider",
        _ => "host",
    };

    /// <summary>One outbound request: the execution's stop, and the platform's timeout over headers and body together.</summary>
    private CancellationTokenSource RequestDeadline()
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(services.Options.HttpTimeout);
        return deadline;
    }

    private Task<HostReply> DispatchAsync(HostCall call) => call.Operation switch
    {
        HostCall.FsRead => FsReadAsync(call.Argument),
        HostCall.FsWrite => FsWriteAsync(call.Argument, call.Second ?? string.Empty),
        HostCall.HttpFetch => FetchAsync(call.Argument, call.Second),
        HostCall.MemoryGet => MemoryAsync(call.Argument, k => agent.GetMemoryAsync(k)),
        HostCall.MemoryPut => MemoryAsync(call.Argument, k => agent.PutMemoryAsync(k, Encoding.UTF8.GetBytes(call.Second ?? string.Empty))),
        HostCall.MemoryDelete => MemoryAsync(call.Argument, k => agent.DeleteMemoryAsync(k)),
        HostCall.LlmComplete => CompleteAsync(call.Argument),
        HostCall.VectorDbQuery => QueryAsync(call.Argument, call.Second),
        _ => Task.FromResult(HostReply.Fail(ReasonCodes.InvalidRequest, $"\"{call.Operation}\" is not a host operation")),
    };

    /// <summary>Null when the check allows the call, else the reply that refuses it.</summary>
    private ValueTask<HostReply?> DenialAsync(string capability, string? resource, long? amount = null)
    {
        // A stopped execution's calls go to the grain, which answers as it does for any other caller.
        var stale = false;
        if (!cancellation.IsCancellationRequested && local.TryAllow(capability, resource, out stale) is not null)
        {
            if (KernelTracing.Enabled && Activity.Current is { OperationName: KernelTracing.HostCall } span)
            {
                span.SetTag(KernelTracing.LocalAttribute, true);
            }

            return ValueTask.FromResult<HostReply?>(null);
        }

        return new ValueTask<HostReply?>(GrainDenialAsync(new CheckRequest(capability, resource, amount), stale));
    }

    private async Task<HostReply?> GrainDenialAsync(CheckRequest request, bool stale)
    {
        var decision = await agent.CheckAsync(request);
        if (stale)
        {
            local.Refresh(); // after the grain's check, which may have loaded what the picture needs (the tenant's limits)
        }

        return decision.Allowed ? null : Denied(decision);
    }

    private static HostReply Denied(Decision decision) => HostReply.Fail(decision.Reason, decision.Message ?? decision.Reason) with { Denied = decision.Reason != ReasonCodes.Unavailable };

    private static HostReply Missing(string what) => HostReply.Fail(ReasonCodes.InvalidRequest, $"{what} is required");

    private async Task<HostReply> FsReadAsync(string? path)
    {
        if (path is null)
        {
            return Missing("a path");
        }

        if (await DenialAsync("fileSystem:read", path) is { } denied)
        {
            return denied;
        }

        return workspace.Read(path, services.Options.MaxFileReadBytes).TryGetValue(out var text, out var failure)
            ? HostReply.Success(text)
            : HostReply.Fail(failure.Code, failure.Message);
    }

    private async Task<HostReply> FsWriteAsync(string? path, string text)
    {
        if (path is null)
        {
            return Missing("a path");
        }

        var content = Encoding.UTF8.GetBytes(text);
        if (content.Length > services.Options.MaxFileWriteBytes)
        {
            return HostReply.Fail(ReasonCodes.QuotaExceeded, $"a host write is at most {services.Options.MaxFileWriteBytes} bytes");
        }

        if (await DenialAsync("fileSystem:write", path, content.Length) is { } denied)
        {
            return denied;
        }

        return workspace.Write(path, content) is { } failure ? HostReply.Fail(failure.Code, failure.Message) : HostReply.Success();
    }

    private async Task<HostReply> FetchAsync(string? url, string? body)
    {
        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.UserInfo.Length > 0
            || Destination(uri) is not { } destination)
        {
            return HostReply.Fail(ReasonCodes.InvalidRequest, "an absolute http(s) URL without credentials or an IPv6 zone is required");
        }

        // The grant's network scopes name host:port; the check is on exactly where the request will go. An internal
        // address is allowed only by a scope that names it literally (the decision says so); code reaching for one
        // otherwise is trying to leave its sandbox. A name that resolves to one is refused when connecting.
        if (await DenialAsync("network:outbound", destination) is { } denied)
        {
            return denied.Error == ReasonCodes.InternalAddress ? denied with { Error = ReasonCodes.SandboxViolation } : denied;
        }

        using var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, uri);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
        }

        using var deadline = RequestDeadline();
        using var response = await services.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        var text = await ReadCappedAsync(response.Content, services.Options.MaxHttpResponseBytes, deadline.Token);
        if (text is null)
        {
            return HostReply.Fail(ReasonCodes.QuotaExceeded, $"the response is larger than {services.Options.MaxHttpResponseBytes} bytes");
        }

        return response.IsSuccessStatusCode ? HostReply.Success(text) : HostReply.Fail(UpstreamError, $"HTTP {(int)response.StatusCode}: {text[..Math.Min(text.Length, 200)]}");
    }

    /// <summary>
    /// The <c>host:port</c> a request goes to, as grants name it: names and IPv4 in the canonical form the connection
    /// will use, IPv6 in brackets; null for an IPv6 zone, which no grant can name.
    /// </summary>
    private static string? Destination(Uri uri)
    {
        if (uri.HostNameType != UriHostNameType.IPv6)
        {
            return $"{uri.IdnHost.ToLowerInvariant()}:{uri.Port}";
        }

        return !uri.DnsSafeHost.Contains('%', StringComparison.Ordinal) && System.Net.IPAddress.TryParse(uri.DnsSafeHost, out var address) && address.ScopeId == 0
            ? $"[{address}]:{uri.Port}"
            : null;
    }

    private static async Task<string?> ReadCappedAsync(HttpContent content, int maxBytes, CancellationToken cancellation)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellation);
        var buffer = new byte[maxBytes + 1];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellation)) > 0)
        {
            read += n;
        }

        return read > maxBytes ? null : Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static async Task<HostReply> MemoryAsync(string? key, Func<string, Task<MemoryResult>> operation)
    {
        if (key is null)
        {
            return Missing("a key");
        }

        var result = await operation(key);
        if (!result.Decision.Allowed)
        {
            return Denied(result.Decision);
        }

        return HostReply.Success(result.Value is null ? (result.Found ? "true" : null) : Encoding.UTF8.GetString(result.Value));
    }

    private async Task<HostReply> CompleteAsync(string? prompt)
    {
        if (prompt is null)
        {
            return Missing("a prompt");
        }

        // Metered before the call, on a bound rather than a guess: a byte-level tokenizer makes at most one token of
        // each UTF-8 byte, so the prompt's bytes plus the completion asked for is the most the call can use.
        var tokens = (long)Encoding.UTF8.GetByteCount(prompt) + services.Options.LlmMaxTokens; // in long: a prompt near 2 GB must not wrap
        if (await DenialAsync("llm", null, tokens) is { } denied)
        {
            return denied;
        }

        if (services.Llm is not { } llm)
        {
            return HostReply.Fail(ReasonCodes.Unavailable, "this platform has no LLM provider configured");
        }

        using var deadline = RequestDeadline();
        return HostReply.Success(await llm.CompleteAsync(prompt, services.Options.LlmMaxTokens, deadline.Token));
    }

    private async Task<string> QueryWithDeadlineAsync(IVectorDbProvider vectorDb, string collection, string query)
    {
        using var deadline = RequestDeadline();
        return await vectorDb.QueryAsync(collection, query, deadline.Token);
    }

    private async Task<HostReply> QueryAsync(string? collection, string? query)
    {
        if (collection is null || query is null)
        {
            return Missing("a collection and a query");
        }

        if (await DenialAsync("vectorDb", null) is { } denied)
        {
            return denied;
        }

        return services.VectorDb is { } vectorDb
            ? HostReply.Success(await QueryWithDeadlineAsync(vectorDb, collection, query))
            : HostReply.Fail(ReasonCodes.Unavailable, "this platform has no vector database provider configured");
    }
}
