namespace AgentSecurity.Abstractions.Tools;

/// <summary>A tool as an upstream server lists it: the exact tool <c>server/tool</c> and its definition's hash.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.ToolListing.v1")]
public sealed record ToolListing
{
    public ToolListing(string tool, string? definitionHash)
    {
        Tool = tool;
        DefinitionHash = definitionHash;
    }

    [Id(0)] public string Tool { get; init; }

    [Id(1)] public string? DefinitionHash { get; init; }
}
