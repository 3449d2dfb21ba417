using AgentSecurity.Abstractions;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// One AuthZEN access evaluation as the kernel reads it (<c>contracts/cli.md</c> "HTTP"): the subject
/// <c>{"type": "agent", "id": "T/A"}</c> names the agent, the action's <c>name</c> is the capability, the resource's
/// <c>id</c> the resource (empty: none) and <c>context.amount</c> the amount.
/// </summary>
internal sealed record AuthZenEvaluation(string TenantId, string AgentId, CheckRequest Check);

/// <summary>The order in which a boxcarred request's evaluations stop (AuthZEN 1.0 <c>options.evaluations_semantic</c>).</summary>
internal enum EvaluationsSemantic
{
    /// <summary><c>execute_all</c> (the default): every evaluation, every answer.</summary>
    ExecuteAll,

    /// <summary><c>deny_on_first_deny</c>: in order, up to and including the first denial (or failure).</summary>
    DenyOnFirstDeny,

    /// <summary><c>permit_on_first_permit</c>: in order, up to and including the first permit.</summary>
    PermitOnFirstPermit,
}

/// <summary>
/// A <c>POST /access/v1/evaluations</c> request with the top-level defaults applied. Without an <c>evaluations</c> array
/// (or with an empty one) it is a single evaluation and is answered as one (<see cref="Boxcarred"/> false).
/// </summary>
internal sealed record AuthZenEvaluations(IReadOnlyList<AuthZenEvaluation> Evaluations, EvaluationsSemantic Semantic, bool Boxcarred);
