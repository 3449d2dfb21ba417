using System.Net;
using AgentSecurity.Client;
using AgentSecurity.Client.Gateways;

namespace AgentSecurity.Grains.Tests.Client;

public sealed class GatewayAddressTests
{
    [Theory]
    [InlineData("10.0.0.5:30000", "10.0.0.5", 30000, false)]
    [InlineData("[fd00::5]:30001", "fd00::5", 30001, false)]
    [InlineData("localhost:30000", "localhost", 30000, true)]
    [InlineData("agentsec-gateway.platform.svc.cluster.local:30000", "agentsec-gateway.platform.svc.cluster.local", 30000, true)]
    [InlineData("silo.example.:65535", "silo.example.", 65535, true)]
    [InlineData("  my_silo-1:1  ", "my_silo-1", 1, true)]
    public void Parse_IpOrDnsName_GivesHostPortAndKind(string entry, string host, int port, bool isName)
    {
        var gateway = GatewayAddress.Parse(entry);

        Assert.Equal(host, gateway.Host);
        Assert.Equal(port, gateway.Port);
        Assert.Equal(isName, gateway.IsDnsName);
        Assert.Equal(isName ? null : IPAddress.Parse(host), gateway.Address);
    }

    [Theory]
    [InlineData("silo.example", "no port")]
    [InlineData("silo.example:", "no port")]
    [InlineData("10.0.0.5", "no port")]
    [InlineData("[fd00::5]", "[address]:port")]
    [InlineData("silo.example:0", "port 0")]
    [InlineData("silo.example:65536", "not a port")]
    [InlineData("silo.example:http", "not a port")]
    [InlineData("silo.example:-1", "not a port")]
    [InlineData(":30000", "no host")]
    [InlineData("fd00::5:30000", "brackets")]
    [InlineData("[silo.example]:30000", "not an IPv6 address")]
    [InlineData("[fe80::1%2]:30000", "zone")]
    [InlineData("999.1.1.1:30000", "not an IPv4 address")]
    [InlineData("silo example:30000", "neither an IP address nor a DNS name")]
    [InlineData("silo..example:30000", "neither an IP address nor a DNS name")]
    [InlineData("-silo.example:30000", "neither an IP address nor a DNS name")]
    [InlineData("http://silo.example:30000", "not a URL")]
    public void Parse_BadEntry_ThrowsFormatExceptionNamingEntryAndProblem(string entry, string problem)
    {
        var e = Assert.Throws<FormatException>(() => GatewayAddress.Parse(entry));

        Assert.Contains($"\"{entry}\"", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseList_CommaSeparatedWithBlanks_GivesEachEntryInOrder()
    {
        var gateways = GatewayAddress.ParseList(" silo-a.example:30000, ,10.0.0.5:30000,[::1]:30002 ");

        Assert.Equal(["silo-a.example:30000", "10.0.0.5:30000", "[::1]:30002"], gateways.Select(g => g.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" , ")]
    public void ParseList_NoEntry_ThrowsFormatException(string gateways)
    {
        var e = Assert.Throws<FormatException>(() => GatewayAddress.ParseList(gateways));

        Assert.Contains("no gateway given", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseList_OneBadEntryAmongGoodOnes_ThrowsNamingTheBadOne()
    {
        var e = Assert.Throws<FormatException>(() => GatewayAddress.ParseList("10.0.0.5:30000,silo.example"));

        Assert.Contains("\"silo.example\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseGateways_IpEntries_GivesEndpoints()
    {
        Assert.Equal(
            [new IPEndPoint(IPAddress.Parse("127.0.0.1"), 30000), new IPEndPoint(IPAddress.IPv6Loopback, 30001)],
            AgentSecurityClientBuilderExtensions.ParseGateways("127.0.0.1:30000,[::1]:30001"));
    }

    [Fact]
    public void ParseGateways_DnsName_ThrowsFormatExceptionNamingIt()
    {
        var e = Assert.Throws<FormatException>(() => AgentSecurityClientBuilderExtensions.ParseGateways("localhost:30000").ToList());

        Assert.Contains("\"localhost:30000\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("DNS name", e.Message, StringComparison.Ordinal);
    }
}
