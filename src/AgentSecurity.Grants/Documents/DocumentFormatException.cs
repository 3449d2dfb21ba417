namespace AgentSecurity.Grants.Documents;

/// <summary>
/// Control flow inside document parsing only: the readers throw it at the first bad member and the public
/// <c>Parse</c> methods turn it into a <see cref="Result{T}"/>. It never leaves this library.
/// </summary>
internal sealed class DocumentFormatException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;

    public Failure ToFailure() => new(Code, Message);
}
