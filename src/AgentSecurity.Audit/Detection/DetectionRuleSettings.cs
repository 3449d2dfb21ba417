namespace AgentSecurity.Audit.Detection;

/// <summary>One detection rule: fires when one agent has <see cref="Threshold"/> events of <see cref="EventType"/> within <see cref="Window"/>.</summary>
public sealed record DetectionRuleSettings(string Name, string EventType, int Threshold, TimeSpan Window, bool Quarantine);

/// <summary>What a rule found: the rule, the agent, how many events made it fire, and whether to quarantine.</summary>
public sealed record Detection(string Rule, string AgentId, long Count, bool Quarantine);
