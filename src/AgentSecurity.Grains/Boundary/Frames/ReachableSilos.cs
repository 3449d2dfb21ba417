using System.Net;

namespace AgentSecurity.Grains.Boundary.Frames;

/// <summary>
/// The silos a client may address a system target on: this gateway (as Orleans' gateway recognises itself, a loopback
/// address with its port and generation included) and the silos of the cluster's membership, dead ones included (Orleans
/// rejects a message to those without dialling). Any other address the gateway would forward to, dialling for the
/// client an endpoint the client chose.
/// </summary>
internal sealed class ReachableSilos(SiloAddress gateway, Func<SiloAddress, bool> isMember)
{
    public bool Reaches(in FrameSilo target)
    {
        if (!target.IsPresent)
        {
            return false;
        }

        var address = SiloAddress.New(target.ToEndPoint(), target.Generation);
        // As Orleans' gateway decides whether a message is its own (Gateway.IsTargetingLocalGateway).
        var samePort = address.Endpoint.Port == gateway.Endpoint.Port;
        var gatewayItself = (samePort && address.Endpoint.Address.Equals(gateway.Endpoint.Address)
                && (address.Generation == gateway.Generation || address.Generation == 0 || gateway.Generation == 0))
            || (samePort && IPAddress.IsLoopback(address.Endpoint.Address) && address.Generation == gateway.Generation);
        return gatewayItself || isMember(address);
    }
}
