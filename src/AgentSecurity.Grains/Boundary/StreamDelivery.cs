using AgentSecurity.Abstractions.Audit;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// Which stream deliveries may reach the kernel's grains: only those of the kernel's own provider. Orleans hands a
/// delivery to whatever handle has its subscription id, and ids are computable: a consumer registered (through streams'
/// pub-sub) with the id of an audit grain's implicit subscription would feed another provider's items into a tenant's
/// log, or take the handle before the kernel's own delivery does.
/// </summary>
internal static class StreamDelivery
{
    /// <summary>The stream of a delivery to a kernel grain that is not the kernel's, or null when the call is no such delivery.</summary>
    public static QualifiedStreamId? IsForeign(IIncomingGrainCallContext context)
    {
        // Deliveries are Orleans' own calls to a kernel grain; the kernel's own interfaces carry no stream ids.
        if (context.InterfaceMethod?.DeclaringType is not { } type || GrainOwners.Of(type) is not GrainOwner.Orleans
            || GrainOwners.Of(context.TargetContext.GrainInstance) is not GrainOwner.Kernel)
        {
            return null;
        }

        for (var i = 0; i < context.Request.GetArgumentCount(); i++)
        {
            if (context.Request.GetArgument(i) is QualifiedStreamId stream && stream.ProviderName != AuditStreams.ProviderName)
            {
                return stream;
            }
        }

        return null;
    }
}
