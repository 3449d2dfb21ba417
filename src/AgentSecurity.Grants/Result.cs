using System.Diagnostics.CodeAnalysis;

namespace AgentSecurity.Grants;

/// <summary>Why something was refused: a stable code from <see cref="ReasonCodes"/> and a message for people.</summary>
public sealed record Failure(string Code, string Message)
{
    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>
/// The outcome of parsing or verifying: a value or a <see cref="Failure"/>. Verification returns this and never
/// throws on bad input, so a caller cannot forget a catch and turn a refusal into a crash or an allow.
/// </summary>
public readonly struct Result<T>
{
    private readonly T? _value;

    private Result(T? value, Failure? failure)
    {
        _value = value;
        Failure = failure;
    }

    public Failure? Failure { get; }

    [MemberNotNullWhen(false, nameof(Failure))]
    public bool Succeeded => Failure is null;

    /// <summary>The value when there is one: <c>if (!result.TryGetValue(out var value)) return result.Failure;</c>.</summary>
    [MemberNotNullWhen(false, nameof(Failure))]
    public bool TryGetValue([MaybeNullWhen(false)] out T value)
    {
        value = _value;
        return Failure is null;
    }

    /// <summary>The value, or the failure: <c>if (!result.TryGetValue(out var value, out var failure)) return failure;</c>.</summary>
    [MemberNotNullWhen(false, nameof(Failure))]
    public bool TryGetValue([MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out Failure? failure)
    {
        value = _value;
        failure = Failure;
        return failure is null;
    }

    /// <summary>The value; throws when the result is a failure, which is a programming error.</summary>
    public T Value => Failure is null ? _value! : throw new InvalidOperationException($"No value: {Failure}");

    public static Result<T> Ok(T value) => new(value, null);

    public static Result<T> Fail(string code, string message) => new(default, new Failure(code, message));

    public static Result<T> Fail(Failure failure) => new(default, failure);

#pragma warning disable CA2225 // The named factory methods exist; the conversions only keep call sites short.
    public static implicit operator Result<T>(Failure failure) => Fail(failure);
#pragma warning restore CA2225
}
