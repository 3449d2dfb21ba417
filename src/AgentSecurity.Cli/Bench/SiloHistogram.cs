using System.Globalization;

namespace AgentSecurity.Cli.Bench;

/// <summary>
/// One histogram of the silos' Prometheus <c>/metrics</c>, summed over silos: its cumulative buckets, sum and count, so that
/// a benchmark reads it before and after a run and takes the difference. Null where a silo cannot be read (the endpoint
/// answers only callers on its machine): the benchmark then leaves the silo's figures out.
/// </summary>
internal sealed record SiloHistogram(SortedDictionary<double, double> Buckets, double Sum, double Count)
{
    /// <summary>Reads <paramref name="name"/> (the Prometheus name, without <c>_bucket</c>) from every URL, only series that contain <paramref name="label"/> if given.</summary>
    public static async Task<SiloHistogram?> ReadAsync(HttpClient http, IReadOnlyList<Uri> urls, string name, string? label, CancellationToken cancellation)
    {
        var buckets = new SortedDictionary<double, double>();
        double sum = 0, count = 0;
        foreach (var url in urls)
        {
            string text;
            try
            {
                text = await http.GetStringAsync(url, cancellation);
            }
            catch (HttpRequestException)
            {
                return null;
            }

            foreach (var line in text.Split('\n'))
            {
                if (!line.StartsWith(name, StringComparison.Ordinal) || (label is not null && !line.Contains(label, StringComparison.Ordinal)))
                {
                    continue;
                }

                var value = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
                if (line.StartsWith(name + "_bucket{", StringComparison.Ordinal))
                {
                    var le = line.IndexOf("le=\"", StringComparison.Ordinal) + 4;
                    var bound = line[le..line.IndexOf('"', le)];
                    var key = bound == "+Inf" ? double.PositiveInfinity : double.Parse(bound, CultureInfo.InvariantCulture);
                    buckets[key] = buckets.GetValueOrDefault(key) + value;
                }
                else if (line.StartsWith(name + "_sum", StringComparison.Ordinal))
                {
                    sum += value;
                }
                else if (line.StartsWith(name + "_count", StringComparison.Ordinal))
                {
                    count += value;
                }
            }
        }

        return new SiloHistogram(buckets, sum, count);
    }

    /// <summary>What was recorded between <paramref name="before"/> and this reading.</summary>
    public SiloHistogram Since(SiloHistogram before) =>
        new(new SortedDictionary<double, double>(Buckets.ToDictionary(b => b.Key, b => b.Value - before.Buckets.GetValueOrDefault(b.Key))), Sum - before.Sum, Count - before.Count);

    /// <summary>The percentile by linear interpolation within its bucket (as Prometheus' histogram_quantile does), or NaN.</summary>
    public double Percentile(double percentile)
    {
        if (Count <= 0)
        {
            return double.NaN;
        }

        var rank = percentile / 100 * Count;
        double lower = 0, below = 0;
        foreach (var (bound, cumulative) in Buckets)
        {
            if (cumulative >= rank)
            {
                return double.IsPositiveInfinity(bound) ? lower : lower + ((bound - lower) * (rank - below) / Math.Max(cumulative - below, 1));
            }

            (lower, below) = (bound, cumulative);
        }

        return double.NaN;
    }

    public double Mean => Count > 0 ? Sum / Count : double.NaN;
}
