using System.Reflection;
using AgentSecurity.Abstractions.Boundary;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// Puts the kernel's token on the calls a silo makes as the kernel: calls of the kernel's interfaces from inside an
/// activation of the kernel's own grains (or an Orleans system target) or in a <see cref="KernelScope"/>, and calls of
/// Orleans' own interfaces (the management grain, streams' plumbing, reminders), which carry nothing of a client and
/// which the boundary seals to clients anyway. A call of a kernel interface from anywhere else on the silo (an ASP.NET
/// request handler calling through the silo's grain factory, or code of a platform that hosts the kernel in its silo)
/// is not stamped: it is a client's call and must prove its caller with a session like any other, so that the HTTP
/// endpoints, the .NET clients and a platform's own grains share one authorization path. A call of a platform's
/// interface never carries the token: the platform's grains could pass it on (in a stream message, to another
/// cluster), and anyone holding it passes the boundary. Nor does a call to a client (an event subscriber's observer),
/// which carries neither the token nor the session or principal of the call that caused it: a subscriber would learn
/// what proves a kernel call, or another caller's session, and could replay either.
/// </summary>
internal sealed class KernelCallStamp(KernelToken token) : IOutgoingGrainCallFilter
{
    // Async so that the values set or removed here stay with this call only: the calling flow keeps its own.
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        var target = context.TargetId;
        if (GrainTypePrefix.IsClient(in target))
        {
            RequestContext.Remove(CallerContext.KernelKey);
            RequestContext.Remove(CallerContext.SessionKey);
            RequestContext.Remove(CallerContext.PrincipalKey);
        }
        else if (IsKernelCall(context.SourceContext is { GrainInstance: { } source } && GrainOwners.Of(source) is not GrainOwner.Host, context.InterfaceMethod))
        {
            RequestContext.Set(CallerContext.KernelKey, token.Value);
        }
        else
        {
            // Whatever a non-kernel flow holds, it never passes as the kernel.
            RequestContext.Remove(CallerContext.KernelKey);
        }

        await context.Invoke();
    }

    /// <summary>
    /// Whether a call the silo makes is the kernel's. A method Orleans cannot name is not: stamping it would let an
    /// unknown call through the boundary.
    /// </summary>
    /// <param name="fromKernel">The call is made by an activation of the kernel's grains or an Orleans system target of this silo.</param>
    /// <param name="method">The interface method called.</param>
    public static bool IsKernelCall(bool fromKernel, MethodInfo? method) => method?.DeclaringType is { } type && GrainOwners.Of(type) switch
    {
        GrainOwner.Orleans => true,
        GrainOwner.Kernel => fromKernel || KernelScope.IsActive,
        _ => false,
    };
}
