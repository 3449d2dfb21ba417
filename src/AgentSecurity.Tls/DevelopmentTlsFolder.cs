using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AgentSecurity.Tls;

/// <summary>
/// The development CA and its certificates in one folder (<c>.agentsec/tls/</c> for <c>./run.sh</c>): <c>ca.crt</c>,
/// <c>ca.key</c>, <c>silo.crt</c>, <c>silo.key</c>, <c>client.crt</c>, <c>client.key</c>, PEM, keys with mode 0600.
/// <see cref="Ensure"/> makes what is missing and keeps what exists, so running it again changes nothing.
/// </summary>
public static class DevelopmentTlsFolder
{
    public const string AuthorityCertificate = "ca.crt";
    public const string AuthorityKey = "ca.key";
    public const string SiloCertificate = "silo.crt";
    public const string SiloKey = "silo.key";
    public const string ClientCertificate = "client.crt";
    public const string ClientKey = "client.key";

    /// <summary>Names a silo's certificate always carries: the loopback addresses a local cluster is reached at.</summary>
    public static readonly IReadOnlyList<string> LoopbackHosts = ["127.0.0.1", "::1", "localhost"];

    /// <param name="directory">The folder; created (mode 0700) when missing.</param>
    /// <param name="siloHosts">More names for a new silo certificate (an advertised host); loopback is always there.</param>
    /// <param name="time">The clock validity starts from.</param>
    /// <returns>Each file with <c>created</c> or <c>kept</c>, and the CA's SHA-256 fingerprint.</returns>
    /// <exception cref="CertificateFileException">Half of a pair exists, or certificates exist without the CA that issued them.</exception>
    public static DevelopmentTlsResult Ensure(string directory, IEnumerable<string> siloHosts, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(siloHosts);
        CreateDirectory(directory);
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var authorityCertificate = Path.Combine(directory, AuthorityCertificate);
        var authorityKey = Path.Combine(directory, AuthorityKey);

        X509Certificate2 authority;
        if (PairExists(authorityCertificate, authorityKey))
        {
            authority = CertificateFiles.LoadCertificate(authorityCertificate, authorityKey);
            files[AuthorityCertificate] = files[AuthorityKey] = "kept";
        }
        else
        {
            foreach (var leaf in new[] { SiloCertificate, SiloKey, ClientCertificate, ClientKey }.Select(f => Path.Combine(directory, f)).Where(File.Exists))
            {
                throw new CertificateFileException(leaf, $"exists but the CA that issued it ({AuthorityCertificate}, {AuthorityKey}) does not: remove the folder's files to start over");
            }

            authority = DevelopmentCertificates.CreateAuthority($"AgentSecurity development CA {Guid.NewGuid().ToString("N")[..8]}", time);
            Write(authorityKey, authorityCertificate, authority);
            files[AuthorityCertificate] = files[AuthorityKey] = "created";
        }

        using (authority)
        {
            Issue(directory, SiloCertificate, SiloKey, PeerRole.Silo, "agentsec silo", [.. LoopbackHosts, .. siloHosts], authority, time, files);
            Issue(directory, ClientCertificate, ClientKey, PeerRole.Client, "agentsec client", [], authority, time, files);
            return new DevelopmentTlsResult(directory, files, authority.GetCertHashString(HashAlgorithmName.SHA256));
        }
    }

    private static void Issue(string directory, string certificateName, string keyName, PeerRole role, string subject, string[] hosts,
        X509Certificate2 authority, TimeProvider time, Dictionary<string, string> files)
    {
        var certificateFile = Path.Combine(directory, certificateName);
        var keyFile = Path.Combine(directory, keyName);
        if (PairExists(certificateFile, keyFile))
        {
            files[certificateName] = files[keyName] = "kept";
            return;
        }

        using var issued = DevelopmentCertificates.Issue(authority, role, subject, hosts, time);
        Write(keyFile, certificateFile, issued);
        files[certificateName] = files[keyName] = "created";
    }

    /// <summary>Both files, or neither; one without the other is an error rather than something to paper over.</summary>
    private static bool PairExists(string certificateFile, string keyFile)
    {
        var certificate = File.Exists(certificateFile);
        var key = File.Exists(keyFile);
        if (certificate != key)
        {
            throw new CertificateFileException(certificate ? certificateFile : keyFile,
                $"exists without {Path.GetFileName(certificate ? keyFile : certificateFile)}: restore it, or remove both to have them made again");
        }

        return certificate;
    }

    /// <summary>The key first, created with owner-only permissions so it is never readable by others; never overwritten.</summary>
    private static void Write(string keyFile, string certificateFile, X509Certificate2 certificate)
    {
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("an ECDSA certificate with its key is expected");
        WriteNew(keyFile, key.ExportPkcs8PrivateKeyPem(), secret: true);
        WriteNew(certificateFile, certificate.ExportCertificatePem(), secret: false);
    }

    private static void WriteNew(string path, string text, bool secret)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = secret
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
        writer.Write('\n');
    }

    private static void CreateDirectory(string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
