using AgentSecurity.Grants.Crypto;

namespace AgentSecurity.Testing;

/// <summary>Deterministic keys, so that failures reproduce; seed n is 32 bytes of value n.</summary>
public static class TestKeys
{
    public static SigningKey Operator { get; } = FromByte(0xA0);

    public static SigningKey Root { get; } = FromByte(0x01);

    public static SigningKey OtherRoot { get; } = FromByte(0x02);

    public static SigningKey Stranger { get; } = FromByte(0x0F);

    public static SigningKey FromByte(byte value)
    {
        var seed = new byte[SigningKey.SeedLength];
        Array.Fill(seed, value);
        return SigningKey.FromSeed(seed);
    }
}
