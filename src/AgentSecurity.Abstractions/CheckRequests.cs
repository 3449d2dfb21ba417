using System.Globalization;
using System.Net;

namespace AgentSecurity.Abstractions;

/// <summary>
/// Checks built the way the kernel reads them: the capability's exact name and the resource in the form its grants
/// match (<c>host:port</c> for the network, an absolute path for files, a key for memory). Input that cannot make a
/// check at all (a relative URL, a URL without a host, an empty path, a negative amount) throws
/// <see cref="ArgumentException"/>. Nothing is repaired: a path with <c>..</c> goes to the kernel as it is, which
/// denies it (<c>invalid_resource</c>) and records the attempt, as it would any other caller's.
/// </summary>
public static class CheckRequests
{
    /// <summary>What would make a URL parser read part of a "host" as a path, a query or user information.</summary>
    private static readonly System.Buffers.SearchValues<char> NotInHost = System.Buffers.SearchValues.Create("/?#@\\ \t\r\n");

    /// <summary>
    /// A request to <paramref name="url"/>: <see cref="Capabilities.NetworkOutbound"/> to its <c>host:port</c>, the port
    /// the URL names or else its scheme's (443 for https, 80 for http). The host as the connection will use it: lower
    /// case, an international name in its ASCII form, IPv4 in dotted decimal, IPv6 in brackets.
    /// </summary>
    public static CheckRequest Fetch(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || IsImplicitFilePath(uri))
        {
            throw new ArgumentException($"\"{url}\" is not an absolute URL: name the scheme and host (https://host/path)", nameof(url));
        }

        return Fetch(uri);
    }

    /// <inheritdoc cref="Fetch(string)"/>
    public static CheckRequest Fetch(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || IsImplicitFilePath(url))
        {
            throw new ArgumentException($"\"{url.OriginalString}\" is not an absolute URL: name the scheme and host (https://host/path)", nameof(url));
        }

        // Only a URL with an authority (scheme://host) names a host to connect to: file:///etc/passwd has none, and
        // mailto:a@b.example names a mailbox, not a destination of this request.
        if (url.Host.Length == 0 || !url.OriginalString.AsSpan(url.Scheme.Length).StartsWith("://", StringComparison.Ordinal))
        {
            throw new ArgumentException($"\"{url.OriginalString}\" names no host: a network check needs scheme://host", nameof(url));
        }

        if (url.Port < 0)
        {
            throw new ArgumentException($"\"{url.OriginalString}\" names no port, and its scheme {url.Scheme} has no default one: write scheme://host:port", nameof(url));
        }

        return new CheckRequest(Capabilities.NetworkOutbound, Destination(url, nameof(url)));
    }

    /// <summary>
    /// A connection to <paramref name="host"/> on <paramref name="port"/> (a database, a raw socket):
    /// <see cref="Capabilities.NetworkOutbound"/> to <c>host:port</c>, the host written as <see cref="Fetch(Uri)"/> writes it.
    /// </summary>
    public static CheckRequest Connect(string host, int port)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        if (host.AsSpan().IndexOfAny(NotInHost) >= 0)
        {
            throw new ArgumentException($"\"{host}\" is not a host name or an IP address", nameof(host));
        }

        // Through the URL parser, so a host is written exactly as Fetch writes it (0x7f.1 as 127.0.0.1, IPv6 compressed).
        var literal = host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;
        if (!Uri.TryCreate($"tcp://{literal}:{port.ToString(CultureInfo.InvariantCulture)}/", UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            throw new ArgumentException($"\"{host}\" is not a host name or an IP address", nameof(host));
        }

        return new CheckRequest(Capabilities.NetworkOutbound, Destination(uri, nameof(host)));
    }

    /// <summary>Reading the file at <paramref name="path"/>: <see cref="Capabilities.FileSystemRead"/>.</summary>
    public static CheckRequest ReadFile(string path) => new(Capabilities.FileSystemRead, AbsolutePath(path));

    /// <summary>
    /// Writing the file at <paramref name="path"/>: <see cref="Capabilities.FileSystemWrite"/>, with the bytes to write
    /// when known (metered by <c>fileBytesWrittenPerHour</c>, which requires it).
    /// </summary>
    public static CheckRequest WriteFile(string path, long? bytes = null) => new(Capabilities.FileSystemWrite, AbsolutePath(path), Amount(bytes, nameof(bytes)));

    /// <summary>Deleting the file at <paramref name="path"/>: <see cref="Capabilities.FileSystemDelete"/>.</summary>
    public static CheckRequest DeleteFile(string path) => new(Capabilities.FileSystemDelete, AbsolutePath(path));

    /// <summary>Reading the memory key <paramref name="key"/> (<c>notes/today</c>): <see cref="Capabilities.MemoryRead"/>.</summary>
    public static CheckRequest ReadMemory(string key) => new(Capabilities.MemoryRead, MemoryKey(key));

    /// <summary>Writing the memory key <paramref name="key"/>, with the bytes to store when known: <see cref="Capabilities.MemoryWrite"/>.</summary>
    public static CheckRequest WriteMemory(string key, long? bytes = null) => new(Capabilities.MemoryWrite, MemoryKey(key), Amount(bytes, nameof(bytes)));

    /// <summary>Deleting the memory key <paramref name="key"/>: <see cref="Capabilities.MemoryDelete"/>.</summary>
    public static CheckRequest DeleteMemory(string key) => new(Capabilities.MemoryDelete, MemoryKey(key));

    /// <summary>
    /// A call of the language model <paramref name="model"/> that may use up to <paramref name="tokens"/> tokens (prompt
    /// and completion): <see cref="Capabilities.Llm"/>, metered by <c>llmTokensPerHour</c>. The model is recorded with
    /// the decision; grants allow or deny the capability as a whole.
    /// </summary>
    public static CheckRequest Llm(string model, long tokens)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        return new CheckRequest(Capabilities.Llm, model, Amount(tokens, nameof(tokens)));
    }

    /// <summary>
    /// Calling <paramref name="tool"/> of <paramref name="server"/>: <see cref="Capabilities.ToolCall"/> on <c>server/tool</c>,
    /// with the hash of the definition the caller sees (<see cref="Grants.Tools.ToolDefinitionHash"/>) when it has one.
    /// </summary>
    public static CheckRequest CallTool(string server, string tool, string? definitionHash = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(server);
        ArgumentException.ThrowIfNullOrEmpty(tool);
        return new CheckRequest(Capabilities.ToolCall, Grants.Tools.ToolNames.Of(server, tool)) { DefinitionHash = definitionHash };
    }

    /// <summary>Starting a process, naming the command for the audit log when given: <see cref="Capabilities.Subprocess"/>.</summary>
    public static CheckRequest Subprocess(string? command = null) => new(Capabilities.Subprocess, Optional(command, nameof(command)));

    /// <summary>Querying a vector database, naming the collection for the audit log when given: <see cref="Capabilities.VectorDb"/>.</summary>
    public static CheckRequest VectorDb(string? collection = null) => new(Capabilities.VectorDb, Optional(collection, nameof(collection)));

    /// <summary>
    /// The <c>host:port</c> a request goes to, as grants name it, the way the kernel's own sandbox names it: names and
    /// IPv4 in the canonical form the connection will use, IPv6 in brackets. An IPv6 zone (<c>%eth0</c>) no grant can name.
    /// </summary>
    private static string Destination(Uri uri, string parameter)
    {
        var port = uri.Port.ToString(CultureInfo.InvariantCulture);
        if (uri.HostNameType != UriHostNameType.IPv6)
        {
            return $"{uri.IdnHost.ToLowerInvariant()}:{port}";
        }

        return !uri.DnsSafeHost.Contains('%', StringComparison.Ordinal) && IPAddress.TryParse(uri.DnsSafeHost, out var address) && address.ScopeId == 0
            ? $"[{address}]:{port}"
            : throw new ArgumentException($"\"{uri.OriginalString}\" names an IPv6 address with a zone, which no grant can name", parameter);
    }

    /// <summary>On Unix, <see cref="Uri"/> reads <c>/etc/passwd</c> as an absolute file URL: it is a path, not a URL.</summary>
    private static bool IsImplicitFilePath(Uri uri) =>
        uri.IsFile && !uri.OriginalString.StartsWith(Uri.UriSchemeFile + ":", StringComparison.OrdinalIgnoreCase);

    private static string AbsolutePath(string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw path is null
                ? new ArgumentNullException(nameof(path), "a file check needs an absolute path (/workspace/out.txt), not null")
                : new ArgumentException("a file check needs an absolute path (/workspace/out.txt), not an empty one", nameof(path));
        }

        return path[0] == '/'
            ? path
            : throw new ArgumentException($"\"{path}\" is not an absolute path: resolve it against the agent's working directory first (/workspace/{path})", nameof(path));
    }

    private static string MemoryKey(string key) =>
        string.IsNullOrWhiteSpace(key)
            ? throw new ArgumentException("a memory check needs a key (notes/today), not an empty one", nameof(key))
            : key;

    private static long? Amount(long? amount, string parameter) =>
        amount is < 0 ? throw new ArgumentOutOfRangeException(parameter, amount, "an amount is at least 0") : amount;

    private static string? Optional(string? name, string parameter) =>
        name is not null && string.IsNullOrWhiteSpace(name)
            ? throw new ArgumentException("an empty name: give one or none (null)", parameter)
            : name;
}
