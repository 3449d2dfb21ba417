namespace AgentSecurity.Tls;

/// <summary>
/// What the other end of a connection must be. The role is read from the certificate's Extended Key Usage, so a client
/// certificate of the cluster opens gateway connections but never a silo-to-silo one (where no session is asked for).
/// </summary>
public enum PeerRole
{
    /// <summary>A silo: its certificate names server authentication (it also names client authentication, to dial other silos).</summary>
    Silo,

    /// <summary>Anything that may call a gateway: its certificate names client authentication (silos' certificates do too).</summary>
    Client,
}
