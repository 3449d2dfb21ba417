using AgentSecurity.Mcp.Listings;

namespace AgentSecurity.Mcp.Arguments;

/// <summary>
/// One argument of one tool that names a resource: the string at <see cref="Argument"/> (a JSON pointer into the call's
/// arguments; a final <c>/*</c> means each element of the array there) is checked as <see cref="Capability"/>.
/// </summary>
/// <param name="Tool">The upstream's own tool name (<c>read_text_file</c>, not <c>fs/read_text_file</c>).</param>
/// <param name="Argument">RFC 6901 pointer, e.g. <c>/path</c>, or <c>/paths/*</c> for each element of an array.</param>
/// <param name="Capability">The check, e.g. <c>fileSystem:read</c>.</param>
public sealed record ArgumentMapEntry(string Tool, string Argument, string Capability)
{
    /// <summary>
    /// A pointer to a string whose UTF-8 length is the check's amount (a file write's <c>content</c>, metered by
    /// <c>fileBytesWrittenPerHour</c>); none for checks without an amount.
    /// </summary>
    public string? AmountArgument { get; init; }

    /// <summary>
    /// The amount of a check that writes no counted bytes of its own (a move, a new directory), so that a grant metering
    /// <c>fileBytesWrittenPerHour</c>, which needs an amount on every write, still decides it.
    /// </summary>
    public long? FixedAmount { get; init; }

    /// <summary>
    /// How the tool's answer names what lies below the folder this argument gives (<c>directory_tree</c>,
    /// <c>search_files</c>); such an answer shows only the folders the grant reads (<see cref="ListingFilter"/>).
    /// </summary>
    public ListingFormat Listing { get; init; }
}
