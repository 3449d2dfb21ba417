using AgentSecurity.Sandbox.Processes;

namespace AgentSecurity.Sandbox.Tests.Processes;

/// <summary>A program's word that it ran out of memory, wherever it falls in its standard error and however it is read.</summary>
public sealed class StandardErrorSignsTests
{
    private const string V8OutOfMemory = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n";
    private const int SigTrap = 128 + 5;

    private static readonly string NativeStack = string.Concat(Enumerable.Repeat(" 1: 0xb7a940 node::Abort() [node]\n", 1000));

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Observe_OutOfMemoryFollowedByALongNativeStack_ShowsOutOfMemory(int chunk)
    {
        var signs = Observed(V8OutOfMemory + NativeStack, chunk);

        Assert.True(signs.OutOfMemory);
    }

    [Theory]
    [InlineData("Traceback (most recent call last):\nMemoryError\n", true)]
    [InlineData("terminate called after throwing an instance of 'std::bad_alloc'\n", true)]
    [InlineData("sh: 1: Cannot fork\n", false)]
    [InlineData("something broke\n", false)]
    [InlineData("out of memor", false)] // a sign cut short is not the sign
    public void Observe_WhateverTheReads_FindsTheSignOrNot(string errors, bool outOfMemory)
    {
        foreach (var chunk in new[] { 1, 3, 64 })
        {
            Assert.Equal(outOfMemory, Observed(errors, chunk).OutOfMemory);
        }
    }

    [Theory]
    [InlineData(SigTrap, false, true)]  // a signal: what it said before its stack counts
    [InlineData(1, false, false)]       // it exited by itself: its last words only (the rest can be anyone's text)
    [InlineData(255, false, false)]     // exit(-1): above 128, but no signal a runtime dies of
    [InlineData(1, true, true)]
    public void OutOfMemoryBefore_SignEarlyInTheStream_CountsOnlyForARuntimesFatalSignal(int status, bool signInTail, bool outOfMemory)
    {
        var signs = Observed(V8OutOfMemory + NativeStack, 4096);
        var tail = signInTail ? V8OutOfMemory : NativeStack[^200..];

        Assert.Equal(outOfMemory, signs.OutOfMemoryBefore(status, tail));
    }

    private static StandardErrorSigns Observed(string text, int chunk)
    {
        var signs = new StandardErrorSigns();
        for (var i = 0; i < text.Length; i += chunk)
        {
            signs.Observe(text.AsSpan(i, Math.Min(chunk, text.Length - i)));
        }

        return signs;
    }
}
