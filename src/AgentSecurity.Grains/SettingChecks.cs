using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains;

/// <summary>
/// The refusals of an options validator, one per setting out of bounds, each naming the setting as an operator writes it
/// (<c>AgentSecurity:Sandbox:MaxCpuMillis</c>), the rule and the value found.
/// </summary>
internal sealed class SettingChecks(string section)
{
    private readonly List<string> _failures = [];

    public SettingChecks Require(bool holds, string setting, string rule, object? value)
    {
        if (!holds)
        {
            _failures.Add($"{section}:{setting} {rule}; got {value}");
        }

        return this;
    }

    public SettingChecks Positive(string setting, long value) => Require(value > 0, setting, "must be positive", value);

    public SettingChecks Positive(string setting, TimeSpan value) => Require(value > TimeSpan.Zero, setting, "must be positive", value);

    public SettingChecks NotNegative(string setting, long value) => Require(value >= 0, setting, "must not be negative", value);

    public ValidateOptionsResult Result => _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);
}
