namespace AgentSecurity.Fuzzing.Targets;

/// <summary>A target's contract was broken by an input: what a fuzzer reports as a crash, and a replay test as a failure.</summary>
public sealed class ContractViolationException(string message) : Exception(message);
