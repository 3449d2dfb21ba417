using System.CommandLine;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Json;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Cli.Commands;

/// <summary>Runtime permission requests: an agent asks (<c>request</c>), admins list and answer them (<c>requests</c>).</summary>
internal static class RequestCommands
{
    public static Command CreateRequest(CliApp app)
    {
        var agent = AgentArgument.Create();
        var capability = new Argument<string>("CAPABILITY") { Description = "The capability the agent lacks" };
        var resource = new Option<string?>("--resource") { Description = "The path, host:port, memory key or tool server/tool it needs" };
        var justification = new Option<string>("--justification") { Description = "Why, for the admins who answer (1–512 characters)", Required = true };
        var command = new Command("request", "Ask for a capability an agent lacks; admins see it with 'requests list'") { agent, capability, resource, justification };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (!AgentArgument.TryParse(result.GetValue(agent), out var tenantId, out var agentId))
            {
                return output.Usage($"\"{result.GetValue(agent)}\" is not TENANT/AGENT");
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var input = new PermissionRequestInput { Capability = result.GetRequiredValue(capability), Resource = result.GetValue(resource), Justification = result.GetRequiredValue(justification) };
                var recorded = await client.RequestPermissionAsync(tenantId, agentId, input);
                if (recorded.AlreadyAllowed)
                {
                    return output.Answer(ExitCodes.Ok, new { requestId = (string?)null, alreadyAllowed = true }, recorded.Message!);
                }

                return recorded.Recorded
                    ? output.Answer(ExitCodes.Ok, new { requestId = recorded.RequestId, alreadyAllowed = false, expiresAt = DocumentTime.ToText(recorded.ExpiresAt!.Value) },
                        $"request {recorded.RequestId} recorded; open until {DocumentTime.ToText(recorded.ExpiresAt!.Value)}")
                    : output.Error(recorded.Error!, recorded.Message!);
            }, cancellation);
        });
        return command;
    }

    public static Command CreateRequests(CliApp app) => new("requests", "Permission requests of a tenant") { List(app), Approve(app) };

    private static Command List(CliApp app)
    {
        var tenant = new Argument<string>("TENANT") { Description = "Tenant id" };
        var command = new Command("list", "Open and recently closed permission requests, newest first") { tenant };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var requests = await client.ListRequestsAsync(result.GetRequiredValue(tenant));
                var rows = requests.Select(r => new
                {
                    requestId = r.RequestId,
                    agent = $"{result.GetValue(tenant)}/{r.AgentId}",
                    capability = r.Capability,
                    resource = r.Resource,
                    justification = r.Justification,
                    status = r.Status.ToString().ToLowerInvariant(),
                    requestedAt = DocumentTime.ToText(r.RequestedAt),
                    expiresAt = DocumentTime.ToText(r.ExpiresAt),
                    grantId = r.GrantId,
                }).ToArray();
                var text = rows.Length == 0
                    ? "no permission requests"
                    : string.Join('\n', rows.Select(r => $"{r.requestId}  {r.status,-8}  {r.agent}  {r.capability}{(r.resource is null ? string.Empty : $" {r.resource}")}  \"{r.justification}\"  until {r.expiresAt}"));
                return output.Answer(ExitCodes.Ok, new { requests = rows }, text);
            }, cancellation);
        });
        return command;
    }

    private static Command Approve(CliApp app)
    {
        var tenant = new Argument<string>("TENANT") { Description = "Tenant id" };
        var requestId = new Argument<string>("REQUEST") { Description = "The request id (req-N)" };
        var key = CommandSupport.KeyOption("Key file of a root or admin of the tenant");
        var expiresIn = new Option<string>("--expires-in") { Description = "How long the answer lasts (default 1h; at most the cluster's limit, 24h by default)", DefaultValueFactory = _ => "1h" };
        var anyResource = new Option<bool>("--any-resource")
        {
            Description = "Approve a request that names no resource although its capability takes one: the answer then allows any path, host or key (internal addresses still need a literal scope)",
        };
        var command = new Command("approve", "Answer a request with a time-boxed grant of exactly what was asked") { tenant, requestId, key, expiresIn, anyResource };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (CommandSupport.ReadKey(output, result.GetRequiredValue(key), out var bad) is not { } signer)
            {
                return bad;
            }

            if (!Durations.TryParse(result.GetValue(expiresIn), out var lifetime))
            {
                return output.Usage("--expires-in takes a duration such as 30m or 1h");
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var tenantId = result.GetRequiredValue(tenant);
                var request = (await client.ListRequestsAsync(tenantId)).FirstOrDefault(r => r.RequestId == result.GetValue(requestId));
                if (request is null || request.Status != PermissionRequestStatus.Pending || !CheckKinds.TryParse(request.Capability, out var kind))
                {
                    return output.Error(ReasonCodes.UnknownRequest, $"no open request {result.GetValue(requestId)} in tenant {tenantId}");
                }

                if (kind == CheckKind.ToolCall && request.Resource is null)
                {
                    return output.Error(ReasonCodes.InvalidRequest, $"{request.RequestId} asks for tool:call without naming the tool; an approval names exactly one tool");
                }

                // A request that names no resource asks for the whole capability: approving it must be a decision, not a default.
                var unscoped = request.Resource is null && kind.ResourceKindOf() is not null;
                if (unscoped && !result.GetValue(anyResource))
                {
                    return output.Usage($"{request.RequestId} names no resource: approving it lets {request.AgentId} use {request.Capability} on ANY {Noun(kind)}, " +
                        "not only one. Ask the agent to request the resource it needs, or pass --any-resource to approve it unscoped");
                }

                if (unscoped)
                {
                    output.Warning($"WARNING: {request.RequestId} names no resource; the answer lets {request.AgentId} use {request.Capability} on ANY {Noun(kind)} until it expires");
                }

                var now = CliTime.Now;
                var scopes = request.Resource is { } resource && kind.ResourceKindOf() is { } resourceKind and not ResourceKind.Tool
                    ? new JObject([new(resourceKind switch { ResourceKind.Path => "fileSystem", ResourceKind.Host => "network", _ => "memory" },
                        DocumentSigner.StringArray([resourceKind == ResourceKind.Host ? resource.ToLowerInvariant() : resource]))])
                    : null;
                // An approval of a tool is a grant v2 that names exactly that tool: what toolRules.approve waits for.
                var capabilities = DocumentSigner.Capabilities(kind.MinimalCapabilities());
                if (kind == CheckKind.ToolCall)
                {
                    capabilities = new JObject([.. capabilities.Members, new("tools", DocumentSigner.StringArray([request.Resource!]))]);
                }

                var text = new DocumentSigner(kind == CheckKind.ToolCall ? DocumentTypes.GrantV2 : DocumentTypes.Grant)
                    .Add("grantId", $"{request.RequestId}-{Guid.NewGuid():N}"[..(request.RequestId.Length + 9)])
                    .Add("tenantId", tenantId)
                    .Add("agentId", request.AgentId)
                    .Add("capabilities", capabilities)
                    .AddIfPresent("scopes", scopes)
                    .Add("environmentIsolation", "sandboxed")
                    .Add("issuedAt", now)
                    .Add("expiresAt", now + lifetime)
                    .Sign(signer);
                var applied = await client.ApplyElevationAsync(request.RequestId, text);
                return applied.Applied
                    ? output.Answer(ExitCodes.Ok, new { requestId = request.RequestId, agent = applied.Agent, grantId = applied.GrantId, expiresAt = DocumentTime.ToText(now + lifetime), anyResource = unscoped },
                        $"approved {request.RequestId}: {applied.Agent} may {request.Capability}{(request.Resource is null ? string.Empty : $" {request.Resource}")} until {DocumentTime.ToText(now + lifetime)} (grant {applied.GrantId})")
                    : output.Error(applied.Error!, applied.Message!);
            }, cancellation);
        });
        return command;
    }

    private static string Noun(CheckKind kind) => kind.ResourceKindOf() switch
    {
        ResourceKind.Path => "path",
        ResourceKind.Host => "host",
        ResourceKind.Tool => "tool",
        _ => "memory key",
    };
}
