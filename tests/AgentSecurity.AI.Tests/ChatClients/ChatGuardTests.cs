using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.AI.Guard;
using AgentSecurity.AI.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Mcp.Arguments;
using AgentSecurity.Testing;
using Microsoft.Extensions.AI;
using static AgentSecurity.AI.Tests.Infrastructure.ScriptedChatClient;

namespace AgentSecurity.AI.Tests.ChatClients;

/// <summary>
/// The chat-client guard through the library's real <see cref="FunctionInvokingChatClient"/> loop, with a scripted model
/// and the kernel's real agent grain: what is offered, what runs, what the model is told, what the audit log keeps.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class ChatGuardTests(KernelFixture kernel)
{
    private readonly PlatformTools _tools = new();

    private static IChatClient Guarded(IChatClient model, IAgentGrain agent, Action<AgentGuardOptions>? configure = null) =>
        model.AsBuilder().UseAgentSecurity(agent, configure).Build();

    private ChatOptions WithTools(params AIFunction[] functions) => new() { Tools = [.. functions] };

    private static IEnumerable<FunctionResultContent> Results(ChatResponse response) =>
        response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>();

    [Fact]
    public async Task GetResponse_GrantedTool_IsOfferedAloneAndRuns()
    {
        var (_, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/get_weather"]));
        var model = new ScriptedChatClient(Calls("get_weather", new { city = "Oslo" }), Says("It is sunny."));

        var response = await Guarded(model, bot).GetResponseAsync("weather?", WithTools(_tools.GetWeather, _tools.DeleteRepo));

        Assert.Equal(1, _tools.Weather);
        Assert.Equal(["get_weather"], model.Offered[0]); // delete_repo is never shown to the model
        Assert.Equal("sunny in Oslo", Assert.Single(Results(response)).Result?.ToString());
        Assert.Equal("It is sunny.", response.Text);
    }

    [Fact]
    public async Task GetResponse_UngrantedToolNamedAnyway_IsRefusedWithItsReasonNotRunAndAudited()
    {
        var (tenant, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/get_weather"]));
        var model = new ScriptedChatClient(Calls("delete_repo", new { repo = "prod" }), Says("I could not."));

        var response = await Guarded(model, bot).GetResponseAsync("clean up", WithTools(_tools.GetWeather, _tools.DeleteRepo));

        Assert.Equal(0, _tools.Deleted);
        Assert.StartsWith($"{ReasonCodes.OutOfScope}: ", Assert.Single(Results(response)).Result?.ToString(), StringComparison.Ordinal);
        var denied = (await kernel.EventsAsync(tenant, e => e.OfType<ToolEvent>().Any())).OfType<ToolEvent>().Single();
        Assert.Equal((SecurityEventTypes.ToolDenied, "local", "delete_repo"), (denied.Type, denied.Server, denied.Tool));
    }

    [Fact]
    public async Task GetResponse_MappedArgumentOutsideItsScope_IsRefusedAndInsideRuns()
    {
        var (_, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/read_file"]));
        var model = new ScriptedChatClient(Calls("read_file", new { path = "/etc/passwd" }), Calls("read_file", new { path = "/workspace/a.txt" }), Says("done"));
        var client = Guarded(model, bot, o => o.Arguments = new ArgumentMap([new ArgumentMapEntry("read_file", "/path", Capabilities.FileSystemRead)]));

        var response = await client.GetResponseAsync("read", WithTools(_tools.ReadFile));

        var results = Results(response).Select(r => r.Result?.ToString()).ToList();
        Assert.StartsWith($"{ReasonCodes.OutOfScope}: ", results[0], StringComparison.Ordinal);
        Assert.Equal("contents of /workspace/a.txt", results[1]);
        Assert.Equal(1, _tools.Read); // only the call inside the scope ran
    }

    [Fact]
    public async Task GetResponse_MappedArgumentMissing_IsInvalidRequestAndNotRun()
    {
        var (_, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/read_file"]));
        var model = new ScriptedChatClient(Calls("read_file", new { file = "/workspace/a.txt" }), Says("done"));
        var client = Guarded(model, bot, o => o.Arguments = new ArgumentMap([new ArgumentMapEntry("read_file", "/path", Capabilities.FileSystemRead)]));

        var response = await client.GetResponseAsync("read", WithTools(_tools.ReadFile));

        Assert.StartsWith($"{ReasonCodes.InvalidRequest}: ", Assert.Single(Results(response)).Result?.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, _tools.Read);
    }

    [Fact]
    public async Task GetResponse_ModelLoopingOnARefusedTool_StopsAtTheIterationLimitWithOneAuditedDenialPerCall()
    {
        var (tenant, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/get_weather"]));
        var model = new ScriptedChatClient(Calls("delete_repo", new { repo = "prod" }));

        await Guarded(model, bot, o => o.MaximumIterationsPerRequest = 3).GetResponseAsync("clean up", WithTools(_tools.GetWeather, _tools.DeleteRepo));

        Assert.Equal(4, model.CallCount); // three rounds of refused calls, then the last answer the loop takes
        Assert.Equal(0, _tools.Deleted);

        // A marker decision after the loop: once it is in the log, every denial of the loop is there too.
        await bot.CheckAsync(CheckRequests.ReadFile("/marker"));
        var events = await kernel.EventsAsync(tenant, e => e.OfType<DecisionEvent>().Any(d => d.Resource == "/marker"));
        Assert.Equal(3, events.OfType<ToolEvent>().Count(e => e.Type == SecurityEventTypes.ToolDenied && e.Tool == "delete_repo"));
    }

    [Fact]
    public async Task GetResponse_ToolNeedingApproval_AsksThroughTheLibraryAndRunsOnceTheKernelsRequestIsAnswered()
    {
        var (tenant, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/*"], """{"approve":["local/send_mail"]}"""));
        var model = new ScriptedChatClient(Calls("send_mail", new { to = "ceo@example.com" }), Says("Mail sent."));
        var client = Guarded(model, bot);
        var options = WithTools(_tools.SendMail);
        List<ChatMessage> history = [new(ChatRole.User, "mail the ceo")];

        var asked = await client.GetResponseAsync(history, options);

        var approval = asked.Messages.SelectMany(m => m.Contents).OfType<ToolApprovalRequestContent>().Single();
        Assert.Equal(0, _tools.Mailed);
        Assert.Equal(ReasonCodes.ApprovalRequired, approval.AdditionalProperties?[Refusals.ReasonProperty]);
        var requestId = Assert.IsType<string>(approval.AdditionalProperties?[Refusals.RequestIdProperty]);
        var request = Assert.Single(await kernel.Client.ListRequestsAsync(tenant));
        Assert.Equal((requestId, "tool:call", "local/send_mail"), (request.RequestId, request.Capability, request.Resource));

        // A person answers the kernel's request (an elevation), then the application approves in the library.
        var answer = TestDocuments.GrantV2(tenant, "bot", kernel.Now, ["local/send_mail"], grantId: "elev-mail")
            .SetJson("capabilities", """{"fileSystem":"none","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false,"tools":["local/send_mail"]}""")
            .Remove("scopes").Set("expiresAt", kernel.Now.AddHours(1));
        var applied = await kernel.Client.ApplyElevationAsync(requestId, answer.SignWith(TestKeys.Root));
        Assert.True(applied.Applied, $"{applied.Error}: {applied.Message}");
        history.AddRange(asked.Messages);
        history.Add(new ChatMessage(ChatRole.User, [approval.CreateResponse(approved: true)]));

        var done = await client.GetResponseAsync(history, options);

        Assert.Equal(1, _tools.Mailed);
        Assert.Equal("mailed ceo@example.com", Assert.Single(Results(done)).Result?.ToString());
        Assert.Equal("Mail sent.", done.Text);
    }

    [Fact]
    public async Task GetResponse_ApprovedInTheApplicationOnly_IsStillRefusedApprovalRequired()
    {
        var (_, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/*"], """{"approve":["local/send_mail"]}"""));
        var model = new ScriptedChatClient(Calls("send_mail", new { to = "ceo@example.com" }), Says("Not sent."));
        var client = Guarded(model, bot);
        List<ChatMessage> history = [new(ChatRole.User, "mail the ceo")];
        var asked = await client.GetResponseAsync(history, WithTools(_tools.SendMail));
        var approval = asked.Messages.SelectMany(m => m.Contents).OfType<ToolApprovalRequestContent>().Single();
        history.AddRange(asked.Messages);
        history.Add(new ChatMessage(ChatRole.User, [approval.CreateResponse(approved: true)]));

        var done = await client.GetResponseAsync(history, WithTools(_tools.SendMail));

        Assert.Equal(0, _tools.Mailed);
        Assert.StartsWith($"{ReasonCodes.ApprovalRequired}: ", Assert.Single(Results(done)).Result?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponse_ConfiguredNaming_OffersAndChecksTheFunctionAsThatTool()
    {
        var (tenant, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["crm/get_weather"]));
        var model = new ScriptedChatClient(Calls("get_weather", new { city = "Oslo" }), Says("ok"));

        await Guarded(model, bot, o => o.ToolName = f => $"crm/{f}").GetResponseAsync("weather?", WithTools(_tools.GetWeather));

        Assert.Equal(["get_weather"], model.Offered[0]);
        Assert.Equal(1, _tools.Weather);
        var called = (await kernel.EventsAsync(tenant, e => e.OfType<ToolEvent>().Any())).OfType<ToolEvent>().Single();
        Assert.Equal((SecurityEventTypes.ToolCalled, "crm", "get_weather"), (called.Type, called.Server, called.Tool));
    }

    [Fact]
    public async Task GetResponse_SessionOfAPrincipalWithoutRights_IsRefusedForbiddenAndNothingRuns()
    {
        var (_, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/get_weather"]));
        var stranger = AgentSecurity.Client.Sessions.ClientSession.Sign(TestKeys.FromByte(0x5A), kernel.Cluster.Options.ServiceId, kernel.Now, kernel.Now.AddHours(1));
        var model = new ScriptedChatClient(Calls("get_weather", new { city = "Oslo" }));

        var response = await Guarded(model, bot, o => o.Session = () => stranger).GetResponseAsync("weather?", WithTools(_tools.GetWeather));

        Assert.Equal((0, 0), (model.CallCount, _tools.Weather));
        Assert.StartsWith($"{ReasonCodes.Forbidden}: ", response.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponse_NotAFunction_IsNotOffered()
    {
        var (_, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/*"]));
        var model = new ScriptedChatClient(Says("ok"));

        await Guarded(model, bot).GetResponseAsync("hi", new ChatOptions { Tools = [new HostedCodeInterpreterTool(), _tools.GetWeather] });

        Assert.Equal(["get_weather"], model.Offered[0]);
    }

    [Fact]
    public async Task GetStreamingResponse_UngrantedToolNamedAnyway_IsRefusedAndNotRun()
    {
        var (_, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/get_weather"]));
        var model = new ScriptedChatClient(Calls("delete_repo", new { repo = "prod" }), Says("I could not."));

        var updates = await Guarded(model, bot).GetStreamingResponseAsync("clean up", WithTools(_tools.GetWeather, _tools.DeleteRepo)).ToListAsync();

        Assert.Equal(0, _tools.Deleted);
        var result = updates.SelectMany(u => u.Contents).OfType<FunctionResultContent>().Single();
        Assert.StartsWith($"{ReasonCodes.OutOfScope}: ", result.Result?.ToString(), StringComparison.Ordinal);
    }
}
