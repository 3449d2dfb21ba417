namespace AgentSecurity.Hosting.Http;

/// <summary>
/// Who an HTTP request is from: the principal its bearer session proves, and that session, which every grain call made
/// for the request carries so that the trust boundary decides it as it decides a .NET client's.
/// </summary>
internal sealed record HttpCaller(string Principal, string Session);
