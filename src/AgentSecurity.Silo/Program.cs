using AgentSecurity.Silo;

await SiloHost.Build(args).RunAsync();
