using Jint.Runtime;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// The execution's memory limit as a budget that a built-in draws on before it allocates. Jint checks its limit
/// between statements, so one call that builds a large string or buffer (<c>'x'.repeat(1 &lt;&lt; 28)</c>) has
/// allocated all of it before the next check looks; the guards of <see cref="AllocationGuards"/> and of the host
/// prelude ask here first. Counts what the execution's thread allocated since the execution started, as its usage
/// reports it, so it lives on that thread.
/// </summary>
internal sealed class AllocationBudget(long limitBytes)
{
    /// <summary>
    /// Jint's own ceiling on a string's length (<c>JsString.MaxLength</c>, internal): it refuses a longer one with a
    /// RangeError the script may catch, before allocating it, so the guards leave those to it.
    /// </summary>
    public const long MaxStringLength = 536_870_888;

    /// <summary>Jint's own ceiling on an ArrayBuffer's bytes, likewise refused with a RangeError before anything is allocated.</summary>
    public const long MaxBufferBytes = 2_147_483_591;

    private readonly long _start = GC.GetAllocatedBytesForCurrentThread();

    public long Allocated => GC.GetAllocatedBytesForCurrentThread() - _start;

    public long Remaining => limitBytes - Allocated;

    /// <summary>
    /// What a string of <paramref name="chars"/> UTF-16 code units costs a built-in that assembles it in a buffer and
    /// then copies it out, as Jint's do: two bytes a character, twice.
    /// </summary>
    public static double BuiltString(double chars) => chars * 4;

    /// <summary>Ends the execution with <c>memory_limit</c>, as Jint's own limit does, when <paramref name="bytes"/> do not fit in what is left.</summary>
    public void Reserve(double bytes, string what)
    {
        // Not `bytes <= Remaining`: NaN (a length the built-in will refuse anyway) reserves nothing.
        if (bytes > Remaining)
        {
            throw Exceeded(what, bytes);
        }
    }

    public MemoryLimitExceededException Exceeded(string what, double bytes) =>
        new($"{what} would allocate {bytes:0} bytes, {Math.Max(0, Remaining)} of the {limitBytes} allowed are left");
}
