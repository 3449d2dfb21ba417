using System.Text;
using AgentSecurity.Abstractions.Audit;

namespace AgentSecurity.Fuzzing.Targets;

/// <summary>
/// Audit events as stored, which someone with access to the storage may have changed. Contract: reading one either gives an
/// event or throws <see cref="FormatException"/>; an event read once writes and reads back to itself.
/// </summary>
public static class EventTarget
{
    public static void Run(byte[] input)
    {
        SecurityEvent read;
        try
        {
            read = SecurityEventJson.Read(Encoding.UTF8.GetString(input));
        }
        catch (FormatException)
        {
            return;
        }

        // Writing keeps milliseconds, so the first write may normalize the time; from then on the form is fixed.
        var written = SecurityEventJson.Write(read);
        var again = SecurityEventJson.Write(SecurityEventJson.Read(written));
        if (again != written)
        {
            throw new ContractViolationException($"an event does not read back as written:\n{written}\n{again}");
        }
    }
}
