namespace AgentSecurity.Grains.Quotas;

/// <summary>
/// What storage knows of a rate limit: at <see cref="At"/>, <see cref="Used"/> units were in use and the activation that
/// wrote it could spend <see cref="Reserved"/> more without writing again. A new activation assumes all of them spent.
/// </summary>
[GenerateSerializer, Alias("agentsec.BucketRecord.v1")]
public sealed class BucketRecord
{
    [Id(0)] public DateTimeOffset At { get; set; }

    [Id(1)] public long Used { get; set; }

    [Id(2)] public long Reserved { get; set; }
}
