using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Tools;

namespace AgentSecurity.Grains.Permissions;

/// <summary>
/// An agent's permissions in memory: its state, active grant, elevations and which of them are revoked. Decides a
/// request without I/O and explains the decision from the same evaluation.
/// </summary>
internal sealed class AgentPermissions
{
    // Both stay empty for nearly every agent, so they exist only once something is in them: bytes per active agent count.
    private HashSet<string>? _revoked;
    private ActiveGrant[] _elevations = [];
    private ActiveGrant? _active;
    private AgentState _state;
    private string? _problem;
    private int _version;
    private int _changing;

    public ActiveGrant? Active
    {
        get => _active;
        set
        {
            _active = value;
            Changed();
        }
    }

    public IReadOnlyList<ActiveGrant> Elevations => _elevations;

    public AgentState State
    {
        get => _state;
        set
        {
            _state = value;
            Changed();
        }
    }

    /// <summary>Set when stored grants failed to load: every request is then denied as unavailable.</summary>
    public string? Problem
    {
        get => _problem;
        set
        {
            _problem = value;
            Changed();
        }
    }

    /// <summary>
    /// Moves on with every change of what decides (grant, state, problem, revocations, elevations): the local path of
    /// host calls (<see cref="Execution.HostCallDecisions"/>) reads it from the sandbox's threads to see that the
    /// picture it decides from is still the grain's. Written only in the grain's turns, after the change.
    /// </summary>
    public int Version => Volatile.Read(ref _version);

    private void Changed() => Volatile.Write(ref _version, _version + 1);

    /// <summary>
    /// A turn that may change what decides has begun and awaits before it does (a quarantine or release, a grant or an
    /// elevation applied, a revocation notice): until its <see cref="EndChange"/> the local path of host calls allows
    /// nothing (the version moves, and a picture made meanwhile sends every call to the grain), so host calls wait for
    /// the grain, which decides them after the turn, on what it changed, as it does every check from outside. Counted:
    /// a revocation notice interleaves with the other turns. In the grain's turn, before the turn's first await.
    /// </summary>
    public void BeginChange()
    {
        _changing++;
        Changed();
    }

    /// <summary>The turn that <see cref="BeginChange"/> began is over; the version moves again, so a new picture is made.</summary>
    public void EndChange()
    {
        _changing--;
        Changed();
    }

    /// <summary>Whether a turn that may change what decides is under way (see <see cref="BeginChange"/>).</summary>
    public bool IsChanging => _changing > 0;

    public bool IsActiveRevoked => Active is not null && IsRevoked(Active.GrantId);

    public IEnumerable<string> GrantIds => Active is null ? _elevations.Select(e => e.GrantId) : [Active.GrantId, .. _elevations.Select(e => e.GrantId)];

    public bool Holds(string grantId) => GrantIds.Contains(grantId, StringComparer.Ordinal);

    public void MarkRevoked(string grantId)
    {
        (_revoked ??= new(StringComparer.Ordinal)).Add(grantId);
        Changed();
    }

    public bool IsRevoked(string grantId) => _revoked is { } revoked && revoked.Contains(grantId);

    public void SetElevations(IEnumerable<ActiveGrant> elevations)
    {
        _elevations = [.. elevations];
        Changed();
    }

    public Decision Decide(CheckRequest? request, DateTimeOffset now, string agent) => Evaluate(request, now, agent).Decision;

    /// <summary>Decides a request and gives its capability's kind, parsed once for what follows (metering); valid when allowed.</summary>
    public Decision Decide(CheckRequest? request, DateTimeOffset now, string agent, out CheckKind kind)
    {
        if (request is { Amount: null or >= 0 } && CheckKinds.TryParse(request.Capability, out kind))
        {
            return Evaluate(kind, request.Resource, now, agent, definitionHash: request.DefinitionHash).Decision;
        }

        kind = default;
        return Evaluate(request, now, agent).Decision; // malformed or unknown: explained, never allowed
    }

    /// <summary>Decides a check the kernel makes itself, of a capability it names by kind.</summary>
    public Decision Decide(CheckKind kind, string? resource, DateTimeOffset now, string agent) => Evaluate(kind, resource, now, agent).Decision;

    /// <summary>
    /// Whether the agent may act at all, whatever the capability: a live, unrevoked grant of its own (not only an
    /// elevation), in its time window, and an agent in good standing. The denial if not.
    /// </summary>
    public Decision? Standing(DateTimeOffset now, string agent)
    {
        var evaluation = Evaluate(CheckKind.Subprocess, null, now, agent);
        return evaluation.Grant is null || evaluation.Decision.Reason is ReasonCodes.Expired or ReasonCodes.NotYetValid ? evaluation.Decision : null;
    }

    public Explanation Explain(CheckRequest? request, DateTimeOffset now, string agent)
    {
        var evaluation = Evaluate(request, now, agent);
        if (evaluation.Grant is not { } grant)
        {
            return new Explanation { Decision = evaluation.Decision, DecidedBy = evaluation.DecidedBy!, Suggestion = evaluation.Suggestion };
        }

        var explained = GrantExplanation.For(grant.Policy, evaluation.Verdict, request!.Capability, request.Resource, now);
        var elevation = grant != Active;
        return new Explanation
        {
            Decision = evaluation.Decision,
            DecidedBy = elevation ? $"elevation {grant.GrantId}: {explained.DecidedBy}" : explained.DecidedBy,
            Suggestion = explained.Suggestion,
        };
    }

    /// <summary>Evaluates a request against a proposed grant (signed or not, never applied): what-if questions.</summary>
    public static Explanation WhatIf(CheckRequest? request, string? proposedGrant, DateTimeOffset now, TimeSpan clockSkew)
    {
        var terms = GrantTerms.ParseProposal(System.Text.Encoding.UTF8.GetBytes(proposedGrant ?? string.Empty), now);
        if (!terms.TryGetValue(out var proposal))
        {
            return new Explanation
            {
                Decision = Decision.Deny(terms.Failure.Code, $"the proposed grant is not valid: {terms.Failure.Message}"),
                DecidedBy = "proposal",
                Suggestion = "fix the proposed grant",
            };
        }

        if (request is null || string.IsNullOrEmpty(request.Capability))
        {
            return new Explanation { Decision = Decision.Deny(ReasonCodes.InvalidRequest, "a check needs a capability"), DecidedBy = "request" };
        }

        var explained = GrantExplanation.For(new GrantPolicy(proposal, clockSkew), request.Capability, request.Resource, now, request.DefinitionHash);
        var verdict = explained.Decision;
        return new Explanation
        {
            Decision = new Decision { Allowed = verdict.Allowed, Reason = verdict.Reason, Message = verdict.Message },
            DecidedBy = $"proposal: {explained.DecidedBy}",
            Suggestion = explained.Suggestion,
        };
    }

    private Evaluation Evaluate(CheckRequest? request, DateTimeOffset now, string agent)
    {
        if (request is null || string.IsNullOrEmpty(request.Capability) || request.Amount < 0)
        {
            return Evaluation.Agent(Decision.Deny(ReasonCodes.InvalidRequest, "a check needs a capability and, if any, an amount of at least 0"),
                "request", "name a capability and an amount of at least 0");
        }

        if (!CheckKinds.TryParse(request.Capability, out var kind))
        {
            // Decided by the grant's rules only where the agent could act at all: an unknown agent stays no_grant.
            return Evaluate(null, request.Resource, now, agent, request.Capability);
        }

        return Evaluate(kind, request.Resource, now, agent, definitionHash: request.DefinitionHash);
    }

    /// <summary>
    /// Whether a gateway may show the agent a tool: it could call it now, or could once a person approves (the call
    /// then asks). A tool whose definition breaks its pin is not shown: its description is what a rug pull changes.
    /// </summary>
    public bool Shows(string tool, string? definitionHash, DateTimeOffset now, string agent) =>
        ToolNames.IsTool(tool)
        && Evaluate(CheckKind.ToolCall, tool, now, agent, definitionHash: definitionHash).Decision.Reason is ReasonCodes.Allowed or ReasonCodes.ApprovalRequired;

    private Evaluation Evaluate(CheckKind? kind, string? resource, DateTimeOffset now, string agent, string? unknownCapability = null, string? definitionHash = null)
    {
        if (Problem is not null)
        {
            return Evaluation.Agent(Decision.Deny(ReasonCodes.Unavailable, Problem), "agent.storage", "apply a grant again");
        }

        if (Active is null)
        {
            return Evaluation.Agent(Decision.Deny(ReasonCodes.NoGrant, $"{agent} has no grant"), "agent", "apply a grant signed by a root or admin of the tenant");
        }

        switch (State)
        {
            case AgentState.Quarantined:
                return Evaluation.Agent(Decision.Deny(ReasonCodes.Quarantined, $"{agent} is quarantined", Active.GrantId), "agent.state", "a signed release (agentsec quarantine --release)");
            case AgentState.Suspended:
                return Evaluation.Agent(Decision.Deny(ReasonCodes.Suspended, $"{agent} is suspended", Active.GrantId), "agent.state", "a signed release");
        }

        if (IsActiveRevoked)
        {
            return Evaluation.Agent(Decision.Deny(ReasonCodes.Revoked, $"grant {Active.GrantId} was revoked", Active.GrantId), "revocation", "apply a new grant");
        }

        if (kind is not { } known)
        {
            return Evaluation.ByGrant(Active, GrantPolicy.UnknownCapability(unknownCapability));
        }

        var verdict = Active.Policy.Decide(known, resource, now, definitionHash);
        if (!verdict.Allowed && verdict.Rule is DecisionRule.Level or DecisionRule.Scope or DecisionRule.Approval)
        {
            // An elevation (an approved permission request) adds to a live grant; it never revives a dead one.
            foreach (var elevation in _elevations)
            {
                if (IsRevoked(elevation.GrantId) || (known == CheckKind.ToolCall && !NamesTool(elevation, resource)))
                {
                    continue;
                }

                var elevated = elevation.Policy.Decide(known, resource, now, definitionHash);
                if (elevated.Allowed)
                {
                    // The active grant's pins hold whichever grant allows the call: an approval is for the tool as pinned.
                    return known == CheckKind.ToolCall && Active.Policy.PinVerdict(resource!, definitionHash) is { } changed
                        ? Evaluation.ByGrant(Active, changed)
                        : Evaluation.ByGrant(elevation, elevated);
                }
            }
        }

        return Evaluation.ByGrant(Active, verdict);
    }

    /// <summary>An approval is an elevation that names the exact tool, never one a pattern happens to match.</summary>
    private static bool NamesTool(ActiveGrant elevation, string? tool) =>
        tool is not null && elevation.Policy.Terms.Tools.Patterns.Contains(tool, StringComparer.Ordinal);

    private readonly record struct Evaluation(Decision Decision, ActiveGrant? Grant, PolicyDecision Verdict, string? DecidedBy, string? Suggestion)
    {
        public static Evaluation Agent(Decision decision, string decidedBy, string suggestion) => new(decision, null, default, decidedBy, suggestion);

        public static Evaluation ByGrant(ActiveGrant grant, PolicyDecision verdict) => new(
            verdict.Allowed ? grant.Allowed : new Decision { Allowed = false, Reason = verdict.Reason, Message = verdict.Message, GrantId = grant.GrantId },
            grant, verdict, null, null);
    }
}
