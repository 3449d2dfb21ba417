using System.Globalization;
using System.Text.RegularExpressions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Audit.Export;
using CsCheck;

namespace AgentSecurity.Audit.Tests.Export;

public sealed partial class CloudEventsExportTests
{
    private const long Sequence = 42;
    private const string Source = "/agentsec/tenants/acme";

    /// <summary>The attributes the spec defines itself; anything else in an event is an extension.</summary>
    private static readonly string[] SpecAttributes = ["specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time", "data", "data_base64"];

    private static readonly string[] Required = ["specversion", "id", "source", "type", "time", "datacontenttype", "data", "sequence", "tenant"];

    public static TheoryData<string, string> Requirements
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var type in SampleEvents.AllTypes)
            {
                foreach (var attribute in Required)
                {
                    data.Add(type, attribute);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(SampleEvents.TypesAndShapes), MemberType = typeof(SampleEvents))]
    public void ToJson_EveryEventType_HasAllRequiredAttributes(string type, bool full)
    {
        var json = CloudEventsExport.ToJson(SampleEvents.Build(type, full), Sequence, Source);

        Assert.Empty(CloudEventsExport.MissingRequired(SampleEvents.Parse(json)));
    }

    [Theory]
    [MemberData(nameof(SampleEvents.TypesAndShapes), MemberType = typeof(SampleEvents))]
    public void ToJson_EveryEventType_SetsTheContextAttributes(string type, bool full)
    {
        var e = SampleEvents.Build(type, full);

        var ce = SampleEvents.Parse(CloudEventsExport.ToJson(e, Sequence, Source));

        Assert.Equal("1.0", ce.GetProperty("specversion").GetString());
        Assert.Equal(e.Id, ce.GetProperty("id").GetString());
        Assert.Equal(Source, ce.GetProperty("source").GetString());
        Assert.Equal("dev.agentsec." + type, ce.GetProperty("type").GetString());
        Assert.Equal("application/json", ce.GetProperty("datacontenttype").GetString());
        Assert.Equal("0000000000000000042", ce.GetProperty("sequence").GetString());
        Assert.Equal(SampleEvents.Tenant, ce.GetProperty("tenant").GetString());
        var time = ce.GetProperty("time").GetString()!;
        Assert.Matches(Rfc3339(), time);
        Assert.Equal(e.Time, DateTimeOffset.Parse(time, CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(SampleEvents.TypesAndShapes), MemberType = typeof(SampleEvents))]
    public void ToJson_Subject_IsTenantSlashAgentOnlyWhenThereIsAnAgent(string type, bool full)
    {
        var e = SampleEvents.Build(type, full);

        var ce = SampleEvents.Parse(CloudEventsExport.ToJson(e, Sequence, Source));

        if (e.AgentId is null)
        {
            Assert.False(ce.TryGetProperty("subject", out _));
        }
        else
        {
            Assert.Equal("acme/bot-1", ce.GetProperty("subject").GetString());
        }
    }

    [Theory]
    [MemberData(nameof(SampleEvents.TypesAndShapes), MemberType = typeof(SampleEvents))]
    public void ToJson_Data_IsTheFlatEventAsAnObject(string type, bool full)
    {
        var e = SampleEvents.Build(type, full);

        var data = SampleEvents.Parse(CloudEventsExport.ToJson(e, Sequence, Source)).GetProperty("data");

        Assert.Equal(System.Text.Json.JsonValueKind.Object, data.ValueKind);
        Assert.Equal(SecurityEventJson.Write(e), data.GetRawText());
        Assert.Equal(e, SecurityEventJson.Read(data.GetRawText()));
    }

    [Theory]
    [MemberData(nameof(SampleEvents.Types), MemberType = typeof(SampleEvents))]
    public void ToJson_AttributeNames_AreLowercaseAlphanumericAndExtensionsAreDeclared(string type)
    {
        var ce = SampleEvents.Parse(CloudEventsExport.ToJson(SampleEvents.Full(type), Sequence, Source));
        var names = ce.EnumerateObject().Select(p => p.Name).ToList();

        Assert.All(names.Where(n => n != "data"), n => Assert.Matches(AttributeName(), n));
        Assert.All(names.Where(n => n != "data"), n => Assert.True(CloudEventsExport.IsValidAttributeName(n), n));
        Assert.Equal(CloudEventsExport.Extensions.Order(StringComparer.Ordinal), names.Except(SpecAttributes).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("sequence", true)]
    [InlineData("tenant", true)]
    [InlineData("abc123", true)]
    [InlineData("Sequence", false)]
    [InlineData("trace_id", false)]
    [InlineData("trace-id", false)]
    [InlineData("", false)]
    [InlineData("abcdefghijklmnopqrstu", false)]
    public void IsValidAttributeName_FollowsTheNamingConvention(string name, bool valid)
    {
        Assert.Equal(valid, CloudEventsExport.IsValidAttributeName(name));
    }

    [Theory]
    [MemberData(nameof(SampleEvents.Types), MemberType = typeof(SampleEvents))]
    public void ToJson_MessageWithLineBreaks_IsOneLineOfOneJsonValue(string type)
    {
        var e = SampleEvents.Full(type) with { Message = "first\nsecond\r\nthird\u2028fourth" };

        var json = CloudEventsExport.ToJson(e, Sequence, Source);

        Assert.DoesNotContain('\n', json);
        Assert.DoesNotContain('\r', json);
        Assert.Equal(e.Message, SampleEvents.Parse(json).GetProperty("data").GetProperty("message").GetString());
    }

    [Fact]
    public void ToJson_Sequence_OrdersAsTextAsItDoesAsNumbers()
    {
        var e = SampleEvents.Full(SecurityEventTypes.CheckDenied);
        string SequenceOf(long n) => SampleEvents.Parse(CloudEventsExport.ToJson(e, n, Source)).GetProperty("sequence").GetString()!;

        Assert.True(string.CompareOrdinal(SequenceOf(9), SequenceOf(10)) < 0);
        Assert.Equal("9223372036854775807", SequenceOf(long.MaxValue));
        Gen.Long[0, long.MaxValue].Select(Gen.Long[0, long.MaxValue]).Sample((a, b) =>
            Math.Sign(string.CompareOrdinal(SequenceOf(a), SequenceOf(b))) == a.CompareTo(b));
    }

    [Theory]
    [MemberData(nameof(Requirements))]
    public void MissingRequired_WithoutARequiredAttribute_ReportsExactlyIt(string type, string attribute)
    {
        var json = CloudEventsExport.ToJson(SampleEvents.Full(type), Sequence, Source);

        var missing = CloudEventsExport.MissingRequired(SampleEvents.Without(json, attribute));

        Assert.Equal([attribute], missing);
    }

    [Theory]
    [InlineData("id", "\"\"")]
    [InlineData("specversion", "1.0")]
    [InlineData("data", "null")]
    [InlineData("sequence", "42")]
    public void MissingRequired_AttributeEmptyOrOfTheWrongKind_ReportsIt(string attribute, string value)
    {
        var json = CloudEventsExport.ToJson(SampleEvents.Full(SecurityEventTypes.CheckDenied), Sequence, Source);

        Assert.Equal([attribute], CloudEventsExport.MissingRequired(SampleEvents.With(json, attribute, value)));
    }

    [Fact]
    public void MissingRequired_WithoutSubject_ReportsNothing()
    {
        var json = CloudEventsExport.ToJson(SampleEvents.Full(SecurityEventTypes.CheckDenied), Sequence, Source);

        Assert.Empty(CloudEventsExport.MissingRequired(SampleEvents.Without(json, "subject")));
    }

    [Fact]
    public void ToJson_InvalidArguments_Throw()
    {
        var e = SampleEvents.Full(SecurityEventTypes.CheckDenied);

        Assert.Throws<ArgumentOutOfRangeException>(() => CloudEventsExport.ToJson(e, -1, Source));
        Assert.Throws<ArgumentException>(() => CloudEventsExport.ToJson(e, 1, string.Empty));
        Assert.Throws<ArgumentNullException>(() => CloudEventsExport.ToJson(null!, 1, Source));
    }

    [Fact]
    public void TenantSource_IsAPathPerTenantWithTheTenantEscaped()
    {
        Assert.Equal("/agentsec/tenants/acme", CloudEventsExport.TenantSource("acme"));
        Assert.Equal("/agentsec/tenants/a%2Fb%20c", CloudEventsExport.TenantSource("a/b c"));
    }

    [GeneratedRegex("^[a-z0-9]{1,20}$")]
    private static partial Regex AttributeName();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339();
}
