using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grains.Agents;

/// <summary>A verified grant in memory, compiled for checks.</summary>
internal sealed class ActiveGrant(GrantDocument document, GrantPolicy policy)
{
    public GrantDocument Document { get; } = document;

    public GrantPolicy Policy { get; } = policy;

    public string GrantId => Document.GrantId;

    public static ActiveGrant Compile(GrantDocument document, TimeSpan clockSkew) => new(document, GrantPolicy.For(document, clockSkew));
}
