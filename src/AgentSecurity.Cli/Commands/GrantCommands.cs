using System.CommandLine;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Identity;
using AgentSecurity.Grants.Json;
using AgentSecurity.Grants.Verification;

namespace AgentSecurity.Cli.Commands;

internal static class GrantCommands
{
    public static Command Create(CliApp app) => new("grant", "Sign, verify and apply grants (agentsec.grant.v1, and v2 with tools)")
    {
        Sign(app),
        Verify(app),
        Apply(app),
    };

    private static Command Sign(CliApp app)
    {
        var key = new Option<string>("--key") { Description = "Key file of the grantor", Required = true };
        var tenant = new Option<string>("--tenant") { Description = "Tenant id", Required = true };
        var agent = new Option<string>("--agent") { Description = "Agent id", Required = true };
        var fs = Level("--fs", "fileSystem level", CapabilityNames.AccessLevels.Keys);
        var net = Level("--net", "network level", CapabilityNames.NetworkLevels.Keys);
        var memory = Level("--memory", "memory level", CapabilityNames.AccessLevels.Keys);
        var subprocess = new Option<bool>("--subprocess") { Description = "Allow subprocesses" };
        var vectorDb = new Option<bool>("--vectordb") { Description = "Allow vector database calls" };
        var llm = new Option<bool>("--llm") { Description = "Allow LLM calls" };
        var isolation = new Option<string>("--isolation") { Description = "sandboxed (default), native or external", DefaultValueFactory = _ => "sandboxed" };
        isolation.AcceptOnlyFromAmong([.. CapabilityNames.IsolationLevels.Keys]);
        var scopes = new Option<string[]>("--scope") { Description = "KIND=PATTERN, KIND one of fileSystem, network, memory (repeatable)" };
        var limits = new Option<string[]>("--limit") { Description = $"NAME=N, NAME one of {string.Join(", ", ResourceLimits.Names)} (repeatable)" };
        var agentDid = new Option<string?>("--agent-did") { Description = "The agent's own DID (lets it delegate)" };
        var parent = new Option<string?>("--parent") { Description = "Parent grant id of a delegation" };
        var expiresIn = new Option<string>("--expires-in") { Description = "Lifetime, e.g. 90s, 15m, 24h, 7d (default 24h)", DefaultValueFactory = _ => "24h" };
        var grantId = new Option<string?>("--grant-id") { Description = "Grant id (default: a random one)" };
        var issuedAt = new Option<string?>("--issued-at") { Description = "YYYY-MM-DDTHH:MM:SSZ (default: now)" };
        var notBefore = new Option<string?>("--not-before") { Description = "YYYY-MM-DDTHH:MM:SSZ (default: issuedAt)" };
        var outFile = new Option<string?>("--out") { Description = "Also write the signed grant to this file" };
        var tools = new Option<string[]>("--tool") { Description = "A tool pattern server/tool the agent may call, * within a segment (repeatable; makes a grant v2)" };
        var approve = new Option<string[]>("--approve") { Description = "A tool pattern whose calls need a person's approval (repeatable; grant v2)" };
        var pins = new Option<string[]>("--pin") { Description = "TOOL=sha256:HEX: the tool's definition must hash to this (repeatable; grant v2; see agentsec mcp pins)" };

        var command = new Command("sign", "Sign a grant offline with a grantor's key")
        {
            key, tenant, agent, fs, net, memory, subprocess, vectorDb, llm, isolation, scopes, limits, agentDid, parent,
            expiresIn, grantId, issuedAt, notBefore, outFile, tools, approve, pins,
        };
        command.SetAction(result =>
        {
            var output = app.OutputFor(result);
            var signingKey = KeyFiles.Read(result.GetRequiredValue(key));
            if (!signingKey.Succeeded)
            {
                return output.Error(signingKey.Failure.Code, signingKey.Failure.Message, ExitCodes.Usage);
            }

            if (!CliTime.TryParseOptional(result.GetValue(issuedAt), out var issued) || !CliTime.TryParseOptional(result.GetValue(notBefore), out var validFrom))
            {
                return output.Usage("--issued-at and --not-before take YYYY-MM-DDTHH:MM:SSZ");
            }

            issued ??= CliTime.Now;
            if (!Durations.TryParse(result.GetValue(expiresIn), out var lifetime))
            {
                return output.Usage("--expires-in takes a duration such as 90s, 15m, 24h or 7d");
            }

            var scopeObject = KindValues(result.GetValue(scopes) ?? [], ["fileSystem", "network", "memory"], value => new JString(value), out var scopeError);
            var limitObject = KindValues(result.GetValue(limits) ?? [], ResourceLimits.Names, ParseLimit, out var limitError);
            if ((scopeError ?? limitError) is { } problem)
            {
                return output.Usage(problem);
            }

            var toolPatterns = result.GetValue(tools) ?? [];
            var approvePatterns = result.GetValue(approve) ?? [];
            var pinObject = ToolPins(result.GetValue(pins) ?? [], out var pinError);
            if (pinError is not null)
            {
                return output.Usage(pinError);
            }

            var v2 = toolPatterns.Length > 0 || approvePatterns.Length > 0 || pinObject is not null;
            var capabilities = new JObject(
            [
                new("fileSystem", new JString(result.GetRequiredValue(fs))),
                new("network", new JString(result.GetRequiredValue(net))),
                new("memory", new JString(result.GetRequiredValue(memory))),
                new("subprocess", JBool.Of(result.GetValue(subprocess))),
                new("vectorDb", JBool.Of(result.GetValue(vectorDb))),
                new("llm", JBool.Of(result.GetValue(llm))),
                .. toolPatterns.Length > 0 ? [new KeyValuePair<string, JNode>("tools", DocumentSigner.StringArray(toolPatterns))] : Array.Empty<KeyValuePair<string, JNode>>(),
            ]);
            var toolRules = approvePatterns.Length > 0 || pinObject is not null
                ? new JObject(
                [
                    .. approvePatterns.Length > 0 ? [new KeyValuePair<string, JNode>("approve", DocumentSigner.StringArray(approvePatterns))] : Array.Empty<KeyValuePair<string, JNode>>(),
                    .. pinObject is not null ? [new KeyValuePair<string, JNode>("pins", pinObject)] : Array.Empty<KeyValuePair<string, JNode>>(),
                ])
                : null;
            var id = result.GetValue(grantId) ?? $"g-{Guid.NewGuid():N}"[..18];
            var text = new DocumentSigner(v2 ? DocumentTypes.GrantV2 : DocumentTypes.Grant)
                .Add("grantId", id)
                .Add("tenantId", result.GetRequiredValue(tenant))
                .Add("agentId", result.GetRequiredValue(agent))
                .Add("capabilities", capabilities)
                .AddIfPresent("scopes", scopeObject)
                .AddIfPresent("resourceLimits", limitObject)
                .Add("environmentIsolation", result.GetRequiredValue(isolation))
                .Add("issuedAt", issued.Value)
                .AddIfPresent("notBefore", validFrom is { } from ? DocumentTime.ToText(from) : null)
                .Add("expiresAt", (validFrom ?? issued.Value) + lifetime)
                .AddIfPresent("agentDid", result.GetValue(agentDid))
                .AddIfPresent("parentGrantId", result.GetValue(parent))
                .AddIfPresent("toolRules", toolRules)
                .Sign(signingKey.Value);

            // The same parser the cluster uses: refuse here what the cluster would refuse.
            var check = GrantDocument.Parse(text);
            if (!check.Succeeded)
            {
                return output.Error(check.Failure.Code, check.Failure.Message, ExitCodes.Usage);
            }

            if (result.GetValue(outFile) is { } path)
            {
                File.WriteAllText(path, text + "\n");
            }

            var grant = check.Value;
            return output.AnswerRaw(ExitCodes.Ok, text, result.GetValue(outFile) is { } written
                ? $"signed grant {grant.GrantId} for {grant.TenantId}/{grant.AgentId}, valid until {DocumentTime.ToText(grant.ExpiresAt)}; written to {written}"
                : text);
        });
        return command;
    }

    /// <summary><c>--pin TOOL=sha256:HEX</c> values as a <c>pins</c> object (null when none); the parser judges the values.</summary>
    private static JObject? ToolPins(string[] values, out string? error)
    {
        error = null;
        if (values.Length == 0)
        {
            return null;
        }

        var pins = new List<KeyValuePair<string, JNode>>();
        foreach (var value in values)
        {
            var split = value.IndexOf('=', StringComparison.Ordinal);
            if (split <= 0)
            {
                error = $"--pin takes TOOL=sha256:HEX, not \"{value}\"";
                return null;
            }

            var tool = value[..split];
            if (pins.Any(p => p.Key == tool))
            {
                error = $"--pin names {tool} twice";
                return null;
            }

            pins.Add(new(tool, new JString(value[(split + 1)..])));
        }

        return new JObject(pins);
    }

    private static Command Verify(CliApp app)
    {
        var file = new Argument<string>("FILE") { Description = "The signed grant (- for standard input)" };
        var trusted = new Option<string[]>("--trusted") { Description = "A DID the signer must be (repeatable)" };
        var at = new Option<string?>("--at") { Description = "Check the time window at this time instead of now (YYYY-MM-DDTHH:MM:SSZ)" };
        var command = new Command("verify", "Verify a grant offline: encoding, DIDs, signature, time window and, with --trusted, the signer")
        {
            file, trusted, at,
        };
        command.SetAction(result =>
        {
            var output = app.OutputFor(result);
            if (!CliTime.TryParseOptional(result.GetValue(at), out var when))
            {
                return output.Usage("--at takes YYYY-MM-DDTHH:MM:SSZ");
            }

            var trustedDids = new List<DidKey>();
            foreach (var text in result.GetValue(trusted) ?? [])
            {
                var did = DidKey.Parse(text);
                if (!did.Succeeded)
                {
                    return output.Error(did.Failure.Code, $"--trusted {text}: {did.Failure.Message}", ExitCodes.Usage);
                }

                trustedDids.Add(did.Value);
            }

            var document = DocumentFiles.Read(result.GetRequiredValue(file));
            if (!document.Succeeded)
            {
                return document.Failure.Code == CliOutput.UsageError
                    ? output.Usage(document.Failure.Message)
                    : Invalid(output, document.Failure);
            }

            var parsed = GrantDocument.Parse(document.Value);
            if (!parsed.Succeeded)
            {
                return Invalid(output, parsed.Failure);
            }

            var grant = parsed.Value;
            var now = when ?? TimeProvider.System.GetUtcNow();
            var failure = (trustedDids.Count > 0 && !trustedDids.Contains(grant.SignedBy)
                    ? new Failure(ReasonCodes.UntrustedSigner, $"signed by {grant.SignedBy.Value}, which is not among --trusted")
                    : null)
                ?? DocumentChecks.Signature(grant.Envelope)
                ?? DocumentChecks.GrantTimeWindow(grant, now, DocumentChecks.DefaultClockSkew);
            if (failure is not null)
            {
                return Invalid(output, failure);
            }

            return output.Answer(ExitCodes.Ok,
                new { valid = true, grantId = grant.GrantId, signedBy = grant.SignedBy.Value, tenantId = grant.TenantId, agentId = grant.AgentId, expiresAt = DocumentTime.ToText(grant.ExpiresAt) },
                $"valid: grant {grant.GrantId} for {grant.TenantId}/{grant.AgentId}, signed by {grant.SignedBy.Value}, expires {DocumentTime.ToText(grant.ExpiresAt)}");
        });
        return command;
    }

    private static Command Apply(CliApp app)
    {
        var file = new Argument<string>("FILE") { Description = "The signed grant (- for standard input)" };
        var command = new Command("apply", "Apply a signed grant to the agent it names") { file };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            var document = DocumentFiles.Read(result.GetRequiredValue(file));
            if (!document.Succeeded)
            {
                return output.Error(document.Failure.Code, document.Failure.Message);
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
            var applied = await client.ApplyGrantAsync(document.Value);
            if (!applied.Applied)
            {
                return output.Error(applied.Error!, applied.Message!);
            }

            return output.Answer(ExitCodes.Ok,
                new { applied = true, agent = applied.Agent, grantId = applied.GrantId, version = applied.Version, unchanged = applied.Unchanged },
                applied.Unchanged
                    ? $"grant {applied.GrantId} was already active on {applied.Agent} (version {applied.Version})"
                    : $"applied grant {applied.GrantId} to {applied.Agent} (version {applied.Version})");
            }, cancellation);
        });
        return command;
    }

    private static int Invalid(CliOutput output, Failure failure) =>
        output.Answer(ExitCodes.No, new { valid = false, error = failure.Code, message = failure.Message }, $"invalid: {failure.Code}: {failure.Message}");

    private static Option<string> Level(string name, string description, IEnumerable<string> values)
    {
        var option = new Option<string>(name) { Description = $"{description}: {string.Join(", ", values)} (default none)", DefaultValueFactory = _ => "none" };
        option.AcceptOnlyFromAmong([.. values]);
        return option;
    }

    private static JNode? ParseLimit(string value) =>
        long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            ? DocumentSigner.Number(n)
            : null;

    /// <summary>Groups <c>KIND=VALUE</c> pairs into an object of kinds (scopes: lists of patterns; limits: numbers).</summary>
    private static JObject? KindValues(string[] pairs, IReadOnlyList<string> kinds, Func<string, JNode?> value, out string? error)
    {
        error = null;
        if (pairs.Length == 0)
        {
            return null;
        }

        var isList = kinds.Contains("fileSystem");
        var grouped = new Dictionary<string, List<JNode>>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var kind = equals > 0 ? pair[..equals] : string.Empty;
            var node = equals > 0 ? value(pair[(equals + 1)..]) : null;
            if (!kinds.Contains(kind) || node is null || (!isList && grouped.ContainsKey(kind)))
            {
                error = $"\"{pair}\" is not KIND=VALUE with KIND one of {string.Join(", ", kinds)} (each limit once, limits in plain digits)";
                return null;
            }

            if (!grouped.TryGetValue(kind, out var list))
            {
                grouped[kind] = list = [];
            }

            list.Add(node);
        }

        return new JObject(grouped.Select(g => new KeyValuePair<string, JNode>(g.Key, isList ? new JArray(g.Value) : g.Value[0])).ToList());
    }
}
