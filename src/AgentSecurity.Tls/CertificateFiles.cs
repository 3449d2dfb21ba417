using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AgentSecurity.Tls;

/// <summary>
/// Reads the cluster's certificate files: a certificate with its private key (PEM, the key in its own file or in the same
/// one, optionally encrypted; or PKCS#12) and the CA certificates (PEM, one or more: several while a CA is rotated).
/// Every failure is a <see cref="CertificateFileException"/> naming the file.
/// </summary>
public static class CertificateFiles
{
    private const string PemStart = "-----BEGIN";

    /// <param name="certificateFile">PEM certificate (<c>.crt</c>) or PKCS#12 (<c>.pfx</c>, <c>.p12</c>).</param>
    /// <param name="keyFile">PEM private key; when null, a PEM certificate file must hold the key too.</param>
    /// <param name="password">Of an encrypted PEM key or of a PKCS#12 file.</param>
    public static X509Certificate2 LoadCertificate(string certificateFile, string? keyFile = null, string? password = null)
    {
        Require(certificateFile);
        if (!string.IsNullOrEmpty(keyFile))
        {
            Require(keyFile);
        }

        X509Certificate2 certificate;
        try
        {
            if (IsPem(certificateFile))
            {
                var key = string.IsNullOrEmpty(keyFile) ? null : keyFile;
                certificate = string.IsNullOrEmpty(password)
                    ? X509Certificate2.CreateFromPemFile(certificateFile, key)
                    : X509Certificate2.CreateFromEncryptedPemFile(certificateFile, password, key);
            }
            else if (!string.IsNullOrEmpty(keyFile))
            {
                throw new CertificateFileException(certificateFile, "is not PEM, and only a PEM certificate takes a separate key file");
            }
            else
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(certificateFile, password);
            }
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            throw new CertificateFileException(keyFile is { Length: > 0 } ? $"{certificateFile} with {keyFile}" : certificateFile,
                $"cannot be read as a certificate with its private key ({e.Message})", e);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new CertificateFileException(certificateFile, "has no private key (name the key file, or use a file that holds both)");
        }

        return certificate;
    }

    /// <summary>The CA certificates a PEM file holds (at least one, each a certificate authority).</summary>
    public static X509Certificate2Collection LoadAuthorities(string caFile)
    {
        Require(caFile);
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(caFile);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new CertificateFileException(caFile, $"cannot be read as PEM CA certificates ({e.Message})", e);
        }

        if (authorities.Count == 0)
        {
            throw new CertificateFileException(caFile, "holds no PEM certificate");
        }

        foreach (var authority in authorities)
        {
            if (authority.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
            {
                throw new CertificateFileException(caFile, $"holds \"{authority.Subject}\", which is not a CA certificate");
            }
        }

        return authorities;
    }

    private static void Require(string file)
    {
        if (!File.Exists(file))
        {
            throw new CertificateFileException(file, "does not exist");
        }
    }

    private static bool IsPem(string file)
    {
        using var reader = new StreamReader(file);
        var buffer = new char[4096];
        var read = reader.ReadBlock(buffer, 0, buffer.Length);
        return new string(buffer, 0, read).Contains(PemStart, StringComparison.Ordinal);
    }
}
