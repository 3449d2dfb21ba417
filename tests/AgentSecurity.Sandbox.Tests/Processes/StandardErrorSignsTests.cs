using AgentSecurity.Sandbox.Processes;

namespace AgentSecurity.Sandbox.Tests.Processes;

/// <summary>The signs of a limit in a program's standard error, wherever they fall in it and however it is read.</summary>
public sealed class StandardErrorSignsTests
{
    private const string V8OutOfMemory = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n";

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Observe_OutOfMemoryFollowedByALongNativeStack_ShowsOutOfMemory(int chunk)
    {
        var signs = new StandardErrorSigns();

        foreach (var piece in Chunks(V8OutOfMemory + string.Concat(Enumerable.Repeat(" 1: 0xb7a940 node::Abort() [node]\n", 1000)), chunk))
        {
            signs.Observe(piece);
        }

        Assert.Equal((true, false, false), (signs.OutOfMemory, signs.ProcessLimit, signs.FileTooLarge));
    }

    [Theory]
    [InlineData("sh: 1: Cannot fork\n", false, true, false)]
    [InlineData("head: error writing 'standard output': File too large\n", false, false, true)]
    [InlineData("Traceback (most recent call last):\nMemoryError\n", true, false, false)]
    [InlineData("something broke\n", false, false, false)]
    [InlineData("out of memor", false, false, false)] // a sign cut short is not the sign
    public void Observe_EachKindOfSign_ShowsOnlyThatLimit(string errors, bool outOfMemory, bool processLimit, bool fileTooLarge)
    {
        foreach (var chunk in new[] { 1, 3, 64 })
        {
            var signs = new StandardErrorSigns();

            foreach (var piece in Chunks(errors, chunk))
            {
                signs.Observe(piece);
            }

            Assert.Equal((outOfMemory, processLimit, fileTooLarge), (signs.OutOfMemory, signs.ProcessLimit, signs.FileTooLarge));
        }
    }

    private static IEnumerable<string> Chunks(string text, int size)
    {
        for (var i = 0; i < text.Length; i += size)
        {
            yield return text.Substring(i, Math.Min(size, text.Length - i));
        }
    }
}
