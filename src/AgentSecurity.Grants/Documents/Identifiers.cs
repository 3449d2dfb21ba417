namespace AgentSecurity.Grants.Documents;

/// <summary>
/// Identifier rules: <c>tenantId</c> <c>[a-z0-9][a-z0-9-]{0,62}</c>; <c>agentId</c> and <c>grantId</c>
/// <c>[A-Za-z0-9][A-Za-z0-9._:-]{0,127}</c>. Neither can hold <c>/</c>, which makes <c>tenant/agent</c> a safe key.
/// </summary>
public static class Identifiers
{
    public const string TenantIdRule = "[a-z0-9][a-z0-9-]{0,62}";

    public const string LocalIdRule = "[A-Za-z0-9][A-Za-z0-9._:-]{0,127}";

    public static bool IsTenantId(string? value) =>
        value is { Length: >= 1 and <= 63 } && IsLowerAlnum(value[0]) && value.All(c => IsLowerAlnum(c) || c == '-');

    public static bool IsAgentId(string? value) => IsLocalId(value);

    public static bool IsGrantId(string? value) => IsLocalId(value);

    private static bool IsLocalId(string? value) =>
        value is { Length: >= 1 and <= 128 } && char.IsAsciiLetterOrDigit(value[0]) &&
        value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-');

    private static bool IsLowerAlnum(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
}
