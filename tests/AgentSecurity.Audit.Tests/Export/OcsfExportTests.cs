using System.Text.Json;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Audit.Export;

namespace AgentSecurity.Audit.Tests.Export;

public sealed class OcsfExportTests
{
    private const long Sequence = 1234;

    /// <summary>The OCSF class, category and activity every event type must land in.</summary>
    private static readonly Dictionary<string, (int Class, int Category, int Activity)> Expected = new()
    {
        [SecurityEventTypes.CheckDenied] = (3003, 3, 1),
        [SecurityEventTypes.ChecksAllowed] = (3003, 3, 1),
        [SecurityEventTypes.QuotaExceeded] = (3003, 3, 1),
        [SecurityEventTypes.SandboxViolation] = (3003, 3, 1),
        [SecurityEventTypes.ExecutionCompleted] = (3003, 3, 1),
        [SecurityEventTypes.ExecutionFailed] = (3003, 3, 1),
        [SecurityEventTypes.GrantApplied] = (6003, 6, 1),
        [SecurityEventTypes.GrantRefused] = (6003, 6, 1),
        [SecurityEventTypes.GrantRevoked] = (6003, 6, 4),
        [SecurityEventTypes.TenantCreated] = (6003, 6, 1),
        [SecurityEventTypes.AdminRegistered] = (6003, 6, 1),
        [SecurityEventTypes.RootRotated] = (6003, 6, 3),
        [SecurityEventTypes.LimitsSet] = (6003, 6, 3),
        [SecurityEventTypes.AgentQuarantined] = (6003, 6, 3),
        [SecurityEventTypes.AgentReleased] = (6003, 6, 3),
        [SecurityEventTypes.RequestCreated] = (6003, 6, 1),
        [SecurityEventTypes.RequestApproved] = (6003, 6, 3),
        [SecurityEventTypes.AccessApplied] = (6003, 6, 1),
        [SecurityEventTypes.AlertRaised] = (2004, 2, 1),
        [SecurityEventTypes.ToolCalled] = (3003, 3, 1),
        [SecurityEventTypes.ToolDenied] = (3003, 3, 1),
        [SecurityEventTypes.ToolChanged] = (3003, 3, 1),
    };

    /// <summary>What each class requires, as MissingRequired reports it and the members to remove to violate it.</summary>
    private static readonly (string Report, string[] Remove)[] Common =
    [
        ("activity_id", ["activity_id"]),
        ("category_uid", ["category_uid"]),
        ("class_uid", ["class_uid"]),
        ("type_uid", ["type_uid"]),
        ("severity_id", ["severity_id"]),
        ("time", ["time"]),
        ("metadata", ["metadata"]),
        ("metadata.version", ["metadata.version"]),
        ("metadata.product", ["metadata.product"]),
        ("metadata.product.vendor_name", ["metadata.product.vendor_name"]),
        ("metadata.product.name|metadata.product.uid", ["metadata.product.name", "metadata.product.uid"]),
    ];

    private static readonly Dictionary<int, (string Report, string[] Remove)[]> ByClass = new()
    {
        [3003] =
        [
            ("user", ["user"]),
            ("user.account|user.name|user.uid", ["user.name", "user.uid"]),
            ("privileges|group", ["privileges"]),
        ],
        [6003] =
        [
            ("actor", ["actor"]),
            ("actor.process|actor.user|actor.invoked_by|actor.session|actor.app_name|actor.app_uid", ["actor.user", "actor.app_name"]),
            ("api", ["api"]),
            ("api.operation", ["api.operation"]),
            ("src_endpoint", ["src_endpoint"]),
            (
                "src_endpoint.ip|src_endpoint.uid|src_endpoint.name|src_endpoint.hostname|src_endpoint.svc_name|src_endpoint.instance_uid|src_endpoint.interface_uid|src_endpoint.interface_name",
                ["src_endpoint.name"]
            ),
        ],
        [2004] =
        [
            ("finding_info", ["finding_info"]),
            ("finding_info.title", ["finding_info.title"]),
            ("finding_info.uid", ["finding_info.uid"]),
            ("finding_info.analytic.type_id", ["finding_info.analytic.type_id"]),
            ("action_id", ["action_id"]),
        ],
    };

    public static TheoryData<string, string, string[]> Requirements
    {
        get
        {
            var data = new TheoryData<string, string, string[]>();
            foreach (var type in SampleEvents.AllTypes)
            {
                foreach (var (report, remove) in Common.Concat(ByClass[Expected[type].Class]))
                {
                    data.Add(type, report, remove);
                }
            }

            return data;
        }
    }

    [Fact]
    public void Expected_CoversEveryEventType()
    {
        Assert.Equal(22, SampleEvents.AllTypes.Count);
        Assert.Equal(SampleEvents.AllTypes.Order(StringComparer.Ordinal), Expected.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(SampleEvents.TypesAndShapes), MemberType = typeof(SampleEvents))]
    public void ToJson_EveryEventType_HasAllRequiredAttributes(string type, bool full)
    {
        var json = OcsfExport.ToJson(SampleEvents.Build(type, full), Sequence);

        Assert.Empty(OcsfExport.MissingRequired(SampleEvents.Parse(json)));
    }

    [Theory]
    [MemberData(nameof(SampleEvents.TypesAndShapes), MemberType = typeof(SampleEvents))]
    public void ToJson_EveryEventType_LandsInItsClassWithConsistentTypeUid(string type, bool full)
    {
        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(SampleEvents.Build(type, full), Sequence));
        var (classUid, category, activity) = Expected[type];

        Assert.Equal(classUid, ocsf.GetProperty("class_uid").GetInt32());
        Assert.Equal(category, ocsf.GetProperty("category_uid").GetInt32());
        Assert.Equal(activity, ocsf.GetProperty("activity_id").GetInt32());
        Assert.Equal((classUid * 100L) + activity, ocsf.GetProperty("type_uid").GetInt64());
        Assert.InRange(ocsf.GetProperty("severity_id").GetInt32(), 1, 6);
    }

    [Theory]
    [MemberData(nameof(SampleEvents.Types), MemberType = typeof(SampleEvents))]
    public void ToJson_Metadata_CarriesProductSchemaVersionIdTenantAndSequence(string type)
    {
        var e = SampleEvents.Full(type);
        var metadata = SampleEvents.Parse(OcsfExport.ToJson(e, Sequence)).GetProperty("metadata");

        Assert.Equal("AgentSecurity", metadata.GetProperty("product").GetProperty("name").GetString());
        Assert.Equal("AgentSecurity", metadata.GetProperty("product").GetProperty("vendor_name").GetString());
        Assert.Equal("1.3.0", metadata.GetProperty("version").GetString());
        Assert.Equal(e.Id, metadata.GetProperty("uid").GetString());
        Assert.Equal(SampleEvents.Tenant, metadata.GetProperty("tenant_uid").GetString());
        Assert.Equal(Sequence, metadata.GetProperty("sequence").GetInt64());
        Assert.Equal(type, metadata.GetProperty("event_code").GetString());
        Assert.Equal(SampleEvents.TraceId, metadata.GetProperty("correlation_uid").GetString());
    }

    [Theory]
    [MemberData(nameof(SampleEvents.Types), MemberType = typeof(SampleEvents))]
    public void ToJson_Time_IsEpochMilliseconds(string type)
    {
        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(SampleEvents.Full(type), Sequence));

        Assert.Equal(SampleEvents.Time.ToUnixTimeMilliseconds(), ocsf.GetProperty("time").GetInt64());
    }

    [Theory]
    [MemberData(nameof(SampleEvents.TypesAndShapes), MemberType = typeof(SampleEvents))]
    public void ToJson_RawData_IsTheFlatEventAndReadsBackToIt(string type, bool full)
    {
        var e = SampleEvents.Build(type, full);
        var raw = SampleEvents.Parse(OcsfExport.ToJson(e, Sequence)).GetProperty("raw_data").GetString()!;

        Assert.Equal(SecurityEventJson.Write(e), raw);
        Assert.Equal(e, SecurityEventJson.Read(raw));
    }

    [Theory]
    [MemberData(nameof(SampleEvents.Types), MemberType = typeof(SampleEvents))]
    public void ToJson_MessageWithLineBreaks_IsOneLineOfOneJsonValue(string type)
    {
        var e = SampleEvents.Full(type) with { Message = "first\nsecond\r\nthird\u2028fourth" };

        var json = OcsfExport.ToJson(e, Sequence);

        Assert.DoesNotContain('\n', json);
        Assert.DoesNotContain('\r', json);
        Assert.Equal(e.Message, SampleEvents.Parse(json).GetProperty("message").GetString());
    }

    [Fact]
    public void ToJson_CheckDenied_IsAFailureWithTheReasonForTheAgentAndCapability()
    {
        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(SampleEvents.Full(SecurityEventTypes.CheckDenied), Sequence));

        Assert.Equal(2, ocsf.GetProperty("status_id").GetInt32());
        Assert.Equal("Failure", ocsf.GetProperty("status").GetString());
        Assert.Equal("no_grant", ocsf.GetProperty("status_detail").GetString());
        Assert.Equal("acme/bot-1", ocsf.GetProperty("user").GetProperty("uid").GetString());
        Assert.Equal("acme/bot-1", ocsf.GetProperty("user").GetProperty("name").GetString());
        Assert.Equal(["fileSystem:read"], ocsf.GetProperty("privileges").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("/data/report.csv", ocsf.GetProperty("unmapped").GetProperty("resource").GetString());
        Assert.Equal("g-1", ocsf.GetProperty("unmapped").GetProperty("grantId").GetString());
        Assert.Equal(1, ocsf.GetProperty("count").GetInt64());
        Assert.Equal(2, ocsf.GetProperty("severity_id").GetInt32());
    }

    [Fact]
    public void ToJson_ChecksAllowed_IsASuccessCountingTheSummarisedChecks()
    {
        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(SampleEvents.Full(SecurityEventTypes.ChecksAllowed), Sequence));

        Assert.Equal(1, ocsf.GetProperty("status_id").GetInt32());
        Assert.Equal("Success", ocsf.GetProperty("status").GetString());
        Assert.Equal("allowed", ocsf.GetProperty("status_detail").GetString());
        Assert.Equal(42, ocsf.GetProperty("count").GetInt64());
        Assert.Equal(1, ocsf.GetProperty("severity_id").GetInt32());
    }

    [Fact]
    public void ToJson_QuotaExceeded_IsAFailureWithTheQuotaReason()
    {
        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(SampleEvents.Full(SecurityEventTypes.QuotaExceeded), Sequence));

        Assert.Equal(2, ocsf.GetProperty("status_id").GetInt32());
        Assert.Equal("quota_exceeded", ocsf.GetProperty("status_detail").GetString());
    }

    [Fact]
    public void ToJson_SandboxViolation_IsAFailedAuthorizationKeepingRuntimeAndResource()
    {
        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(SampleEvents.Full(SecurityEventTypes.SandboxViolation), Sequence));

        Assert.Equal(2, ocsf.GetProperty("status_id").GetInt32());
        Assert.Equal("sandbox_violation", ocsf.GetProperty("status_detail").GetString());
        Assert.Equal(["network:outbound"], ocsf.GetProperty("privileges").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("wasm", ocsf.GetProperty("unmapped").GetProperty("runtime").GetString());
        Assert.Equal("example.com:443", ocsf.GetProperty("unmapped").GetProperty("resource").GetString());
        Assert.Equal(3, ocsf.GetProperty("severity_id").GetInt32());
    }

    [Fact]
    public void ToJson_ToolDenied_IsAFailedToolCallAuthorizationNamingTheTool()
    {
        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(SampleEvents.Full(SecurityEventTypes.ToolDenied), Sequence));

        Assert.Equal(2, ocsf.GetProperty("status_id").GetInt32());
        Assert.Equal("out_of_scope", ocsf.GetProperty("status_detail").GetString());
        Assert.Equal(["tool:call"], ocsf.GetProperty("privileges").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("fs/read_text_file", ocsf.GetProperty("unmapped").GetProperty("resource").GetString());
        Assert.Equal(3, ocsf.GetProperty("severity_id").GetInt32());
    }

    [Fact]
    public void ToJson_CompletedExecution_IsASuccessfulInformationalAuthorization()
    {
        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(SampleEvents.Full(SecurityEventTypes.ExecutionCompleted), Sequence));

        Assert.Equal(1, ocsf.GetProperty("status_id").GetInt32());
        Assert.Equal(1, ocsf.GetProperty("severity_id").GetInt32());
        Assert.Equal(3003, ocsf.GetProperty("class_uid").GetInt32());
    }

    [Fact]
    public void ToJson_SandboxLimitWithoutCapability_StillListsAPrivilege()
    {
        var e = new SandboxEvent { Id = "s1", Type = SecurityEventTypes.SandboxViolation, TenantId = "t", AgentId = "a", Reason = "memory_limit" };

        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(e, 1));

        Assert.Equal([OcsfExport.NoPrivilege], ocsf.GetProperty("privileges").EnumerateArray().Select(p => p.GetString()));
        Assert.Empty(OcsfExport.MissingRequired(ocsf));
    }

    [Fact]
    public void ToJson_DecisionReadBackWithoutCapability_StillListsAPrivilege()
    {
        // The flat form's reader gives an empty capability when the member is absent (an invalid_request check).
        var e = SecurityEventJson.Read("""{"id":"x","type":"check.denied","time":"2026-03-01T00:00:00.000Z","tenant":"t","agent":"a","count":1,"reason":"invalid_request"}""");

        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(e, 1));

        Assert.Equal([OcsfExport.NoPrivilege], ocsf.GetProperty("privileges").EnumerateArray().Select(p => p.GetString()));
        Assert.Empty(OcsfExport.MissingRequired(ocsf));
    }

    [Fact]
    public void ToJson_GrantApplied_NamesTheSignerTheOperationAndTheAffectedResources()
    {
        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(SampleEvents.Full(SecurityEventTypes.GrantApplied), Sequence));

        Assert.Equal(SampleEvents.Signer, ocsf.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString());
        Assert.Equal(2, ocsf.GetProperty("actor").GetProperty("user").GetProperty("type_id").GetInt32());
        Assert.Equal("grant.applied", ocsf.GetProperty("api").GetProperty("operation").GetString());
        Assert.Equal(SampleEvents.Signer, ocsf.GetProperty("src_endpoint").GetProperty("name").GetString());
        Assert.Equal("silo-a", ocsf.GetProperty("dst_endpoint").GetProperty("name").GetString());
        Assert.Equal(1, ocsf.GetProperty("status_id").GetInt32());
        var resources = ocsf.GetProperty("resources").EnumerateArray()
            .Select(r => (r.GetProperty("type").GetString(), r.TryGetProperty("uid", out var uid) ? uid.GetString() : null))
            .ToList();
        Assert.Contains(("agent", "acme/bot-1"), resources);
        Assert.Contains(("grant", "g-1"), resources);
    }

    [Fact]
    public void ToJson_GrantRefused_IsAFailureWithTheReason()
    {
        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(SampleEvents.Full(SecurityEventTypes.GrantRefused), Sequence));

        Assert.Equal(2, ocsf.GetProperty("status_id").GetInt32());
        Assert.Equal("Failure", ocsf.GetProperty("status").GetString());
        Assert.Equal("bad_signature", ocsf.GetProperty("status_detail").GetString());
    }

    [Fact]
    public void ToJson_RequestCreatedByTheAgent_HasTheAgentAsActorAndTheRequestedCapability()
    {
        var e = (AdministrativeEvent)SampleEvents.Full(SecurityEventTypes.RequestCreated) with { SignerDid = null };

        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(e, Sequence));

        Assert.Equal("acme/bot-1", ocsf.GetProperty("actor").GetProperty("user").GetProperty("uid").GetString());
        var names = ocsf.GetProperty("resources").EnumerateArray()
            .Select(r => (r.GetProperty("type").GetString(), r.TryGetProperty("name", out var name) ? name.GetString() : null))
            .ToList();
        Assert.Contains(("capability", "llm"), names);
        Assert.Contains(("resource", "gpt-large"), names);
    }

    [Fact]
    public void ToJson_KernelQuarantine_HasTheProductAsActor()
    {
        var e = new AdministrativeEvent { Id = "q1", Type = SecurityEventTypes.AgentQuarantined, TenantId = "t", AgentId = "a", Reason = "repeated-denials" };

        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(e, 7));

        Assert.Equal("AgentSecurity", ocsf.GetProperty("actor").GetProperty("app_name").GetString());
        Assert.False(ocsf.GetProperty("actor").TryGetProperty("user", out _));
        Assert.Empty(OcsfExport.MissingRequired(ocsf));
    }

    [Fact]
    public void ToJson_AdministrativeTypeAddedLater_IsApiActivityOther()
    {
        var e = new AdministrativeEvent { Id = "n1", Type = "tenant.suspended", TenantId = "t" };

        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(e, 1));

        Assert.Equal(6003, ocsf.GetProperty("class_uid").GetInt32());
        Assert.Equal(99, ocsf.GetProperty("activity_id").GetInt32());
        Assert.Equal(600399, ocsf.GetProperty("type_uid").GetInt64());
        Assert.Equal("tenant.suspended", ocsf.GetProperty("api").GetProperty("operation").GetString());
        Assert.Empty(OcsfExport.MissingRequired(ocsf));
    }

    [Fact]
    public void ToJson_AlertRaised_IsANewDetectionFindingNamingItsRuleAndAction()
    {
        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(SampleEvents.Full(SecurityEventTypes.AlertRaised), Sequence));
        var finding = ocsf.GetProperty("finding_info");

        Assert.Equal("ev-alert.raised", finding.GetProperty("uid").GetString());
        Assert.Equal("repeated-denials", finding.GetProperty("title").GetString());
        Assert.Equal("repeated-denials", finding.GetProperty("analytic").GetProperty("name").GetString());
        Assert.Equal(1, finding.GetProperty("analytic").GetProperty("type_id").GetInt32());
        Assert.Equal(2, ocsf.GetProperty("action_id").GetInt32());
        Assert.Equal(3, ocsf.GetProperty("disposition_id").GetInt32());
        Assert.Equal(12, ocsf.GetProperty("count").GetInt64());
        Assert.Equal(1, ocsf.GetProperty("status_id").GetInt32());
        Assert.Equal(4, ocsf.GetProperty("severity_id").GetInt32());
        Assert.Contains("security_control", ocsf.GetProperty("metadata").GetProperty("profiles").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public void ToJson_AlertWithoutAction_IsAllowedWithNoAction()
    {
        var ocsf = SampleEvents.Parse(OcsfExport.ToJson(SampleEvents.Minimal(SecurityEventTypes.AlertRaised), Sequence));

        Assert.Equal(1, ocsf.GetProperty("action_id").GetInt32());
        Assert.Equal(16, ocsf.GetProperty("disposition_id").GetInt32());
        Assert.Equal("alert.raised", ocsf.GetProperty("finding_info").GetProperty("title").GetString());
        Assert.False(ocsf.GetProperty("finding_info").TryGetProperty("analytic", out _));
    }

    [Fact]
    public void ToJson_NegativeSequence_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OcsfExport.ToJson(SampleEvents.Full(SecurityEventTypes.CheckDenied), -1));
    }

    [Theory]
    [MemberData(nameof(Requirements))]
    public void MissingRequired_WithoutARequiredMember_ReportsExactlyIt(string type, string report, string[] remove)
    {
        var json = OcsfExport.ToJson(SampleEvents.Full(type), Sequence);

        var missing = OcsfExport.MissingRequired(SampleEvents.Without(json, remove));

        Assert.Equal([report], missing);
    }

    [Theory]
    [InlineData("class_uid", "\"3003\"")]
    [InlineData("time", "null")]
    [InlineData("privileges", "[]")]
    [InlineData("user", "\"acme/bot-1\"")]
    public void MissingRequired_MemberOfTheWrongKindOrEmpty_ReportsIt(string name, string value)
    {
        var json = OcsfExport.ToJson(SampleEvents.Full(SecurityEventTypes.CheckDenied), Sequence);

        var missing = OcsfExport.MissingRequired(SampleEvents.With(json, name, value));

        Assert.Contains(name == "privileges" ? "privileges|group" : name, missing);
    }

    [Fact]
    public void MissingRequired_NotAnObject_ReportsEveryCommonAttribute()
    {
        var missing = OcsfExport.MissingRequired(SampleEvents.Parse("[1, 2]"));

        Assert.Equal(["activity_id", "category_uid", "class_uid", "type_uid", "severity_id", "time", "metadata"], missing);
    }
}
