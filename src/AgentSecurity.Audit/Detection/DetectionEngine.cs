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
    private const int MinimumSweep = 4096;

    private readonly Dictionary<(string Rule, string Agent), Occurrences> _recent = [];
    private int _sweepAt = MinimumSweep;

    /// <summary>How many (rule, agent) windows are kept: the agents active within the longest window, and at most twice that.</summary>
    public int TrackedWindows => _recent.Count;

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
            if (!_recent.TryGetValue(key, out var occurrences))
            {
                _recent[key] = occurrences = new Occurrences(Math.Min(rule.Threshold, 1024));
            }

            var times = occurrences.Times;
            occurrences.Newest = e.Time > occurrences.Newest ? e.Time : occurrences.Newest;

            // A summary or storm event may stand for several occurrences.
            var count = e is DecisionEvent { Count: > 1 } d ? Math.Min(d.Count, rule.Threshold) : 1;
            for (var i = 0; i < count; i++)
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

    // Drop agents whose newest event left every window, so memory follows the active agents only. The sweep runs when
    // the table has doubled since the last one, which keeps it amortized constant per event however many agents are active.
    private void Forget(DateTimeOffset now, IReadOnlyList<DetectionRuleSettings> rules)
    {
        if (_recent.Count < _sweepAt)
        {
            return;
        }

        var longest = rules.Count == 0 ? TimeSpan.Zero : rules.Max(r => r.Window);
        foreach (var key in _recent.Where(p => p.Value.Times.Count == 0 || now - p.Value.Newest > longest).Select(p => p.Key).ToList())
        {
            _recent.Remove(key);
        }

        _sweepAt = Math.Max(MinimumSweep, 2 * _recent.Count);
    }

    private sealed class Occurrences(int capacity)
    {
        public Queue<DateTimeOffset> Times { get; } = new(capacity);

        public DateTimeOffset Newest { get; set; }
    }
}
