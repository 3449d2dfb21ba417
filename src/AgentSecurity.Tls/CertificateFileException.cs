namespace AgentSecurity.Tls;

/// <summary>A certificate or key file that cannot be used, with the file named in the message.</summary>
public sealed class CertificateFileException : Exception
{
    public CertificateFileException()
    {
    }

    public CertificateFileException(string message)
        : base(message)
    {
    }

    public CertificateFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public CertificateFileException(string file, string problem, Exception? innerException = null)
        : base($"{file} {problem}", innerException)
    {
        File = file;
    }

    public string? File { get; }
}
