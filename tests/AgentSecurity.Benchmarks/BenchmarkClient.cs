using AgentSecurity.Client;
using AgentSecurity.Testing;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;

namespace AgentSecurity.Benchmarks;

/// <summary>The benchmarks' client calls as the operator: the cluster refuses every call without a session.</summary>
internal sealed class BenchmarkClient : IClientBuilderConfigurator
{
    public void Configure(IConfiguration configuration, IClientBuilder client) => client.UseAgentSecuritySession(TestKeys.Operator);
}
