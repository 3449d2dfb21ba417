using AgentSecurity.Abstractions.Audit;

namespace AgentSecurity.Audit.Detection;

/// <summary>
/// Evaluates detection rules as events arrive, by event time: for each rule and agent, the times of the last
/// <c>Threshold</c> matching events. A rule fires when the oldest of them is within its window of the newest; the
/// agent's window then starts afresh, so one burst fires once. Memory is bounded by rules × agents × threshold, and
/// agents quiet for a window are forgotten.
/// </summary>
public sealed class DetectionEngine
{
    private readonly Dictionary<(string Rule, string Agent), Queue<DateTimeOffset>> _recent = [];

    public IReadOnlyList<Detection> Observe(SecurityEvent e, IReadOnlyList<DetectionRuleSettings> rules)
    {
        if (e.AgentId is null)
        {
            return [];
        }

        List<Detection>? fired = null;
        foreach (var rule in rules)
        {
            if (rule.EventType != e.Type)
            {
                continue;
            }

            var key = (rule.Name, e.AgentId);
            if (!_recent.TryGetValue(key, out var times))
            {
                _recent[key] = times = new Queue<DateTimeOffset>(Math.Min(rule.Threshold, 1024));
            }

            // A summary or storm event may stand for several occurrences.
            var occurrences = e is DecisionEvent { Count: > 1 } d ? Math.Min(d.Count, rule.Threshold) : 1;
            for (var i = 0; i < occurrences; i++)
            {
                times.Enqueue(e.Time);
            }

            while (times.Count > rule.Threshold || (times.Count > 0 && e.Time - times.Peek() > rule.Window))
            {
                times.Dequeue();
            }

            if (times.Count >= rule.Threshold)
            {
                (fired ??= []).Add(new Detection(rule.Name, e.AgentId, times.Count, rule.Quarantine));
                times.Clear();
            }
        }

        Forget(e.Time, rules);
        return fired ?? (IReadOnlyList<Detection>)[];
    }

    // Drop agents whose newest event left every window, so memory follows the active agents only.
    private void Forget(DateTimeOffset now, IReadOnlyList<DetectionRuleSettings> rules)
    {
        if (_recent.Count < 4096)
        {
            return;
        }

        var longest = rules.Count == 0 ? TimeSpan.Zero : rules.Max(r => r.Window);
        foreach (var key in _recent.Where(p => p.Value.Count == 0 || now - p.Value.Last() > longest).Select(p => p.Key).ToList())
        {
            _recent.Remove(key);
        }
    }
}
