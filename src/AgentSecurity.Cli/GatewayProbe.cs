using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using AgentSecurity.Grants;
using AgentSecurity.Tls;

namespace AgentSecurity.Cli;

/// <summary>
/// A quick look at the gateways before the Orleans client starts: that client keeps retrying an absent gateway, or one
/// that refuses its TLS, and a person at a terminal should learn within a second or two what is wrong. With TLS, the
/// probe completes a handshake, so the gateway sees a well-formed TLS connection (no failed-handshake warning in the
/// silo's log for every command) and a gateway whose certificate the cluster's CA does not vouch for is named at once.
/// </summary>
internal static class GatewayProbe
{
    /// <returns>Null when a gateway answers (and, with TLS, proves itself one of the cluster), else why none does.</returns>
    public static async Task<Failure?> ProbeAsync(IPEndPoint[] endpoints, string addresses, ClusterCertificates? tls, CancellationToken cancellation)
    {
        string? tlsProblem = null;
        foreach (var endpoint in endpoints)
        {
            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(endpoint, cancellation).AsTask().WaitAsync(TimeSpan.FromSeconds(2), cancellation);
            }
            catch (Exception e) when (e is SocketException or TimeoutException)
            {
                continue;
            }

            if (tls is null)
            {
                return null;
            }

            tlsProblem = await HandshakeAsync(socket, tls, cancellation);
            if (tlsProblem is null)
            {
                return null;
            }

            tlsProblem = $"{endpoint}: {tlsProblem}";
        }

        return tlsProblem is not null
            ? new Failure(ReasonCodes.Unavailable, $"no gateway at {addresses} completed TLS with this client's certificates ({tlsProblem})")
            : new Failure(ReasonCodes.Unavailable, $"no gateway listens at {addresses} (is the cluster running? ./run.sh --detach starts one)");
    }

    private static async Task<string?> HandshakeAsync(Socket socket, ClusterCertificates tls, CancellationToken cancellation)
    {
        var validator = new PeerCertificateValidator(tls.Authorities, TimeProvider.System);
        string? refused = null;
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await using var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = string.Empty,
            ClientCertificates = new X509CertificateCollection { tls.Certificate },
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
            {
                if (certificate is null)
                {
                    refused = "the gateway presented no certificate";
                    return false;
                }

                using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                var check = validator.Check(presented, PeerRole.Silo, chain);
                refused = check.Problem;
                return check.Trusted;
            },
        };
        try
        {
            await ssl.AuthenticateAsClientAsync(options, cancellation).WaitAsync(TimeSpan.FromSeconds(5), cancellation);
            return null;
        }
        catch (Exception e) when (e is AuthenticationException or IOException or TimeoutException)
        {
            return refused ?? e.Message;
        }
    }
}
