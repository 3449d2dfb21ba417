using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// The security events of one tenant's issuer. Events of changes travel with the change through the outbox; a refused
/// document changes nothing, so its event is published on its own.
/// </summary>
internal sealed class IssuerEvents(AuditEvents audit, string tenantId, ILogger logger)
{
    public AdministrativeEvent Make(string type, string? agentId = null, string? grantId = null, string? signer = null, string? reason = null, string? message = null) =>
        audit.Administrative(tenantId, type, agentId, grantId, signer, reason, message);

    /// <summary>Publishes that <paramref name="what"/> was refused; the refusal stands whether or not its event gets out.</summary>
    public async Task PublishRefusalAsync(Failure failure, string what, string? signer)
    {
        try
        {
            await audit.PublishAsync(tenantId, [Make(SecurityEventTypes.GrantRefused, signer: signer, reason: failure.Code, message: $"{what} refused: {failure.Message}")]);
        }
#pragma warning disable CA1031 // The refusal stands; its event is logged as lost.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.AuditPublishFailed(logger, e, tenantId);
        }
    }
}
