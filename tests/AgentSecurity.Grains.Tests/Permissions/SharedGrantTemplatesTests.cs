using System.Runtime.CompilerServices;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grants.Json;

namespace AgentSecurity.Grains.Tests.Permissions;

/// <summary>
/// The silo-wide template table stays bounded and cheap when full: a tenant with more distinct live grants than it
/// holds must not make every apply and activation copy the table. Fills the process-wide table, so it runs alone
/// (<see cref="SharedTablesCollection"/>): a test that expects two agents to share a template would find no room.
/// </summary>
[Collection(SharedTablesCollection.Name)]
public sealed class SharedGrantTemplatesTests
{
    private static GrantTextTemplate Candidate(string scope) =>
        GrantTextTemplate.Of((JObject)StrictJsonParser.Parse(
            $$"""{"agentId":"bot","grantId":"g-1","scopes":{"fileSystem":["{{scope}}"]},"signature":"c2ln","tenantId":"t","type":"grant"}""").Value);

    [Fact]
    public void For_MoreLiveTemplatesThanCapacity_StaysBoundedAndSweepsOncePerSweepEveryRefused()
    {
        var run = Guid.NewGuid().ToString("N");

        FillPastCapacity(run);

        // Once they die, a full table of dead templates is swept within SweepEvery misses, and a template is held again.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var fresh = new List<GrantTextTemplate>();
        for (var i = 0; i <= SharedGrantTemplates.SweepEvery && SharedGrantTemplates.Count >= SharedGrantTemplates.Capacity; i++)
        {
            SharedGrantTemplates.For(Candidate($"/fresh/{run}/{i}/**"));
            fresh.Add(SharedGrantTemplates.For(Candidate($"/fresh/{run}/{i}/**"))!);
        }

        Assert.True(SharedGrantTemplates.Count < SharedGrantTemplates.Capacity / 2, $"{SharedGrantTemplates.Count} templates held after they died");
        SharedGrantTemplates.For(Candidate($"/again/{run}/**"));
        var held = SharedGrantTemplates.For(Candidate($"/again/{run}/**"));
        Assert.Same(held, SharedGrantTemplates.For(Candidate($"/again/{run}/**")));
        GC.KeepAlive(fresh);
    }

    // A method of its own, so that nothing of its frame keeps the templates alive once it returns.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FillPastCapacity(string run)
    {
        var sweeps = SharedGrantTemplates.Sweeps;
        var alive = new List<GrantTextTemplate>();
        const int Refused = 3 * SharedGrantTemplates.SweepEvery;
        for (var i = 0; i < SharedGrantTemplates.Capacity + Refused; i++)
        {
            Assert.Null(SharedGrantTemplates.For(Candidate($"/workspace/{run}/{i}/**"))); // the first agent keeps its text
            alive.Add(SharedGrantTemplates.For(Candidate($"/workspace/{run}/{i}/**"))!);
        }

        Assert.True(SharedGrantTemplates.Count <= SharedGrantTemplates.Capacity, $"{SharedGrantTemplates.Count} templates held");
        // Every template is alive, so no sweep frees anything: a sweep per refused template would be 768 of them.
        Assert.InRange(SharedGrantTemplates.Sweeps - sweeps, 1, (Refused / SharedGrantTemplates.SweepEvery) + 1);
        Assert.All(alive, t => Assert.True(t.IsCompressed)); // a refused template is its agent's own, held compressed too
    }

    [Fact]
    public void For_EqualCandidate_IsNullTheFirstTimeThenTheHeldCompressedTemplate()
    {
        var scope = $"/workspace/{Guid.NewGuid():N}/**";
        var candidate = Candidate(scope);

        Assert.Null(SharedGrantTemplates.For(Candidate(scope)));
        var held = SharedGrantTemplates.For(candidate)!;

        Assert.False(candidate.IsCompressed);
        Assert.True(held.IsCompressed);
        Assert.Equal(candidate, held);
        Assert.Same(held, SharedGrantTemplates.For(Candidate(scope)));
        Assert.NotEqual(held, Candidate(scope + "x"));
    }
}

/// <summary>Tests that fill the silo-wide shared tables: run alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SharedTablesCollection
{
    public const string Name = "shared tables";
}
