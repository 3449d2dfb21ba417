using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Json;

using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// Reads AuthZEN 1.0 evaluation requests. The JSON is read strictly, as I-JSON (RFC 7493) asks and the specification
/// recommends: UTF-8, no lone surrogates, no duplicate member names (<c>duplicate_member</c>), bounded nesting; every
/// member the specification or the contract defines must have its type (<c>invalid_field</c>), and a required one that
/// is missing, even after the defaults of a boxcarred request, is <c>invalid_field</c>. Members nobody defines are
/// ignored, as the specification requires of receivers for forward compatibility. A refused request is refused whole,
/// before any evaluation: checks consume quota, so none runs for a request that is answered 400.
/// </summary>
internal static class AuthZenRequests
{
    /// <summary>The longest action name read: longer is no capability of the vocabulary.</summary>
    public const int MaxActionName = 128;

    private static readonly Dictionary<string, EvaluationsSemantic> Semantics = new(StringComparer.Ordinal)
    {
        ["execute_all"] = EvaluationsSemantic.ExecuteAll,
        ["deny_on_first_deny"] = EvaluationsSemantic.DenyOnFirstDeny,
        ["permit_on_first_permit"] = EvaluationsSemantic.PermitOnFirstPermit,
    };

    /// <summary>A <c>POST /access/v1/evaluation</c> body.</summary>
    public static Result<AuthZenEvaluation> ParseEvaluation(ReadOnlySpan<byte> body)
    {
        try
        {
            var root = Root(body);
            return Result<AuthZenEvaluation>.Ok(Merge(Read(root, string.Empty), Entities.None, string.Empty));
        }
        catch (RequestException e)
        {
            return e.Failure;
        }
    }

    /// <summary>A <c>POST /access/v1/evaluations</c> body, with at most <paramref name="maxEvaluations"/> evaluations.</summary>
    public static Result<AuthZenEvaluations> ParseEvaluations(ReadOnlySpan<byte> body, int maxEvaluations)
    {
        try
        {
            var root = Root(body);
            var defaults = Read(root, string.Empty);
            var semantic = Semantic(root);
            var items = root["evaluations"] switch
            {
                null => [],
                JArray array => array.Items,
                var other => throw Invalid($"evaluations must be an array, not a {other.KindName}"),
            };

            if (items.Count == 0)
            {
                return Result<AuthZenEvaluations>.Ok(new AuthZenEvaluations([Merge(defaults, Entities.None, string.Empty)], semantic, Boxcarred: false));
            }

            if (items.Count > maxEvaluations)
            {
                throw new RequestException(new Failure(ReasonCodes.TooLarge, $"a request carries at most {maxEvaluations} evaluations, not {items.Count}"));
            }

            var evaluations = new List<AuthZenEvaluation>(items.Count);
            for (var i = 0; i < items.Count; i++)
            {
                var path = $"evaluations[{i}].";
                var item = items[i] as JObject ?? throw Invalid($"evaluations[{i}] must be an object, not a {items[i].KindName}");
                evaluations.Add(Merge(Read(item, path), defaults, path));
            }

            return Result<AuthZenEvaluations>.Ok(new AuthZenEvaluations(evaluations, semantic, Boxcarred: true));
        }
        catch (RequestException e)
        {
            return e.Failure;
        }
    }

    private static JObject Root(ReadOnlySpan<byte> body)
    {
        var parsed = StrictJsonParser.Parse(body);
        if (!parsed.TryGetValue(out var node, out var failure))
        {
            throw new RequestException(failure);
        }

        return node as JObject ?? throw Invalid($"the request body must be a JSON object, not a {node.KindName}");
    }

    private static EvaluationsSemantic Semantic(JObject root)
    {
        var options = root["options"] switch
        {
            null => null,
            JObject o => o,
            var other => throw Invalid($"options must be an object, not a {other.KindName}"),
        };

        return options?["evaluations_semantic"] switch
        {
            null => EvaluationsSemantic.ExecuteAll,
            JString s when Semantics.TryGetValue(s.Value, out var semantic) => semantic,
            _ => throw Invalid($"options.evaluations_semantic must be one of {string.Join(", ", Semantics.Keys)}"),
        };
    }

    /// <summary>The entities an evaluation (or the top level of a boxcarred request) names, each checked when present.</summary>
    private static Entities Read(JObject evaluation, string path) => new(
        Subject(Optional(evaluation, "subject", path), path + "subject"),
        Action(Optional(evaluation, "action", path), path + "action"),
        Resource(Optional(evaluation, "resource", path), path + "resource"),
        Context(Optional(evaluation, "context", path), path + "context"));

    /// <summary>An evaluation's own entities, each in place of the top-level default (AuthZEN 1.0 §7.1.1: whole, not merged).</summary>
    private static AuthZenEvaluation Merge(Entities own, Entities defaults, string path)
    {
        var (tenant, agent) = own.Subject ?? defaults.Subject ?? throw Missing(path + "subject");
        var capability = own.Action ?? defaults.Action ?? throw Missing(path + "action");
        var resource = own.Resource ?? defaults.Resource ?? throw Missing(path + "resource");
        var context = own.Context ?? defaults.Context;
        return new AuthZenEvaluation(tenant, agent, new CheckRequest(capability, NoResource(capability, resource) ? null : resource, context?.Amount)
        {
            DefinitionHash = context?.DefinitionHash,
        });
    }

    /// <summary>
    /// An empty id names no resource only for a capability that acts on none (<c>llm</c>). For one that does, the empty id
    /// goes to the check as it is and is refused there (<c>invalid_resource</c>): AuthZEN requires a resource, and a check
    /// without one would be answered for the capability as a whole, looser than any resource's answer.
    /// </summary>
    private static bool NoResource(string capability, string resource) =>
        resource.Length == 0 && !(CheckKinds.TryParse(capability, out var kind) && kind.ResourceKindOf() is not null);

    private static (string Tenant, string Agent)? Subject(JObject? subject, string path)
    {
        if (subject is null)
        {
            return null;
        }

        var type = RequireString(subject, "type", path);
        var id = RequireString(subject, "id", path);
        OptionalObject(subject, "properties", path);
        if (type != "agent")
        {
            throw Invalid($"{path}.type must be \"agent\": this PDP decides for agents, not for a \"{Truncate(type)}\"");
        }

        return AgentKey.TryParse(id, out var tenant, out var agent)
            ? (tenant, agent)
            : throw Invalid($"{path}.id must name an agent as tenant/agent, not \"{Truncate(id)}\"");
    }

    private static string? Action(JObject? action, string path)
    {
        if (action is null)
        {
            return null;
        }

        var name = RequireString(action, "name", path);
        OptionalObject(action, "properties", path);
        return name.Length is > 0 and <= MaxActionName
            ? name
            : throw Invalid($"{path}.name must be a capability of 1 to {MaxActionName} characters (fileSystem:read, tool:call, ...)");
    }

    private static string? Resource(JObject? resource, string path)
    {
        if (resource is null)
        {
            return null;
        }

        RequireString(resource, "type", path);
        var id = RequireString(resource, "id", path);
        OptionalObject(resource, "properties", path);
        return id;
    }

    private static ContextValues? Context(JObject? context, string path)
    {
        if (context is null)
        {
            return null;
        }

        long? amount = context["amount"] switch
        {
            null => null,
            JNumber n when IsPlainInteger(n.Text, out var value) => value,
            _ => throw Invalid($"{path}.amount must be an integer from 0 to {MaxInteger} written in plain digits"),
        };
        // For tool:call: the definition the caller sees, held against the grant's pin (absent: a pinned tool is refused).
        var definitionHash = context["definitionHash"] switch
        {
            null => null,
            JString hash => hash.Value,
            var other => throw Invalid($"{path}.definitionHash must be a string, not a {other.KindName}"),
        };
        return new ContextValues(amount, definitionHash);
    }

    /// <summary>The largest integer JSON carries exactly (2^53 - 1), as everywhere in the project's documents.</summary>
    private const long MaxInteger = 9007199254740991;

    private static bool IsPlainInteger(string text, out long value)
    {
        value = 0;
        return text.Length is >= 1 and <= 16 && text.All(char.IsAsciiDigit) && (text.Length == 1 || text[0] != '0')
            && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value)
            && value <= MaxInteger;
    }

    private static JObject? Optional(JObject parent, string name, string path) => parent[name] switch
    {
        null => null,
        JObject o => o,
        var other => throw Invalid($"{path}{name} must be an object, not a {other.KindName}"),
    };

    private static void OptionalObject(JObject parent, string name, string path) => Optional(parent, name, path + ".");

    private static string RequireString(JObject parent, string name, string path) => parent[name] switch
    {
        JString s => s.Value,
        null => throw Missing($"{path}.{name}"),
        var other => throw Invalid($"{path}.{name} must be a string, not a {other.KindName}"),
    };

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "...";

    private static RequestException Invalid(string message) => new(new Failure(ReasonCodes.InvalidField, message));

    private static RequestException Missing(string member) => Invalid($"{member} is required");

    private sealed record ContextValues(long? Amount, string? DefinitionHash);

    private sealed record Entities((string Tenant, string Agent)? Subject, string? Action, string? Resource, ContextValues? Context)
    {
        public static readonly Entities None = new(null, null, null, null);
    }

    /// <summary>Unwinds a refused request to the one place that turns it into a failure.</summary>
    private sealed class RequestException(Failure failure) : Exception(failure.Message)
    {
        public Failure Failure { get; } = failure;
    }
}
