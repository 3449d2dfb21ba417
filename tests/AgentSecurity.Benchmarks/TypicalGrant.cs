using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Verification;
using AgentSecurity.Testing;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// The grant the in-process benchmarks decide with: the test grant (workspace files, HTTPS to *.example.com, notes in
/// memory, valid for a day), signed by the tenant's root, with the resource limits given.
/// </summary>
internal static class TypicalGrant
{
    /// <summary>Every limit a check can be metered by, set high enough never to deny within a benchmark run.</summary>
    public const string EveryMeteredLimit =
        """{"checksPerSecond":1000000000,"networkRequestsPerMinute":1000000000,"llmTokensPerHour":1000000000000,"fileBytesWrittenPerHour":1000000000000,"memoryBytesStored":1000000000}""";

    public static string Signed(DateTimeOffset now, string resourceLimits = "{}") =>
        TestDocuments.Grant("bench", "a", now.AddMinutes(-1)).SetJson("resourceLimits", resourceLimits).SignWith(TestKeys.Root);

    /// <summary>An agent's permissions holding the grant, as the agent grain keeps them once the grant is applied.</summary>
    public static AgentPermissions Permissions(DateTimeOffset now, string resourceLimits = "{}") => new()
    {
        Active = ActiveGrant.Compile(GrantDocument.Parse(Signed(now, resourceLimits)).Value, DocumentChecks.DefaultClockSkew),
    };
}
