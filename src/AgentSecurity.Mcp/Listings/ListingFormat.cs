namespace AgentSecurity.Mcp.Listings;

/// <summary>
/// How a tool's answer names what lies below the folder it was given, beyond the folder's own entries. Such an answer is
/// shown as a <c>list_directory</c> of each folder would be: the names in folders the agent may read, and no deeper.
/// </summary>
public enum ListingFormat
{
    /// <summary>The answer names nothing the call's checks did not cover; it is passed on as the upstream sent it.</summary>
    None,

    /// <summary>
    /// A JSON array of entries <c>{"name", "type": "file"|"directory", "children": [...]}</c> (the reference server's
    /// <c>directory_tree</c>): a folder the agent may not read is shown without its <c>children</c>.
    /// </summary>
    Tree,

    /// <summary>
    /// Absolute paths below the folder's real path, one a line, or <c>No matches found</c> (the reference server's
    /// <c>search_files</c>): a path is shown when the agent may read every folder from the given one down to its own.
    /// </summary>
    PathLines,
}
