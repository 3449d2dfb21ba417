namespace CoHosted;

/// <summary>The platform's own grain: notes kept in its state, written for Orleans' default storage serializer.</summary>
public interface IDeskGrain : IGrainWithStringKey
{
    Task<IReadOnlyList<string>> AddAsync(string note);
}

[GenerateSerializer]
public sealed class Desk
{
    // A private setter: Orleans' default (Newtonsoft.Json) storage serializer fills it; System.Text.Json would not.
    [Id(0)] public List<string> Notes { get; private set; } = [];
}

public sealed class DeskGrain([PersistentState("desk")] IPersistentState<Desk> desk) : Grain, IDeskGrain
{
    public async Task<IReadOnlyList<string>> AddAsync(string note)
    {
        desk.State.Notes.Add(note);
        await desk.WriteStateAsync();
        return desk.State.Notes;
    }
}
